"""One Postgres group commit of single-event ops, timed in-process (no server, no HTTP): the storage write path.

    python bench/postgres_commit.py [--ops 32] [--commits 40] [--database-url postgresql://…/postgres]

Each commit holds `--ops` ingest ops of one native event each (the shape 32 concurrent single-event
clients produce). Prints the median commit time over the commits after the first five, and the
statements one commit sends by kind, so a change in per-op statements or planning shows directly.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from common import event_body, machine
from pgdb import throwaway_database


def _event(rng: random.Random) -> Any:
    from phosphobs.storage.models import Event

    body = event_body(rng)
    meta = body["metadata"]
    return Event(event_id=body["event_id"], timestamp_us=int(time.time() * 1e6), input=body["input"],
                 output=body["output"], session_id=body["session_id"], user_id=meta["user_id"], model=meta["model"],
                 provider="openai", tokens_in=meta["token_count_input"], tokens_out=meta["token_count_output"],
                 latency_ms=meta["latency_ms"], tags=meta["tags"], metadata={}, source="api")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=32)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    from phosphobs.storage.postgres.store import PostgresStorage
    from phosphobs.storage.protocol import IngestOp

    sent: Counter[str] = Counter()
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def counting_execute(self: Any, query: Any, *rest: Any, **kwargs: Any) -> Any:
        sent[str(query).split("(")[0][:60]] += 1
        return execute(self, query, *rest, **kwargs)

    def counting_executemany(self: Any, query: Any, *rest: Any, **kwargs: Any) -> Any:
        sent["many: " + str(query).split("(")[0][:54]] += 1
        return executemany(self, query, *rest, **kwargs)

    psycopg.Cursor.execute, psycopg.Cursor.executemany = counting_execute, counting_executemany  # type: ignore[method-assign]
    with throwaway_database(args.database_url) as url:
        store = PostgresStorage(url, detect=False)
        store.migrate()
        project = store.create_project("bench", "pro", int(time.time() * 1e6))
        rng = random.Random(1)
        times = []
        for _ in range(args.commits):
            ops = [IngestOp(project.id, [_event(rng)], None) for _ in range(args.ops)]
            sent.clear()
            started = time.perf_counter()
            store.write(ops, int(time.time() * 1e6))
            times.append((time.perf_counter() - started) * 1000)
        store.close()
    print(f"machine: {machine()}")
    print(f"{args.ops} single-event ops per commit: median {statistics.median(times[5:]):.1f} ms"
          f" over {len(times) - 5} commits")
    print(f"statements per commit: {sum(sent.values())}")
    for statement, count in sent.most_common():
        print(f"  {count:4d}  {statement}")


if __name__ == "__main__":
    main()

"""The SQLite store's open and its first group commit with the writer process (the server's default).

    python bench/first_commit.py [--rounds 10]

Each round opens a fresh store with `writer_process=True` and commits one single-event op right away, as a
server does when its first request arrives just after start-up. Prints the median time to open and the
median first commit: a first commit that pays the child's start-up makes the ingest pipeline measure a
tiny commit rate and shed the burst behind it (503), so it should cost what any later commit costs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import event_body, machine


def _op(project_id: str, rng: random.Random):  # type: ignore[no-untyped-def]
    from phosphobs.storage.models import Event
    from phosphobs.storage.protocol import IngestOp

    body = event_body(rng)
    event = Event(event_id=body["event_id"], timestamp_us=int(time.time() * 1e6), input=body["input"],
                  output=body["output"], session_id=body["session_id"], metadata={}, source="api")
    return IngestOp(project_id, [event], None)


def main() -> None:
    from phosphobs.storage.sqlite.store import SqliteStorage

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(7)
    opens, firsts, seconds = [], [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            store = SqliteStorage(Path(folder) / "bench.db", writer_process=True)
            store.migrate()
            project = store.create_project("bench", "unlimited", int(time.time() * 1e6))
            opened = time.perf_counter()
            store.write([_op(project.id, rng)], int(time.time() * 1e6))
            first = time.perf_counter()
            store.write([_op(project.id, rng)], int(time.time() * 1e6))
            second = time.perf_counter()
            store.close()
        opens.append(opened - started)
        firsts.append(first - opened)
        seconds.append(second - first)
    print(machine())
    print(f"open (with migrate) median {statistics.median(opens) * 1000:.0f} ms; first commit median"
          f" {statistics.median(firsts) * 1000:.1f} ms (max {max(firsts) * 1000:.1f}); second commit median"
          f" {statistics.median(seconds) * 1000:.1f} ms  [{args.rounds} rounds]")


if __name__ == "__main__":
    main()

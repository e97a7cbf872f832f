"""Span-tree reads at scale: seed N stored spans of agent traces, then time GET /api/traces/{id} on a real server.

    python bench/trace_read.py [--spans 1000000] [--requests 300] [--database-url postgresql://…/postgres]
                               [--python OTHER/.venv/bin/python --python .venv/bin/python --rounds 2]

Seeding normalizes agent-shaped OTLP requests (`otlp_agent.py`: 4 stored spans a trace, 3 of them call
events) and writes them through `Storage.write`, the ingest code path without HTTP. Then one client times
random trace reads (the target: p95 < 50 ms at 1M spans), trace listings, and event pages of those traces
(each event with its detections and evaluations), one request at a time. A Postgres URL gets a throwaway
database; without one, a SQLite file. With several `--python` interpreters (other builds), each round starts a
server from each in turn on the same seeded database.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, machine
from otlp_agent import STORED_PER_TRACE, agent_request
from pgdb import run_on_database
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import IngestOp
from query_scale import _analyze, measure

TRACES_PER_OP = 250
BASE_NS = 1_767_225_600_000_000_000


def seed(url: str, spans: int) -> tuple[str, list[str]]:
    storage = open_storage(url, sqlite_synchronous="NORMAL")
    traces = max(1, spans // STORED_PER_TRACE)
    ids: list[str] = []
    try:
        storage.migrate()
        project = storage.create_project("default", "pro", now_us())
        storage.set_project_plan(project.id, "pro", 0)
        key, _ = create_key(storage, project, "bench")
        rng = random.Random(1)
        started = time.perf_counter()
        for done in range(0, traces, TRACES_PER_OP):
            count = min(TRACES_PER_OP, traces - done)
            batch = normalize_traces(agent_request(rng, count, BASE_NS + done * 3_000_000_000), now_us())
            ids += sorted({e.trace_id for e in batch.events if e.trace_id})
            [result] = storage.write([IngestOp(project.id, batch.events, None, trace_hints=batch.trace_hints,
                                               spans=batch.spans)], now_us())
            assert result.ok, result.error
            if done and done % (TRACES_PER_OP * 100) == 0:
                print(f"  seeded {done * STORED_PER_TRACE:,} spans"
                      f" ({done * STORED_PER_TRACE / (time.perf_counter() - started):,.0f}/s)", flush=True)
        print(f"seeded {traces * STORED_PER_TRACE:,} stored spans ({traces:,} traces)"
              f" in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        storage.close()
    _analyze(url)
    return key, ids


def run(url: str, tmp: Path, spans: int, requests: int, pythons: list[str], rounds: int) -> None:
    print(f"machine: {machine()}")
    print(f"database: {'postgres' if url.startswith('postgres') else 'sqlite'}, stored spans: {spans:,}")
    key, ids = seed(url, spans)
    for round_no in range(rounds):
        for python in pythons:
            print(f"round {round_no + 1}, server: {python}", flush=True)
            measure_server(Server(tmp, ["--database-url", url], python=python), key, ids, requests)


def measure_server(server: Server, key: str, ids: list[str], requests: int) -> None:
    rng = random.Random(2)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            measure(client, "GET /api/traces/{id}", [f"/api/traces/{rng.choice(ids)}" for _ in range(requests)])
            measure(client, "GET /api/traces", [rng.choice(["/api/traces", "/api/traces?has_errors=false",
                                                            f"/api/traces?session_id=conv-{rng.randrange(1000)}"])
                                                 for _ in range(max(requests // 5, 10))])
            events = ["/api/events", "/api/events?kind=llm", f"/api/events?session_id=conv-{rng.randrange(1000)}"]
            measure(client, "GET /api/events (traced)", [rng.choice(events) for _ in range(max(requests // 5, 10))])
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", help="postgresql://…/postgres: the run uses a throwaway database there")
    parser.add_argument("--python", action="append", help="interpreter of a build to serve from (repeatable)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    run_on_database(args.database_url, "phosphobs_traces",
                    lambda url, tmp: run(url, tmp, args.spans, args.requests, pythons, args.rounds))


if __name__ == "__main__":
    main()

"""Query speed at scale: seed N events (default 1,000,000), then time the hot read endpoints of a real server.

    python bench/query_scale.py [--events 1000000] [--database-url postgresql://…/postgres] [--requests 200]
                                [--python OTHER/.venv/bin/python --python .venv/bin/python --rounds 2]

Seeding goes straight through `Storage.write` in ops of 5,000 events (the same code path as ingest, without
HTTP). Events: ~1 KB of text, 50,000 explicit sessions of 20 events, 20,000 users, 3 models, 3 tags; one
event in 1,000 carries a rare word. Then one client measures p50/p95/p99 per endpoint, one request at a
time, with varied parameters. A Postgres URL gets a throwaway database; without one, a SQLite file.
With several `--python` interpreters (other builds, e.g. a worktree's venv), each round starts a server
from each in turn on the same seeded database: a before/after back to back.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, machine, text
from pgdb import run_on_database
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.storage.models import Event
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import IngestOp

BASE_US = 1_767_225_600_000_000
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet")
TAGS = ("prod", "beta", "eval")
OP_SIZE = 5_000


def make_events(rng: random.Random, start: int, count: int, total: int) -> list[Event]:
    events = []
    for n in range(start, start + count):
        session = n % (total // 20)
        events.append(Event(
            event_id=f"{n:012d}-bench", input=text(rng, 330) + (f" zebra{n % 97}" if n % 1000 == 0 else ""),
            output=text(rng, 500), timestamp_us=BASE_US + n * 30_000_000 // 20 + rng.randrange(1_000_000),
            session_id=f"s-{session}", user_id=f"user-{session % 20_000}", model=MODELS[n % 3],
            provider="openai", latency_ms=float(rng.randrange(100, 4000)), tokens_in=rng.randrange(10, 2000),
            tokens_out=rng.randrange(10, 800), tags=[TAGS[n % 3]], flag="failure" if n % 50 == 0 else None,
        ))
    return events


def seed(url: str, total: int) -> tuple[str, str]:
    storage = open_storage(url, sqlite_synchronous="NORMAL")
    try:
        storage.migrate()
        project = storage.create_project("default", "pro", now_us())
        storage.set_project_plan(project.id, "pro", 0)
        key, _ = create_key(storage, project, "bench")
        rng = random.Random(1)
        started = time.perf_counter()
        for start in range(0, total, OP_SIZE):
            [result] = storage.write([IngestOp(project.id, make_events(rng, start, min(OP_SIZE, total - start),
                                                                       total), None)], now_us())
            assert result.ok, result.error
            if start and start % 100_000 == 0:
                rate = start / (time.perf_counter() - started)
                print(f"  seeded {start:,} events ({rate:,.0f}/s)", flush=True)
        print(f"seeded {total:,} events in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        storage.close()
    _analyze(url)
    return project.id, key


def _analyze(url: str) -> None:
    """Fresh planner statistics, as autovacuum / `PRAGMA optimize` would give a long-running database."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("ANALYZE")
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


def measure(client: httpx.Client, name: str, paths: list[str]) -> None:
    for path in paths[:5]:  # warm the connection and caches
        client.get(path)
    latencies = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:<34} p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  p99 {q[98]:6.1f} ms  ({len(paths)} requests)",
          flush=True)


def run(url: str, tmp: Path, total: int, requests: int, pythons: list[str], rounds: int) -> None:
    print(f"machine: {machine()}")
    print(f"database: {'postgres' if url.startswith('postgres') else 'sqlite'}, events: {total:,}")
    _, key = seed(url, total)
    for round_no in range(rounds):
        for python in pythons:
            print(f"round {round_no + 1}, server: {python}", flush=True)
            measure_server(Server(tmp, ["--database-url", url], python=python), key, total, requests)


def measure_server(server: Server, key: str, total: int, requests: int) -> None:
    rng = random.Random(2)
    sessions = total // 20
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            measure(client, "GET /api/sessions", [
                rng.choice(["/api/sessions", "/api/sessions?has_failures=true", "/api/sessions?model=gpt-4o",
                            f"/api/sessions?user_id=user-{rng.randrange(20_000)}"]) for _ in range(requests)])
            measure(client, "GET /api/sessions/{id}",
                    [f"/api/sessions/s-{rng.randrange(sessions)}" for _ in range(requests)])
            measure(client, "GET /api/events (filters)", [
                rng.choice([f"/api/events?model={rng.choice(MODELS)}", f"/api/events?tag={rng.choice(TAGS)}",
                            "/api/events?flag=failure", f"/api/events?user_id=user-{rng.randrange(20_000)}",
                            f"/api/events?session_id=s-{rng.randrange(sessions)}",
                            "/api/events?model=gpt-4o&since=2026-01-03T00:00:00Z&until=2026-01-04T00:00:00Z"])
                for _ in range(requests)])
            measure(client, "GET /api/events?q= (rare word)",
                    [f"/api/events?q=zebra{rng.randrange(97)}" for _ in range(requests)])
            measure(client, "GET /api/events?q= (common words)",
                    [f"/api/events?q={rng.choice(['quantum billing', 'poem', 'refunds travel'])}"
                     for _ in range(requests)])
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", help="postgresql://…/postgres: the run uses a throwaway database there")
    parser.add_argument("--python", action="append", help="interpreter of a build to serve from (repeatable)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    run_on_database(args.database_url, "phosphobs_query",
                    lambda url, tmp: run(url, tmp, args.events, args.requests, pythons, args.rounds))


if __name__ == "__main__":
    main()

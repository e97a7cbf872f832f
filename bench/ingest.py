"""Native ingest benchmark: a real `phosphobs serve` process, load from this (separate) process.

    python bench/ingest.py [--seconds 20] [--database-url postgresql://…/postgres] [--workers 4]

Scenarios: batch (100 events of ~1 KB per request) and single events at 32 concurrent connections.
Prints events/s, request latency percentiles and server RSS (idle and under load).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, dumps, event_body, machine
from loadgen import build_request, run_load
from pgdb import throwaway_if_postgres


def bodies(kind: str, count: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        if kind == "batch":
            events = [event_body(rng) for _ in range(100)]
            for e in events:
                del e["event_id"]  # the server assigns ids: every request creates 100 new events
            out.append(dumps({"events": events}))
        else:
            e = event_body(rng)
            del e["event_id"]
            out.append(dumps(e))
    return out


def scenario(server: Server, kind: str, connections: int, seconds: float) -> dict:
    path = "/api/ingest/batch" if kind == "batch" else "/api/ingest"
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
    pool = [build_request("POST", path, "127.0.0.1", headers, b) for b in bodies(kind, 200)]
    counter = iter(range(10**12))

    def make() -> bytes:
        return pool[next(counter) % len(pool)]

    peak = [0.0]
    done = threading.Event()

    def watch_rss() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], server.rss_mb())

    watcher = threading.Thread(target=watch_rss, daemon=True)
    watcher.start()
    result = asyncio.run(run_load("127.0.0.1", server.port, make, connections, seconds))
    done.set()
    ok = sum(n for code, n in result.statuses.items() if 200 <= code < 300)
    per_request = 100 if kind == "batch" else 1
    return {
        "scenario": kind, "connections": connections, "requests_per_s": ok / result.elapsed,
        "events_per_s": ok * per_request / result.elapsed, "p50_ms": result.percentile(50) * 1000,
        "p99_ms": result.percentile(99) * 1000, "statuses": result.statuses, "peak_rss_mb": peak[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", help="postgresql://…/postgres: the run uses a throwaway database there")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", choices=["batch", "single"], help="run one scenario (e.g. to profile it)")
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--detection", choices=["on", "off"], default="on",
                        help="queue events for detection and run the rules worker (PHOSPHOBS_DETECTION)")
    args = parser.parse_args()
    throwaway_if_postgres(args, run)


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--workers", str(args.workers)]
        if args.database_url:
            extra += ["--database-url", args.database_url]
        server = Server(Path(tmp), extra, env={"PHOSPHOBS_DETECTION": "true" if args.detection == "on" else "false"})
        try:
            db = ["--data-dir", tmp] + (["--database-url", args.database_url] if args.database_url else [])
            subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "projects", "set-plan", "default", "--plan",
                            "pro", "--rate-limit", "0", *db], check=True, capture_output=True)
            time.sleep(1)
            idle = server.rss_mb()
            print(f"machine: {machine()}")
            print(f"database: {'postgres' if args.database_url else 'sqlite'}, workers: {args.workers},"
                  f" detection: {args.detection}")
            print(f"server idle RSS: {idle:.0f} MB")
            for kind, connections in (("batch", args.batch_connections), ("single", 32)):
                if args.only not in (None, kind):
                    continue
                r = scenario(server, kind, connections, args.seconds)
                print(f"{r['scenario']:>6}: {r['events_per_s']:>9,.0f} events/s  {r['requests_per_s']:>7,.0f} req/s"
                      f"  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  conns {r['connections']}"
                      f"  peak RSS {r['peak_rss_mb']:.0f} MB  statuses {r['statuses']}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()

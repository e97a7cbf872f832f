"""Overload: many concurrent clients; every request must get an answer, fast (an ack or a refusal).

    python bench/overload.py [--clients 800] [--seconds 30] [--events 10] [--timeout 30] [--otlp]

Each client is one keep-alive connection sending native batches of `--events` ~1 KB events (or, with
`--otlp`, OTLP/HTTP protobuf requests of as many LLM spans) back to back, honouring Retry-After (with
jitter) as OTLP exporters do. A request is *answered* when any HTTP status comes back within
`--timeout` seconds; a timeout, reset or close without a status counts as unanswered (the client then
reconnects). Reports p50/p99 of the time to an answer, statuses, the unanswered count, and checks that
every acknowledged event is in the database (goal: p99 < 2 s, 0 unanswered).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, event_body, machine
from loadgen import build_request
from otlp_ingest import request_body


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    slow_sent_at: list[float] = field(default_factory=list)  # when each answer slower than 2 s was asked
    statuses: dict[int, int] = field(default_factory=dict)
    unanswered: int = 0
    acked: set[int] = field(default_factory=set)  # bodies acknowledged at least once

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def read_status(reader: asyncio.StreamReader) -> tuple[int, bool, float]:
    """(status, server closes the connection, Retry-After seconds or 0)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, closing, retry_after = 0, False, 0.0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            closing = True
        elif name.strip().lower() == b"retry-after":
            retry_after = float(value)
    if length:
        await reader.readexactly(length)
    return status, closing, retry_after


async def client(port: int, make, items: int, until: float, timeout: float, tally: Tally) -> None:
    """One keep-alive connection; `make()` gives (body index, request bytes)."""
    reader = writer = None
    while time.perf_counter() < until:
        if writer is None:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
            except (OSError, TimeoutError):
                tally.unanswered += 1
                await asyncio.sleep(0.1)
                continue
        index, request = make()
        started = time.perf_counter()
        try:
            writer.write(request)
            status, closing, retry_after = await asyncio.wait_for(read_status(reader), timeout)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            tally.unanswered += 1
            writer.close()
            reader = writer = None
            continue
        tally.latencies.append(time.perf_counter() - started)
        if tally.latencies[-1] > 2.0:
            tally.slow_sent_at.append(started)
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            tally.acked.add(index)
        elif status in (429, 503):
            await asyncio.sleep(retry_after * random.uniform(0.5, 1.5))  # as OTLP exporters do, with jitter
        if closing:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--events", type=int, default=10, help="events (or spans) per request")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--otlp", action="store_true", help="OTLP/HTTP protobuf instead of native batches")
    parser.add_argument("--pool", type=int, default=3000, help="distinct request bodies, built in advance")
    parser.add_argument("--detection", choices=["on", "off"], default="on",
                        help="queue events for detection and run the rules worker (PHOSPHOBS_DETECTION)")
    args = parser.parse_args()
    print(f"machine: {machine()}, detection: {args.detection}")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), env={"PHOSPHOBS_DETECTION": "true" if args.detection == "on" else "false"})
        try:
            subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "projects", "set-plan", "default", "--plan",
                            "pro", "--rate-limit", "0", "--data-dir", tmp], check=True, capture_output=True)
            # built before the clock starts so the load generator spends its CPU on connections only;
            # when the pool is used up it starts over (resent bodies are duplicates, stored once)
            if args.otlp:
                headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/x-protobuf"}
                pool = [build_request("POST", "/v1/traces", "127.0.0.1", headers, request_body(rng, args.events))
                        for _ in range(args.pool)]
            else:
                headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
                pool = [build_request("POST", "/api/ingest/batch", "127.0.0.1", headers, json.dumps(
                    {"events": [event_body(rng) for _ in range(args.events)]}).encode()) for _ in range(args.pool)]
            sent = itertools.count()

            def make() -> tuple[int, bytes]:
                index = next(sent) % len(pool)
                return index, pool[index]

            time.sleep(1)
            tally = Tally()

            lags: list[float] = []

            async def lag_probe(until: float) -> None:
                """How late this load generator's own loop runs: its share of every measured latency."""
                while time.perf_counter() < until:
                    due = time.perf_counter() + 0.05
                    await asyncio.sleep(0.05)
                    lags.append(time.perf_counter() - due)

            async def run() -> None:
                until = time.perf_counter() + args.seconds
                await asyncio.gather(lag_probe(until), *(client(server.port, make, args.events, until, args.timeout,
                                                                tally) for _ in range(args.clients)))

            started = time.perf_counter()
            asyncio.run(run())
            elapsed = time.perf_counter() - started
            rss = server.rss_mb()
        finally:
            server.stop()
        stored = sqlite3.connect(Path(tmp) / "phosphobs.db").execute("SELECT COUNT(*) FROM events").fetchone()[0]
    answered = len(tally.latencies)
    kind = "OTLP" if args.otlp else "native"
    statuses = dict(sorted(tally.statuses.items()))
    print(f"{args.clients} clients for {elapsed:.0f} s ({kind}, {args.events} per request): {answered:,} answered,"
          f" {tally.unanswered} unanswered (goal 0), statuses {statuses}")
    print(f"time to ack or refusal: p50 {tally.percentile(50) * 1000:.0f} ms, p99 {tally.percentile(99) * 1000:.0f} ms"
          f" (goal p99 < 2 s), max {max(tally.latencies, default=float('nan')) * 1000:.0f} ms; server RSS {rss:.0f} MB")
    if tally.slow_sent_at:  # when the slow answers were asked: at the first burst, or all along
        by_second = Counter(int(sent - started) for sent in tally.slow_sent_at)
        print(f"answers over 2 s: {len(tally.slow_sent_at)}, by the second of the run they were sent in:"
              f" {dict(sorted(by_second.items()))}")
    lags.sort()
    print(f"load generator's own loop lag: p50 {lags[len(lags) // 2] * 1000:.0f} ms,"
          f" p99 {lags[int(len(lags) * 0.99)] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    acked = len(tally.acked) * args.events
    print(f"distinct acknowledged items {acked:,}, in the database {stored:,}"
          f" ({'ok' if stored >= acked else 'LOST ACKNOWLEDGED DATA'})")


if __name__ == "__main__":
    main()

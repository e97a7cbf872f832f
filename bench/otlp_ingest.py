"""OTLP ingest benchmark: spans persisted per second (protobuf, ~100 spans per request, real server).

    python bench/otlp_ingest.py [--requests 600] [--connections 8] [--workers 1] [--shape llm|agent]

`--shape llm` (default): independent LLM call spans, one per trace. `--shape agent`: agent runs
(`otlp_agent.py`: an agent span, two LLM spans with an HTTP child each, a tool span; ~17 traces of 6
spans per request), so the span tree is written too.

Request bodies (fresh trace/span ids each, GenAI semconv attributes with ~600 bytes of messages) are
built before the clock starts, so the measured time is the server's. Every acknowledged span is
committed (the server answers only after its group commit); the count is checked in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, machine, text
from loadgen import build_request, run_load
from otlp_agent import SPANS_PER_TRACE, STORED_PER_TRACE, agent_request
from pgdb import throwaway_if_postgres


def kv(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def request_body(rng: random.Random, spans: int) -> bytes:
    out: list[Span] = []
    start = time.time_ns()
    for i in range(spans):
        prompt, answer = text(rng, 250), text(rng, 350)
        out.append(Span(
            trace_id=rng.randbytes(16), span_id=rng.randbytes(8), name="chat gpt-4o-mini", kind=Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start + i * 1000, end_time_unix_nano=start + i * 1000 + 800_000_000,
            attributes=[
                kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
                kv("gen_ai.request.model", "gpt-4o-mini"), kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                kv("gen_ai.usage.input_tokens", rng.randrange(10, 2000)),
                kv("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
                kv("gen_ai.conversation.id", f"conv-{rng.randrange(1000)}"),
                kv("gen_ai.input.messages",
                   json.dumps([{"role": "user", "parts": [{"type": "text", "content": prompt}]}])),
                kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text",
                                                                                         "content": answer}]}])),
            ],
        ))
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=None, scope_spans=[ScopeSpans(spans=out)])])
    return req.SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--spans", type=int, default=100)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", help="postgresql://…/postgres: the run uses a throwaway database there")
    parser.add_argument("--workers", type=int, default=1, help="server processes (SQLite too: one shared file)")
    parser.add_argument("--detection", choices=["on", "off"], default="on",
                        help="queue events for detection and run the rules worker (PHOSPHOBS_DETECTION)")
    parser.add_argument("--shape", choices=("llm", "agent"), default="llm")
    args = parser.parse_args()
    if args.shape == "agent":
        args.spans = args.spans // SPANS_PER_TRACE * SPANS_PER_TRACE or SPANS_PER_TRACE
    throwaway_if_postgres(args, run)


def run(args: argparse.Namespace) -> None:
    rng = random.Random(3)
    print(f"machine: {machine()}")
    print(f"building {args.requests} requests of {args.spans} spans…")
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--database-url", args.database_url] if args.database_url else []
        server = Server(Path(tmp), [*extra, "--workers", str(args.workers)],
                        env={"PHOSPHOBS_DETECTION": "true" if args.detection == "on" else "false"})
        try:
            import subprocess

            db = ["--data-dir", tmp, *extra]
            subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "projects", "set-plan", "default", "--plan",
                            "pro", "--rate-limit", "0", *db], check=True, capture_output=True)
            headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/x-protobuf"}
            def body() -> bytes:
                if args.shape == "agent":
                    return agent_request(rng, args.spans // SPANS_PER_TRACE, time.time_ns()).SerializeToString()
                return request_body(rng, args.spans)

            pool = [build_request("POST", "/v1/traces", "127.0.0.1", headers, body()) for _ in range(args.requests)]
            items = iter(pool)
            lock = threading.Lock()

            def make() -> bytes | None:
                with lock:
                    return next(items, None)

            time.sleep(1)
            cpu_before, own_before = server.cpu_seconds(), time.process_time()
            result = asyncio.run(run_load("127.0.0.1", server.port, make, args.connections, 600))
            cpu_after, own = server.cpu_seconds(), time.process_time() - own_before
            ok = result.statuses.get(200, 0)
            check = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/events?limit=1",
                                           headers={"Authorization": f"Bearer {server.key}"})
            urllib.request.urlopen(check).read()
            print(f"otlp ({args.shape}): {ok * args.spans / result.elapsed:,.0f} spans/s persisted"
                  f"  {ok / result.elapsed:,.1f} req/s"
                  f"  p50 {result.percentile(50) * 1000:.1f} ms  p99 {result.percentile(99) * 1000:.1f} ms"
                  f"  conns {args.connections}  workers {args.workers}  detection {args.detection}"
                  f"  statuses {result.statuses}"
                  f"  RSS {server.rss_mb():.0f} MB")
            spans = max(ok * args.spans, 1)
            per_process = "  ".join(f"pid {pid} {(cpu_after[pid] - cpu_before.get(pid, 0.0)) / spans * 1e6:.0f}"
                                    for pid in sorted(cpu_after))
            print(f"CPU us/span: server {per_process}  load generator {own / spans * 1e6:.0f}"
                  f"  (wall {result.elapsed / spans * 1e6:.0f} us/span on {os.cpu_count()} cores)")
        finally:
            server.stop()
        import sqlite3

        if not args.database_url:
            db = sqlite3.connect(Path(tmp) / "phosphobs.db")
            count = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            rows = db.execute("SELECT COUNT(*) FROM spans WHERE pending = 0").fetchone()[0]
            print(f"events in the database after shutdown: {count:,}; span rows: {rows:,}")
            if args.shape == "agent":
                expected = ok * args.spans // SPANS_PER_TRACE * STORED_PER_TRACE
                print(f"stored tree spans: {count + rows:,} (expected {expected:,})")


if __name__ == "__main__":
    main()

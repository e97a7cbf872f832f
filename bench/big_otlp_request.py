"""One big OTLP request: memory and time of a ~2 MB gzip body of tiny spans, with /healthz sampled throughout.

    python bench/big_otlp_request.py [--spans 230000] [--repeat 3] [--max-spans-per-request N]

The body is the issue's shape: hundreds of thousands of tiny spans (sequential ids, two short
attributes, ~270 bytes each decoded) that gzip to ~2 MB. By default the server refuses it whole (413:
over `PHOSPHOBS_MAX_SPANS_PER_REQUEST`); `--max-spans-per-request` raises the limit to measure a body
that is decoded and normalized in full. Goals: server RSS +< 200 MB, every /healthz answered in < 1 s.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

sys.path.insert(0, str(Path(__file__).parent))

from common import Server, machine

NOTE = "a tiny span from a loop that traces every step of a long computation " * 2


def body(spans: int) -> tuple[bytes, int]:
    """(gzip body, decoded size) of `spans` tiny spans."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    start = time.time_ns()
    for i in range(spans):
        scope.spans.append(Span(
            trace_id=(i // 10 + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"), name=f"step {i % 50}",
            kind=Span.SPAN_KIND_INTERNAL, start_time_unix_nano=start + i, end_time_unix_nano=start + i + 1000,
            attributes=[KeyValue(key="component", value=AnyValue(string_value="tiny-span-generator-module")),
                        KeyValue(key="iteration", value=AnyValue(int_value=i)),
                        KeyValue(key="note", value=AnyValue(string_value=NOTE))],
        ))
    raw = request.SerializeToString()
    return gzip.compress(raw, 6), len(raw)


class Sampler(threading.Thread):
    """Samples the server's RSS and /healthz latency every `interval` seconds until stopped."""

    def __init__(self, server: Server, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.interval = interval
        self.stopped = threading.Event()
        self.rss: list[float] = []
        self.health: list[float] = []
        self.unanswered = 0

    def run(self) -> None:
        url = f"http://127.0.0.1:{self.server.port}/healthz"
        while not self.stopped.is_set():
            self.rss.append(self.server.rss_mb())
            started = time.perf_counter()
            try:
                urllib.request.urlopen(url, timeout=30).read()
                self.health.append(time.perf_counter() - started)
            except OSError:
                self.unanswered += 1
            self.stopped.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=230_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-spans-per-request", type=int, help="raise the server's per-request span limit")
    parser.add_argument("--detection", choices=["on", "off"], default="on",
                        help="queue events for detection and run the rules worker (PHOSPHOBS_DETECTION)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    gz, decoded = body(args.spans)
    print(f"body: {args.spans:,} spans, {len(gz) / 1e6:.2f} MB gzip, {decoded / 1e6:.1f} MB decoded")
    env = {"PHOSPHOBS_MAX_DECOMPRESSED_BYTES": str(max(decoded + 1024, 64 * 1024 * 1024)),
           "PHOSPHOBS_DETECTION": "true" if args.detection == "on" else "false"}
    if args.max_spans_per_request:
        env["PHOSPHOBS_MAX_SPANS_PER_REQUEST"] = str(args.max_spans_per_request)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), env=env)
        try:
            time.sleep(1)
            baseline = server.rss_mb()
            sampler = Sampler(server)
            sampler.start()
            time.sleep(0.5)
            for n in range(args.repeat):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{server.port}/v1/traces", data=gz, method="POST",
                    headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/x-protobuf",
                             "Content-Encoding": "gzip"})
                started = time.perf_counter()
                try:
                    status = urllib.request.urlopen(request, timeout=120).status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                print(f"request {n + 1}: {status} in {time.perf_counter() - started:.2f} s")
            time.sleep(0.5)
            sampler.stopped.set()
            sampler.join()
        finally:
            server.stop()
    health = sorted(sampler.health)
    worst = health[-1] if health else float("nan")
    peak = max(sampler.rss, default=baseline)
    print(f"RSS: baseline {baseline:.0f} MB, peak {peak:.0f} MB (+{peak - baseline:.0f} MB; goal +< 200 MB)")
    print(f"/healthz: {len(health)} answered, {sampler.unanswered} unanswered, worst {worst * 1000:.0f} ms,"
          f" p50 {health[len(health) // 2] * 1000 if health else float('nan'):.0f} ms (goal: all < 1 s)")


if __name__ == "__main__":
    main()

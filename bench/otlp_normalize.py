"""Micro-benchmark of the pure OTLP path: decode + normalize of GenAI semconv chat spans (no server).

    python bench/otlp_normalize.py [--requests 20] [--spans 100] [--repeat 3]

Prints µs per span for decode, normalize, and both, best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from otlp_ingest import request_body
from phosphobs.collector.otlp.decode import decode_traces
from phosphobs.collector.otlp.normalize import normalize_traces

PROTOBUF = "application/x-protobuf"
CAP = 1 << 26


def best_of(repeat: int, run: Callable[[], None]) -> float:
    """The fastest of `repeat` timed runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--spans", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    bodies = [request_body(rng, args.spans) for _ in range(args.requests)]
    decoded = [decode_traces(body, PROTOBUF, None, CAP) for body in bodies]
    total = args.requests * args.spans

    def decode() -> None:
        for body in bodies:
            decode_traces(body, PROTOBUF, None, CAP)

    def normalize() -> None:
        for request in decoded:
            normalize_traces(request, 0)

    def both() -> None:
        for body in bodies:
            normalize_traces(decode_traces(body, PROTOBUF, None, CAP), 0)

    for name, run in (("decode", decode), ("normalize", normalize), ("both", both)):
        print(f"{name:>9}: {best_of(args.repeat, run) / total * 1e6:7.1f} us/span")


if __name__ == "__main__":
    main()

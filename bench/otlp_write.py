"""Micro-benchmark of the SQLite write path alone for OTLP spans: normalized batches → group commits.

    python bench/otlp_write.py [--requests 300] [--spans 100] [--per-commit 8]

Requests are decoded and normalized before the clock starts; the clock covers only `storage.write`
(one call per group commit of `--per-commit` requests, as the pipeline's writer makes them), on a
fresh database file with `synchronous=FULL`. Prints wall and CPU µs per span (CPU time is the steadier
figure on a shared machine), database bytes per span and the WAL file's size.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from otlp_ingest import request_body
from phosphobs.collector.otlp.decode import decode_traces
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.clock import now_us
from phosphobs.storage.pricing import estimate_costs
from phosphobs.storage.protocol import IngestOp
from phosphobs.storage.sqlite.store import SqliteStorage


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--spans", type=int, default=100)
    parser.add_argument("--per-commit", type=int, default=8)
    parser.add_argument("--detection", choices=["on", "off"], default="on",
                        help="queue every new event for detection in the write transaction (its only write-path cost)")
    args = parser.parse_args()
    rng = random.Random(5)
    now = now_us()
    project = str(uuid.uuid4())  # project ids are UUIDs, repeated in every index entry
    ops = []
    for _ in range(args.requests):
        batch = normalize_traces(decode_traces(request_body(rng, args.spans), "application/x-protobuf", None,
                                               1 << 26), now)
        estimate_costs(batch.events)
        ops.append(IngestOp(project_id=project, events=batch.events, rate_limit_per_min=None, patches=batch.patches,
                            trace_hints=batch.trace_hints, received_us=now))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        storage = SqliteStorage(path, detect=args.detection == "on")
        storage.migrate()
        wal = path.with_name(path.name + "-wal")
        written = 0
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(0, len(ops), args.per_commit):
            storage.write(ops[i : i + args.per_commit], now)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        written = wal.stat().st_size if wal.exists() else 0
        spans = args.requests * args.spans
        storage.close()  # checkpoints the WAL into the file, so its size counts everything
        size = path.stat().st_size
    print(f"detection {args.detection}  write: {elapsed / spans * 1e6:.1f} us/span ({spans / elapsed:,.0f} spans/s),"
          f" CPU {cpu / spans * 1e6:.1f} us/span  db {size / spans:,.0f} B/span  wal file {written / 1e6:.0f} MB")


if __name__ == "__main__":
    main()

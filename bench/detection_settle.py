"""The detection worker's completion of claimed batches: recording verdicts and settling each event's flag.

    python bench/detection_settle.py [--events 20000] [--batch 100] [--database-url postgresql://…/postgres]

Seeds `--events` OTLP-shaped call events (ten per trace, a session per trace) through `Storage.write`, then
claims and completes the whole queue in batches of `--batch` with one rules verdict each, as the worker does,
and reports events settled per second and the median completion of a batch. Run it from two builds (e.g. a
worktree's venv) to compare them: the store is opened from whatever `phosphobs` the interpreter imports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import machine
from pgdb import run_on_database

BASE_US = 1_767_225_600_000_000


def run(url: str, total: int, batch: int) -> None:
    from phosphobs.storage.detection_records import Detection, Outcome
    from phosphobs.storage.models import Event, otlp_event_id
    from phosphobs.storage.open import open_storage
    from phosphobs.storage.protocol import IngestOp

    storage = open_storage(url, sqlite_synchronous="NORMAL")
    try:
        storage.migrate()
        project = storage.create_project("bench", "pro", BASE_US)
        storage.set_project_plan(project.id, "pro", 0)
        for start in range(0, total, 1000):
            events = []
            for n in range(start, min(start + 1000, total)):
                trace, span = f"{n // 10:032x}", f"{n + 1:016x}"
                events.append(Event(event_id=otlp_event_id(trace, span), input=f"question {n}",
                                    output=f"answer {n}", timestamp_us=BASE_US + n * 1000, source="otlp",
                                    kind="llm", trace_id=trace, span_id=span, session_id=f"s-{n // 10}",
                                    model="gpt-4o-mini", tokens_in=10, tokens_out=20))
            [result] = storage.write([IngestOp(project.id, events, None)], BASE_US)
            assert result.ok, result.error
        times: list[float] = []
        settled = 0
        started = time.perf_counter()
        while True:
            with storage.claim_detections(batch, BASE_US + 10**12) as claim:  # type: ignore[attr-defined]
                if not claim.items:
                    break
                outcomes = [Outcome(i.seq, i.stored.project_id, i.stored.event.event_id,
                                    [Detection("rules", "1", None, None, None, None, created_us=BASE_US)])
                            for i in claim.items]
                began = time.perf_counter()
                claim.complete(outcomes, BASE_US + 1)
                times.append(time.perf_counter() - began)
                settled += len(outcomes)
        elapsed = time.perf_counter() - started
    finally:
        storage.close()
    print(f"{'postgres' if url.startswith('postgres') else 'sqlite'}: settled {settled:,} events in {elapsed:.1f} s"
          f" ({settled / elapsed:,.0f}/s); complete() median {statistics.median(times) * 1000:.2f} ms"
          f" per batch of {batch}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--database-url", help="postgresql://…/postgres: a throwaway database there")
    args = parser.parse_args()
    print(machine())
    run_on_database(args.database_url, "phosphobs_settle", lambda url, _: run(url, args.events, args.batch))


if __name__ == "__main__":
    main()

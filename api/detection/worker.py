"""The detection worker: a background thread per server process that drains the detection queue.

Ingest never waits for it: events are queued in their ingest transaction and judged here, after a
short settle delay (content that travels separately, an OTLP log record, has time to join its span).
A slow or failing detector only grows the queue; a judge over its budget leaves the entry queued for
later while the rules verdict is recorded at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from phosphobs.api.detection import rules
from phosphobs.api.detection.budget import Budget
from phosphobs.api.detection.judge import Judge, build_messages
from phosphobs.storage.detection_records import Detection, Outcome, QueuedEvent
from phosphobs.storage.protocol import DetectionStore

log = logging.getLogger("phosphobs.detection")
EXAMPLES = 8
TURNS = 6
# While ingest is busy the worker takes at most this share of the time (it shares the process, and on
# SQLite the database, with ingest): detection is deferrable, ingest is not. Idle ingest: full speed.
BUSY_SHARE = 0.1
# An ingest burst shorter than this is never slowed by detection: the worker waits for a quiet moment
# (a thread beside the event loop costs ingest far more than its own CPU, through the GIL and, on
# SQLite, the write lock). Only a burst longer than this gets the worker's BUSY_SHARE, so the lag stays
# bounded under sustained load.
DEFER_SECONDS = 30.0


@dataclass
class WorkerStats:
    """Counters for /metrics, per process."""

    detections: dict[tuple[str, str], int] = field(default_factory=dict)  # (detector, flag|abstain|error)
    judge_tokens_in: int = 0
    judge_tokens_out: int = 0
    batches: int = 0

    def record(self, d: Detection) -> None:
        key = (d.detector, d.flag or ("error" if d.error else "abstain"))
        self.detections[key] = self.detections.get(key, 0) + 1
        if d.detector == "judge":
            self.judge_tokens_in += d.tokens_in or 0
            self.judge_tokens_out += d.tokens_out or 0


class DetectionWorker:
    def __init__(self, store: DetectionStore, *, judge: Judge | None, budget: Budget | None,
                 settle_seconds: float, batch_size: int = 200, judge_concurrency: int = 4,
                 poll_seconds: float = 0.5, clock_us: Callable[[], int] = lambda: time.time_ns() // 1000,
                 ingest_busy: Callable[[], bool] = lambda: False) -> None:
        """`ingest_busy`: whether ingest committed or queued anything since the last call."""
        self._store = store
        self._judge = judge
        self._budget = budget
        self._settle_us = int(settle_seconds * 1_000_000)
        self._batch = batch_size
        self._poll = poll_seconds
        self._ingest_busy = ingest_busy
        self._clock_us = clock_us
        self._pool = ThreadPoolExecutor(judge_concurrency, thread_name_prefix="phosphobs-judge") if judge else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = WorkerStats()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="phosphobs-detection", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in hand (an unfinished claim is simply left queued)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._judge is not None:
            self._judge.close()

    def _run(self) -> None:
        busy_since: float | None = None
        while not self._stop.is_set():
            started = time.monotonic()
            busy = self._ingest_busy()
            if not busy:
                busy_since = None
            elif busy_since is None:
                busy_since = started
            if busy_since is not None and started - busy_since < DEFER_SECONDS:
                self._stop.wait(self._poll)  # a burst: detection waits for the quiet after it
                continue
            try:
                worked = self.run_once()
            except Exception:  # the database is down or the batch failed: it stays queued, try later
                log.exception("detection batch failed; its events stay queued")
                worked = 0
            if not worked:
                self._stop.wait(self._poll)
            elif busy:
                spent = time.monotonic() - started
                self._stop.wait(min(self._poll * 10, spent * (1 - BUSY_SHARE) / BUSY_SHARE))

    def run_once(self) -> int:
        """Claim one batch, detect, record; returns how many entries it handled."""
        now = self._clock_us()
        with self._store.claim_detections(self._batch, now - self._settle_us) as claim:
            if not claim.items:
                return 0
            outcomes = self._detect_all(claim.items)
            claim.complete(outcomes, self._clock_us())
        self.stats.batches += 1
        for o in outcomes:
            for d in o.detections:
                self.stats.record(d)
        return len(outcomes)

    def _detect_all(self, items: list[QueuedEvent]) -> list[Outcome]:
        if self._pool is None:
            outcomes = []
            for item in items:
                outcomes.append(self._detect(item))
                time.sleep(0)  # hand the GIL to the event loop between events, not every 5 ms
            return outcomes
        return list(self._pool.map(self._detect, items))

    def _detect(self, item: QueuedEvent) -> Outcome:
        """One event. Its session's neighbours are read only when something needs them: the previous
        answer when this message says it was wrong, the next message on a re-run (in order, the next
        message blames this one itself), earlier turns for the judge."""
        stored, event = item.stored, item.stored.event
        now = self._clock_us()
        outcome = Outcome(item.seq, stored.project_id, event.event_id)
        session = stored.session_id
        verdict = None
        if item.rerun or (rules.NAME, rules.VERSION) not in item.done:
            later = None
            if item.rerun and session is not None:
                later = self._store.session_neighbours(stored.project_id, session, event.timestamp_us,
                                                       stored.seq, 0)[1]
            verdict = rules.detect(event, later["input"] if later is not None else None, now)
            outcome.detections.append(verdict)
            if session is not None and rules.says_wrong(event.input):
                earlier = self._store.session_neighbours(stored.project_id, session, event.timestamp_us,
                                                         stored.seq, 1)[0]
                if earlier:
                    outcome.blame_previous = (earlier[-1]["event_id"], rules.blame(event.input, now))
        judge = self._judge
        if judge is None or event.kind not in ("llm", "event") or not (event.input.strip() or event.output.strip()):
            return outcome
        if verdict is not None and verdict.evidence == "hard":
            return outcome  # rules already decide; the judge's budget is kept for real questions
        if not item.rerun and (judge.NAME, judge.config.version) in item.done:
            return outcome
        if not self._store.judge_enabled(stored.project_id):
            return outcome  # the project opted out: its content is sent nowhere
        if self._budget is not None and not self._budget.try_acquire():
            outcome.retry_at_us = now + int(max(1.0, self._budget.wait_seconds()) * 1_000_000) - self._settle_us
            return outcome
        turns = []
        if session is not None:
            earlier = self._store.session_neighbours(stored.project_id, session, event.timestamp_us, stored.seq,
                                                     TURNS)[0]
            turns = [(r["input"], r["output"]) for r in earlier]
        examples = self._store.judge_examples(stored.project_id, EXAMPLES)
        examples = [e for e in examples if (e[0], e[1]) != (event.input, event.output)]
        outcome.detections.append(judge.judge(build_messages(event, examples, turns), now))
        return outcome

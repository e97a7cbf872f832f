"""`IngestPipeline`: a bounded queue drained by writer threads in group commits.

Each request awaits its own future, resolved only after the transaction holding its op has committed,
so a 2xx still means "on disk" while many concurrent requests share one commit. When the queue is full
the submitter is told to come back later (503 + Retry-After) instead of memory growing.

Admission happens before a request is read: `admit` reserves the request's bytes (its declared length,
then its decoded size) against a byte budget that holds until the request is answered, and refuses at
once when a request admitted now would wait more than `max_queue_wait` seconds (the queued items at the
measured commit rate, or the bytes of the requests in flight at the measured rate of answered bytes).
An overloaded server so answers 503 in milliseconds instead of after reading, parsing and queueing a
body it will not commit in time.

An op that a commit cannot encode or store (a data problem, not a database one) fails alone: the
group is retried op by op, so only that op's request is refused (`OpRefused`, a 4xx).

One writer thread by default. A storage that can take the next commit while one is running (the
SQLite writer process queues it in its pipe) gets `commits_in_flight` threads, so the database never
waits for the parent between two commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from phosphobs.collector.offload import Offloader
from phosphobs.collector.rate_gate import RateGate
from phosphobs.collector.submit import OpRefused, PipelineClosed, PipelineFull, Reservation
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import EventWriter, IngestOp, WriteOp, WriteResult

log = logging.getLogger("phosphobs.pipeline")

ANSWER_WINDOW = 5.0  # seconds of answered requests that measure the answer rate (in bytes)
MIN_ANSWERS = 20  # fewer answers than this in the window: the answer rate is not measured
UNMEASURED_IN_FLIGHT = 128  # requests admitted at once while the answer rate is not measured


# Raised while encoding or applying one op's data; anything else (the database, the writer process)
# is a failure of the whole commit and stays retryable.
DATA_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)


@dataclass(slots=True)
class _Item:
    op: WriteOp
    size: int
    done: Callable[[WriteResult | BaseException], None] | None


def _op_size(op: WriteOp) -> int:
    return len(op.events) + len(op.patches) + len(op.evaluations) if isinstance(op, IngestOp) else 1


class IngestPipeline:
    def __init__(
        self,
        storage: EventWriter,
        *,
        max_queued_items: int = 50_000,
        max_commit_items: int = 5_000,
        commits_in_flight: int = 1,
        max_queued_bytes: int = 256 * 1024 * 1024,
        max_queue_wait: float = 1.0,
        clock_us: Callable[[], int] = now_us,
    ) -> None:
        self._storage = storage
        self._max_queued = max_queued_items
        self._max_bytes = max_queued_bytes
        self._max_wait = max_queue_wait
        self._reserved = 0
        self._inflight = 0  # admitted requests not answered yet
        self._answered: deque[tuple[float, int]] = deque()  # (when, bytes) of recently answered requests
        self._answered_bytes = 0  # their sum
        self._rate = 0.0  # items committed per second (moving average); 0 until the first commit
        self.rate_gate = RateGate()  # fed by every commit's rate-limit outcome, read by receivers
        self.offload = Offloader().run  # where receivers decode and normalize what they admitted
        self._max_commit = max_commit_items
        self._clock_us = clock_us
        self._writers = max(1, commits_in_flight)
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._queued = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = True
        self.commits = 0
        self.committed_items = 0
        self.last_commit_seconds = 0.0
        self.dropped = 0

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def reserved_bytes(self) -> int:
        return self._reserved

    def expected_wait(self) -> float:
        """Seconds a request admitted now would wait: the longer of the queued items at the measured
        commit rate, and the bytes in flight at the measured rate of answered bytes (Little's law; this
        one also sees work waiting for the CPU to be decoded, before it reaches the queue). Bytes, not
        requests: after a run of 100-event batches, 32 single events in flight are not 32 batches' work.
        0 while unmeasured."""
        wait, _ = self._expected_wait()
        return wait

    def _expected_wait(self) -> tuple[float, bool]:
        """(wait, whether the answer rate is measured)."""
        rate = self._rate
        queue_wait = self._queued / rate if rate > 0 and self._queued else 0.0
        with self._lock:
            answered = self._answered
            now = time.monotonic()
            while answered and answered[0][0] < now - ANSWER_WINDOW:
                self._answered_bytes -= answered.popleft()[1]
            if len(answered) < MIN_ANSWERS or self._answered_bytes <= 0:
                return queue_wait, False
            per_second = self._answered_bytes / max(now - answered[0][0], 0.5)
            return max(queue_wait, self._reserved / per_second), True

    def admit(self, nbytes: int) -> Reservation:
        """Reserve `nbytes` for a request about to be read, or raise PipelineFull to shed it now.

        Until the answer rate is measured (a burst after a quiet spell), at most `UNMEASURED_IN_FLIGHT`
        requests are admitted at once, so a burst cannot pile up more work than the budget allows
        before the first answers say how fast the server goes."""
        if self._closed:
            raise PipelineClosed("server is shutting down")
        wait, measured = self._expected_wait()
        if wait > self._max_wait:
            raise PipelineFull(f"ingest queue holds {wait:.1f} s of work (budget {self._max_wait:g} s)",
                               retry_after=max(1, math.ceil(wait)))
        if not measured and self._inflight >= UNMEASURED_IN_FLIGHT:
            raise PipelineFull(f"{self._inflight} ingest requests in flight")
        reservation = Reservation(0)
        self.grow(reservation, nbytes)
        with self._lock:
            self._inflight += 1
        return reservation

    def grow(self, reservation: Reservation, nbytes: int) -> None:
        """Raise a reservation to `nbytes` (e.g. the decoded size); PipelineFull if that cannot fit.

        One request is always admitted into an empty budget, so a body within the size limits never
        becomes impossible to send."""
        extra = nbytes - reservation.nbytes
        if extra <= 0 or reservation.released:
            return
        with self._lock:
            if self._reserved + extra > self._max_bytes and self._reserved - reservation.nbytes > 0:
                raise PipelineFull(f"ingest queue holds {self._reserved} bytes (budget {self._max_bytes} bytes)")
            self._reserved += extra
            reservation.nbytes = nbytes

    def release(self, reservation: Reservation) -> None:
        """The request was answered (whatever the answer): its bytes go back to the budget."""
        with self._lock:
            if not reservation.released:
                reservation.released = True
                self._reserved -= reservation.nbytes
                self._inflight -= 1
                self._answered.append((time.monotonic(), reservation.nbytes))
                self._answered_bytes += reservation.nbytes

    def start(self) -> None:
        if self._threads:
            return
        self._queue = queue.SimpleQueue()  # no stop marker left over from an earlier run
        self._closed = False
        self._threads = [threading.Thread(target=self._run, name=f"phosphobs-writer-{n}", daemon=True)
                         for n in range(self._writers)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking work, commit everything already accepted, then end the writers."""
        if not self._threads:
            return
        self._closed = True
        self._queue.put(None)  # each writer passes it on to the next as it leaves
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def _enqueue(self, op: WriteOp, done: Callable[[WriteResult | BaseException], None] | None) -> None:
        if self._closed:
            raise PipelineClosed("server is shutting down")
        size = _op_size(op)
        with self._lock:
            if self._queued + size > self._max_queued and self._queued > 0:
                self.dropped += size
                raise PipelineFull(f"ingest queue full ({self._queued} items waiting)")
            self._queued += size
        self._queue.put(_Item(op, size, done))

    async def submit(self, op: WriteOp) -> WriteResult:
        """Queue an op and wait until it is committed (or failed): the `Submit` receivers are given."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteResult] = loop.create_future()

        def done(outcome: WriteResult | BaseException) -> None:
            loop.call_soon_threadsafe(_settle, future, outcome)

        self._enqueue(op, done)
        return await future

    def submit_nowait(self, op: WriteOp) -> None:
        """Queue an op nobody waits for (key last-used stamps); silently skipped when full."""
        with contextlib.suppress(PipelineFull, PipelineClosed):
            self._enqueue(op, None)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                stopping = True
                batch: list[_Item] = []
            else:
                batch = [first]
            total = sum(i.size for i in batch)
            while total < self._max_commit:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    continue
                batch.append(item)
                total += item.size
            if batch:
                self._commit(batch, total)
        leftovers = []  # raced in while stopping: still committed, never left hanging
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                leftovers.append(item)
        self._queue.put(None)  # the stop marker, for the other writer threads
        if leftovers:
            self._commit(leftovers, sum(i.size for i in leftovers))

    def _commit(self, batch: list[_Item], total: int) -> None:
        started = time.perf_counter()
        outcomes = self._write([i.op for i in batch])
        with self._lock:
            elapsed = time.perf_counter() - started
            self.last_commit_seconds = elapsed
            self.commits += 1
            self.committed_items += total
            behind = self._queued > total  # work waiting beyond this batch (or in the other commit in flight)
            self._queued -= total
            if elapsed > 0:  # per writer thread; several in flight commit that much more
                sample = total * self._writers / elapsed
                # A faster commit raises the rate at once. A slower one lowers it gently, and only when
                # the writer is behind: otherwise the commit says just "at least this fast" (a few items
                # that took one fsync), and a light load would be shed. A cold first commit so costs
                # one commit of caution, not seconds of refusals.
                if sample > self._rate:
                    self._rate = sample
                elif behind:
                    self._rate = 0.8 * self._rate + 0.2 * sample
        for item, outcome in zip(batch, outcomes, strict=True):
            if isinstance(item.op, IngestOp) and isinstance(outcome, WriteResult):
                self.rate_gate.note(item.op.project_id, outcome.rate_limit)
            if item.done is not None:
                item.done(outcome)


    def _write(self, ops: list[WriteOp]) -> list[WriteResult | BaseException]:
        """Commit the ops; on a data error, commit them one by one so only the bad op fails."""
        try:
            return list(self._storage.write(ops, self._clock_us()))
        except DATA_ERRORS as exc:
            if len(ops) == 1:
                log.warning("op refused: its data cannot be stored: %r", exc)
                return [OpRefused(f"the data cannot be stored: {exc}")]
            log.warning("group commit of %d ops hit a data error (%r); committing them one by one", len(ops), exc)
            return [outcome for op in ops for outcome in self._write([op])]
        except Exception as exc:  # the database itself failed: every op in the commit failed
            log.exception("group commit of %d ops failed", len(ops))
            return [exc] * len(ops)


def _settle(future: asyncio.Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

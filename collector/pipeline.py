"""`IngestPipeline`: a bounded queue drained by writer threads in group commits.

Each request awaits its own future, resolved only after the transaction holding its op has committed,
so a 2xx still means "on disk" while many concurrent requests share one commit. When the queue is full
the submitter is told to come back later (503 + Retry-After) instead of memory growing.

One writer thread by default. A storage that can take the next commit while one is running (the
SQLite writer process queues it in its pipe) gets `commits_in_flight` threads, so the database never
waits for the parent between two commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from phosphobs.collector.submit import PipelineClosed, PipelineFull
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import EventWriter, IngestOp, WriteOp, WriteResult

log = logging.getLogger("phosphobs.pipeline")


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
        clock_us: Callable[[], int] = now_us,
    ) -> None:
        self._storage = storage
        self._max_queued = max_queued_items
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
        try:
            outcomes: list[WriteResult | BaseException] = list(
                self._storage.write([i.op for i in batch], self._clock_us())
            )
        except Exception as exc:  # the database itself failed: every op in the commit failed
            log.exception("group commit of %d ops failed", len(batch))
            outcomes = [exc] * len(batch)
        with self._lock:
            self.last_commit_seconds = time.perf_counter() - started
            self.commits += 1
            self.committed_items += total
            self._queued -= total
        for item, outcome in zip(batch, outcomes, strict=True):
            if item.done is not None:
                item.done(outcome)


def _settle(future: asyncio.Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

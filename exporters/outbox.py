"""The bounded, thread-safe queue between `log()` and the sender, and the counters of what became of each item.

`put` never blocks and never raises: when full, the item is dropped and counted. Every item gets a
sequence number so `flush()` can wait for exactly the items queued before it, even while newer ones
are being sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["event", "feedback"]


@dataclass(frozen=True, slots=True)
class Item:
    seq: int
    kind: Kind
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """Counts of items (events and feedback). `sent` includes `duplicates` (already stored: a retry
    whose first attempt had landed). `failed`: rejected by the server or given up after retrying.
    `dropped`: discarded unsent — queue full, logged after shutdown, or still queued at shutdown's deadline."""

    sent: int = 0
    duplicates: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    queued: int = 0


class Outbox:
    def __init__(self, capacity: int, batch_size: int) -> None:
        self.capacity = max(1, capacity)
        self.batch_size = max(1, batch_size)
        self._cond = threading.Condition()
        self._events: deque[Item] = deque()
        self._feedback: deque[Item] = deque()
        self._last_seq = 0
        self._in_flight_low: int | None = None
        self._in_flight = 0
        self._flush_requested = False
        self._closed = False
        self._counts = {"sent": 0, "duplicates": 0, "retried": 0, "failed": 0, "dropped": 0}

    # -- producers -----------------------------------------------------------------------------
    def put(self, kind: Kind, body: dict[str, Any]) -> bool:
        with self._cond:
            if self._closed or len(self._events) + len(self._feedback) + self._in_flight >= self.capacity:
                self._counts["dropped"] += 1
                return False
            self._last_seq += 1
            queue = self._events if kind == "event" else self._feedback
            queue.append(Item(self._last_seq, kind, body))
            if kind == "event" and len(self._events) == self.batch_size:
                self._cond.notify_all()
            return True

    def request_flush(self) -> int:
        """Asks the sender to send now; returns the sequence number `wait_drained` should wait for."""
        with self._cond:
            self._flush_requested = True
            self._cond.notify_all()
            return self._last_seq

    def close(self) -> None:
        """No more items are accepted; the sender drains what is left."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- the sender ----------------------------------------------------------------------------
    def wait_for_work(self, timeout: float) -> None:
        """Returns when a full batch is ready, a flush or close was asked for, or `timeout` passed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (len(self._events) >= self.batch_size or self._flush_requested or self._closed):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._flush_requested = False

    def ready(self) -> bool:
        """A full batch is waiting (for senders that cannot wait on this object's condition)."""
        with self._cond:
            return len(self._events) >= self.batch_size

    def take(self) -> list[Item]:
        """Up to a batch of events, else one feedback, else nothing; they stay pending until `release`."""
        with self._cond:
            if self._events:
                items = [self._events.popleft() for _ in range(min(self.batch_size, len(self._events)))]
            elif self._feedback:
                items = [self._feedback.popleft()]
            else:
                return []
            self._in_flight_low = items[0].seq
            self._in_flight = len(items)
            return items

    def record(self, **counts: int) -> None:
        with self._cond:
            for name, value in counts.items():
                self._counts[name] += value

    def release(self) -> None:
        """The taken items are settled (sent, failed or dropped)."""
        with self._cond:
            self._in_flight_low = None
            self._in_flight = 0
            self._cond.notify_all()

    def drop_in_flight(self) -> None:
        """The sender was stopped mid-delivery: its taken items count as dropped."""
        with self._cond:
            self._counts["dropped"] += self._in_flight
        self.release()

    def drop_queued(self) -> int:
        """Discards everything still queued (shutdown ran out of time); returns how many."""
        with self._cond:
            count = len(self._events) + len(self._feedback)
            self._events.clear()
            self._feedback.clear()
            self._counts["dropped"] += count
            self._cond.notify_all()
            return count

    # -- flush -----------------------------------------------------------------------------------
    def _low_water(self) -> int:
        """The smallest sequence number not yet settled."""
        candidates = [self._last_seq + 1]
        if self._events:
            candidates.append(self._events[0].seq)
        if self._feedback:
            candidates.append(self._feedback[0].seq)
        if self._in_flight_low is not None:
            candidates.append(self._in_flight_low)
        return min(candidates)

    def drained(self, target: int) -> bool:
        with self._cond:
            return self._low_water() > target

    def wait_drained(self, target: int, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._low_water() > target, timeout)

    # -- introspection ---------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._events) + len(self._feedback) + self._in_flight

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> DeliveryStats:
        with self._cond:
            return DeliveryStats(**self._counts, queued=len(self._events) + len(self._feedback) + self._in_flight)

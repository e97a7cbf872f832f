"""SQLite's side of the detection queue: one drainer per database file, writes through the writer lock.

SQLite has one writer anyway, so row locks buy nothing: the process that holds the drainer lock (an
`flock` on a sidecar file, released by the kernel when the process dies) is the only one that claims.
A crash leaves the claimed entries queued; the next drainer takes them again, and detections are keyed
by (event, detector, version), so an event never gets two.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phosphobs.storage.detection_records import Outcome, QueuedEvent
from phosphobs.storage.sql import detection as q
from phosphobs.storage.sql.dialect import Conn

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a single server process is assumed
    fcntl = None  # type: ignore[assignment]


class DrainerLock:
    """Non-blocking: `held()` says whether this process is the drainer (taking it if free)."""

    def __init__(self, db_path: Path) -> None:
        self._path = db_path.with_name(db_path.name + "-detect.lock")
        self._fd: int | None = None

    def held(self) -> bool:
        if self._fd is not None or fcntl is None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(slots=True)
class SqliteClaim:
    items: list[QueuedEvent]
    gone: list[int]
    transaction: Callable[[Callable[[Conn], Any]], Any]

    def complete(self, outcomes: list[Outcome], now_us: int) -> None:
        self.transaction(lambda conn: q.complete(conn, outcomes, self.gone, now_us))


@contextmanager
def claim(lock: DrainerLock, read: Callable[[Callable[[Conn], Any]], Any],
          transaction: Callable[[Callable[[Conn], Any]], Any], limit: int, ready_us: int) -> Iterator[SqliteClaim]:
    if not lock.held():
        yield SqliteClaim([], [], transaction)
        return
    items, gone = read(lambda conn: q.claim(conn, limit, ready_us))
    yield SqliteClaim(items, gone, transaction)

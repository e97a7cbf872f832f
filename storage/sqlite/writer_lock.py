"""`WriterLock`: hands SQLite's single write slot between processes without sleeping.

Several `phosphobs serve` workers may share one SQLite file. SQLite itself serialises their write
transactions, but a writer that finds the file locked waits in the busy handler, which sleeps and
polls (up to 100 ms at a time); under load the lock sits idle between a commit and the sleeper's next
poll. Taking an exclusive `flock` on a sidecar file before `BEGIN IMMEDIATE` makes the waiter block
in the kernel instead, and wake the moment the previous commit lets go. The blocking call releases the
GIL, so the waiting process keeps decoding requests meanwhile. One process alone pays one
uncontended syscall per commit.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # not on Windows: there SQLite's busy handler alone serialises writers
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """A re-usable context manager: the thread lock for this process, then the file lock for all."""

    def __init__(self, db_path: Path) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if fcntl is not None:
            self._fd = os.open(db_path.with_name(db_path.name + "-writer.lock"), os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> WriterLock:
        self._thread_lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

"""`WriterProcess`: the SQLite group-commit transaction runs in a child process of its own.

Why a process: the write transaction is thousands of short SQLite calls, and every one releases and
re-takes the GIL. In the server the same GIL is wanted by the event loop, which is busy decoding and
normalizing requests, so the writer thread waits for the GIL after nearly every call (measured: a
busy Python thread beside it makes the writer 4.6 times slower, and `sys.setswitchinterval` only makes it
worse). In a child process the transaction has an interpreter to itself and the two cores work in
parallel; the parent's writer thread only pickles the ops, sends them and waits (GIL released).

The promise is unchanged: `write` returns only after the child's COMMIT, so a 2xx still means on
disk. The child exits when its pipe closes, so it never outlives a killed server; if it dies, the
commit in flight reports failure (the client retries; ids make that idempotent) and the next commit
starts a new child.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from phosphobs.storage.protocol import WriteOp, WriteResult


class WriterFailed(Exception):
    """The commit failed in the writer process, or the process died; nothing is known to be stored."""


class WriterProcess:
    def __init__(self, path: Path, synchronous: str) -> None:
        self._path = path
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self._pipe: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._start()  # now, not at the first write: starting an interpreter takes ~0.5 s

    def _start(self) -> Connection:
        context = multiprocessing.get_context("spawn")  # fork would copy the parent's threads' locks
        parent, child = context.Pipe()
        self._process = context.Process(target=serve, args=(str(self._path), self._synchronous, child),
                                        name="phosphobs-sqlite-writer", daemon=True)
        self._process.start()
        child.close()
        self._pipe = parent
        return parent

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        with self._lock:
            pipe = self._pipe or self._start()
            try:
                pipe.send((ops, now_us))
                reply = pipe.recv()
            except (EOFError, OSError) as exc:
                self._discard()
                raise WriterFailed(f"the SQLite writer process stopped: {exc!r}") from exc
        if isinstance(reply, str):
            raise WriterFailed(reply)
        return reply

    def _discard(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
        self._pipe = self._process = None

    def close(self) -> None:
        """Let the child finish (it is idle: callers stop writing first) and exit."""
        with self._lock:
            if self._pipe is not None:
                with contextlib.suppress(OSError):
                    self._pipe.send(None)
            self._discard()


def serve(path: str, synchronous: str, pipe: Connection) -> None:
    """The child: one connection, one transaction per message, the result or an error string back."""
    from phosphobs.storage.sqlite.checkpointer import SAFETY_NET_PAGES, Checkpointer
    from phosphobs.storage.sqlite.connection import connect_writer
    from phosphobs.storage.sqlite.writer_lock import WriterLock
    from phosphobs.storage.sqlite.writes import write_ops

    # Ctrl+C reaches the whole process group; the server then stops gracefully and still needs this
    # process to commit what it accepted. The child ends when the server closes the pipe (or dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = connect_writer(Path(path), synchronous)
    conn.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    checkpointer = Checkpointer(Path(path), synchronous)
    lock = WriterLock(Path(path))
    try:
        while True:
            try:
                message = pipe.recv()
            except EOFError:  # the server is gone
                return
            if message is None:
                return
            ops, now_us = message
            try:
                with lock:
                    reply: list[WriteResult] | str = write_ops(conn, ops, now_us)
            except Exception as exc:  # the database failed the whole commit
                reply = f"group commit failed: {exc!r}"
            pipe.send(reply)
            checkpointer.committed()
    finally:
        checkpointer.close()
        conn.close()
        lock.close()

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
from phosphobs.storage.sqlite import wire

READY = "ready"
READY_TIMEOUT = 60.0  # seconds a new child may take to import and open the database


class WriterFailed(Exception):
    """The commit failed in the writer process, or the process died; nothing is known to be stored."""


class _Channel:
    """One child and its pipe. Replies come back in the order messages were sent, so a caller's
    ticket (its message's position) says which reply is its own."""

    def __init__(self, process: multiprocessing.process.BaseProcess, pipe: Connection) -> None:
        self.process = process
        self.pipe = pipe
        self.sent = 0
        self.received = 0
        self.dead = False


class WriterProcess:
    """Two group commits may be in flight: while the child commits one, the next is already in its
    pipe, so the child goes from one COMMIT straight into the next transaction instead of waiting for
    the parent to collect replies, resolve futures, gather and pickle the next batch (measured: the
    child was idle ~18 % of the time with one commit in flight)."""

    def __init__(self, path: Path, synchronous: str, detect: bool = True) -> None:
        self._path = path
        self._synchronous = synchronous
        self._detect = detect
        self._send_lock = threading.Lock()  # one message on the pipe at a time; also guards _channel
        self._turn = threading.Condition()  # replies are taken in ticket order
        # started and awaited now, not at the first write: a server that is up can commit at once
        self._channel: _Channel | None = self._start()

    def _start(self) -> _Channel:
        context = multiprocessing.get_context("spawn")  # fork would copy the parent's threads' locks
        parent, child = context.Pipe()
        process = context.Process(target=serve, args=(str(self._path), self._synchronous, child, self._detect),
                                  name="phosphobs-sqlite-writer", daemon=True)
        process.start()
        child.close()
        channel = _Channel(process, parent)
        try:  # the child says when its interpreter and connection are ready (or closes the pipe failing)
            ready = parent.poll(READY_TIMEOUT) and parent.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            parent.close()
            _reap(process)
            raise WriterFailed(f"the SQLite writer process did not start (exit code {process.exitcode}; it may take"
                               f" {READY_TIMEOUT:g} s to open {self._path})")
        return channel

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        message = wire.encode((ops, now_us))  # outside the lock: the other writer thread may be sending
        with self._send_lock:
            if self._channel is None:
                self._channel = self._start()
            channel = self._channel
            ticket = channel.sent
            try:
                channel.pipe.send_bytes(message)
            except OSError as exc:
                self._fail(channel)
                raise WriterFailed(f"the SQLite writer process stopped: {exc!r}") from exc
            channel.sent += 1
        with self._turn:
            while channel.received != ticket and not channel.dead:
                self._turn.wait()
            if channel.dead:
                raise WriterFailed("the SQLite writer process stopped before this commit")
            try:
                reply = channel.pipe.recv()
            except (EOFError, OSError) as exc:
                self._fail(channel)
                raise WriterFailed(f"the SQLite writer process stopped: {exc!r}") from exc
            finally:
                channel.received += 1
                self._turn.notify_all()
        if isinstance(reply, str):
            raise WriterFailed(reply)
        return reply

    def _fail(self, channel: _Channel) -> None:
        """The child is gone: every commit sent to it fails, and the next write starts a new one."""
        with self._turn:
            channel.dead = True
            self._turn.notify_all()
        if self._channel is channel:
            self._channel = None
        channel.pipe.close()
        _reap(channel.process)

    def close(self) -> None:
        """Let the child finish (it is idle: callers stop writing first) and exit."""
        with self._send_lock:
            channel, self._channel = self._channel, None
            if channel is not None:
                with contextlib.suppress(OSError):
                    channel.pipe.send_bytes(wire.encode(None))
                channel.pipe.close()
                _reap(channel.process)


def _reap(process: multiprocessing.process.BaseProcess) -> None:
    process.join(5)
    if process.is_alive():
        process.kill()


def serve(path: str, synchronous: str, pipe: Connection, detect: bool = True) -> None:
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
    pipe.send(READY)
    try:
        while True:
            try:
                message = wire.decode(pipe.recv_bytes())
            except EOFError:  # the server is gone
                return
            if message is None:
                return
            ops, now_us = message
            try:
                with lock:
                    reply: list[WriteResult] | str = write_ops(conn, ops, now_us, detect)
            except Exception as exc:  # the database failed the whole commit
                reply = f"group commit failed: {exc!r}"
            pipe.send(reply)
            checkpointer.committed()
    finally:
        checkpointer.close()
        conn.close()
        lock.close()

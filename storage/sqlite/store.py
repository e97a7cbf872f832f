"""`SqliteStorage`: the embedded default backend (one file, WAL, one writer, a reader per thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from phosphobs.storage.protocol import WriteOp, WriteResult
from phosphobs.storage.registry import BackendRegistry, OpenedStorage, StorageOptions, UnsupportedDatabaseUrl
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.migrations import apply_migrations
from phosphobs.storage.sql.store import SqlStorage
from phosphobs.storage.sqlite import detection
from phosphobs.storage.sqlite.connection import SqliteConnection, connect, connect_writer, in_snapshot, in_transaction
from phosphobs.storage.sqlite.schema import MIGRATIONS
from phosphobs.storage.sqlite.writer_lock import WriterLock
from phosphobs.storage.sqlite.writer_process import WriterProcess
from phosphobs.storage.sqlite.writes import write_ops

T = TypeVar("T")


class SqliteRunner:
    """Writes go through one connection under a lock (the pipeline's writer thread is its only caller in
    the server) that also serialises writers of other processes on the same file; each reading thread
    gets its own connection."""

    def __init__(self, path: Path, synchronous: str = "FULL", *, writer_process: bool = False,
                 detect: bool = True) -> None:
        """`writer_process`: run group commits (`write`) in a child process; see `writer_process.py`.
        `detect`: queue new events for detection in their ingest transaction."""
        self.path = path
        self._synchronous = synchronous
        self._detect = detect
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_conn = connect_writer(path, synchronous)
        self._write_lock = WriterLock(path)
        self._writer = WriterProcess(path, synchronous, detect) if writer_process else None
        self._local = threading.local()
        self._readers: list[SqliteConnection] = []
        self._readers_lock = threading.Lock()

    def read(self, fn: Callable[[Conn], T]) -> T:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self._synchronous)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return in_snapshot(conn, fn)

    def transaction(self, fn: Callable[[Conn], T]) -> T:
        """Small admin writes share the writer connection so they serialise with group commits."""
        with self._write_lock:
            return in_transaction(self._write_conn, fn)

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        if self._writer is not None:
            return self._writer.write(ops, now_us)
        with self._write_lock:
            return write_ops(self._write_conn, ops, now_us, self._detect)

    def migrate(self) -> list[str]:
        return apply_migrations(self.transaction, MIGRATIONS)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        with self._write_lock:
            self._write_conn.close()
        self._write_lock.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


class SqliteStorage(SqlStorage):
    def __init__(self, path: Path, synchronous: str = "FULL", *, writer_process: bool = False,
                 detect: bool = True) -> None:
        self.path = path
        self._runner: SqliteRunner = SqliteRunner(path, synchronous, writer_process=writer_process, detect=detect)
        self._drainer = detection.DrainerLock(path)
        super().__init__(self._runner)

    def close(self) -> None:
        self._drainer.close()
        super().close()

    @contextmanager
    def claim_detections(self, limit: int, ready_us: int) -> Iterator[detection.SqliteClaim]:
        """One drainer per file (see `sqlite/detection.py`); other processes get empty claims."""
        with detection.claim(self._drainer, self._runner.read, self._runner.transaction, limit,
                             ready_us) as claimed:
            yield claimed

    @property
    def _writer(self) -> WriterProcess | None:
        """The writer process, if group commits run in one (tests kill it to see a commit fail)."""
        return self._runner._writer

    @property
    def commits_in_flight(self) -> int:
        """How many `write` calls may usefully run at once: the writer process queues a second commit in
        its pipe while it runs the first (they still commit one after another)."""
        return 2 if self._writer is not None else 1


def register(registry: BackendRegistry) -> None:
    registry.register(("sqlite",), _open)


def _open(url: str, options: StorageOptions) -> OpenedStorage:
    if not url.startswith("sqlite:///"):
        raise UnsupportedDatabaseUrl(f"a SQLite URL names a file: sqlite:///path/to/file.db, not {url!r}")
    store = SqliteStorage(Path(url.removeprefix("sqlite:///")), options.sqlite_synchronous,
                          writer_process=options.sqlite_writer_process, detect=options.detect)
    return OpenedStorage(store, store.commits_in_flight)

"""Opening SQLite connections with the pragmas phosphobs relies on, and applying migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from phosphobs.storage.sql.dialect import Dialect
from phosphobs.storage.sqlite.dialect import SQLITE

T = TypeVar("T")


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection with its dialect attached for the shared SQL core (`?` is sqlite3's own style)."""

    dialect: Dialect = SQLITE


def _null(_: None) -> None:
    return None


def connect(path: Path, synchronous: str = "FULL") -> SqliteConnection:
    """A connection in WAL mode: one writer and many readers never block each other."""
    # Binding None otherwise walks the adapter protocol (tuple key, two attribute lookups) for every
    # NULL parameter: ~0.7 µs each, and an event row has about ten. A registered adapter is one dict
    # hit. Registering is idempotent and changes no value, so doing it per connection is harmless.
    sqlite3.register_adapter(type(None), _null)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False, factory=SqliteConnection)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before we answer 2xx, even across a power cut.
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-32000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def connect_writer(path: Path, synchronous: str = "FULL") -> SqliteConnection:
    """The connection group commits go through."""
    conn = connect(path, synchronous)
    # Checkpoint less often: a hot index page rewritten by many commits is copied back to the
    # database once per checkpoint, not once per ~1,000 WAL pages (measured ~10% more writes/s).
    conn.execute("PRAGMA wal_autocheckpoint=10000")
    return conn


def in_snapshot(conn: SqliteConnection, fn: Callable[[SqliteConnection], T]) -> T:
    """`fn`'s reads all see one committed state: without a transaction each statement sees the latest
    commit, so an event read before a commit and its detections read after it would disagree."""
    if conn.in_transaction:  # already in one (a snapshot's nested read): keep it
        return fn(conn)
    conn.execute("BEGIN")  # deferred: the first read takes the snapshot
    try:
        return fn(conn)
    finally:
        if conn.in_transaction:  # an error may have ended it already
            conn.execute("ROLLBACK")  # it only read: ending it frees the snapshot (and the WAL behind it)


def in_transaction(conn: SqliteConnection, fn: Callable[[SqliteConnection], T]) -> T:
    """`fn` in one write transaction; the caller holds the writer lock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return result

"""Applying a backend's ordered schema steps: each once, in its own transaction, whichever process comes first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from phosphobs.storage.sql.dialect import Conn

Transaction = Callable[[Callable[[Conn], bool]], bool]


def apply_migrations(transaction: Transaction, steps: list[tuple[str, str]]) -> list[str]:
    """Returns the names of the steps applied now (empty: the schema was up to date)."""
    transaction(lambda conn: bool(conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")))
    return [name for name, script in steps if transaction(partial(_step, name, script))]


def _step(name: str, script: str, conn: Conn) -> bool:
    conn.dialect.lock_migrations(conn)
    if conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
        return False
    conn.dialect.run_script(conn, script)
    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, datetime.now(UTC).isoformat(" ", "seconds")))
    return True

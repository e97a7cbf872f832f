"""Postgres connections: a psycopg 3 pool, migrations under a lock, and transaction retries.

Workers run concurrent transactions, so a deadlock or serialization failure is an expected, rare
outcome: the whole transaction is retried (it rolled back entirely, so a retry is always safe).
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import orjson
import psycopg
from phosphobs.storage.postgres.dialect import POSTGRES
from phosphobs.storage.sql.dialect import Dialect
from psycopg.adapt import Dumper
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

log = logging.getLogger("phosphobs.postgres")
T = TypeVar("T")


@functools.lru_cache(maxsize=4096)
def _pyformat(sql: str) -> str:
    """The shared core's `?` placeholders in psycopg's style (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


_READS_A_TABLE = re.compile(r"\bFROM\s+(?!unnest\()", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _reads_no_table(sql: str) -> bool:
    """Whether a statement's plan has no access path to choose: an INSERT or SELECT of values or of
    arrays (`FROM unnest(…)`), whatever its ON CONFLICT. Only those are prepared (and may run a generic plan).

    Every other statement is planned for its own parameters on each run. psycopg prepares a statement
    after a few runs and Postgres may then cache one generic plan for it: one made while a table was
    small (a fresh database, before autoanalyze) or blind to the parameters (`trace_id = ANY(…)` ordered
    by seq) scans a table that has since grown, on every write. Planning every statement instead (as
    `plan_cache_mode = force_custom_plan` does) also re-plans the hot inserts each time, for nothing.
    """
    return sql.lstrip()[:6].upper() in ("INSERT", "SELECT") and not _READS_A_TABLE.search(sql)


class PgConnection(psycopg.Connection[Any]):
    """psycopg's connection speaking the shared core's placeholder style, with its dialect attached."""

    dialect: Dialect = POSTGRES

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if not _reads_no_table(query):
            kwargs.setdefault("prepare", False)
        return super().execute(query if params is None else _pyformat(query), params, **kwargs)

    def executemany(self, query: str, params_seq: Iterable[Sequence[Any]]) -> None:
        threshold = self.prepare_threshold
        if not _reads_no_table(query):
            self.prepare_threshold = None  # executemany takes no `prepare`: never prepare this one
        try:
            with self.cursor() as cursor:
                cursor.executemany(_pyformat(query), params_seq)
        finally:
            self.prepare_threshold = threshold


class NulSafeStrDumper(Dumper):
    """Python str as text with NUL written as U+FFFD: Postgres text cannot hold NUL (SQLite can), and a
    stray NUL in telemetry must not fail the whole write."""

    def dump(self, obj: str) -> bytes:
        return (obj.replace("\x00", "\ufffd") if "\x00" in obj else obj).encode()


def _configure(conn: psycopg.Connection) -> None:
    set_json_loads(orjson.loads, conn)
    conn.adapters.register_dumper(str, NulSafeStrDumper)


def make_pool(url: str, max_size: int = 10) -> ConnectionPool:
    """Autocommit connections (reads never sit idle in a transaction); writes open one explicitly."""
    return ConnectionPool(
        url, min_size=1, max_size=max_size, open=True, name="phosphobs", configure=_configure,
        connection_class=PgConnection,
        kwargs={"autocommit": True, "row_factory": dict_row, "application_name": "phosphobs"},
    )


def in_snapshot(pool: ConnectionPool, fn: Callable[[PgConnection], T]) -> T:
    """`fn`'s reads all see one committed state (a read-only repeatable-read transaction): in autocommit
    each statement sees the latest commit, so an event read before a commit and its detections read
    after it would disagree. Read-only repeatable read never fails to serialise, so nothing is retried."""
    with pool.connection() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return fn(conn)
        finally:
            if not conn.closed:
                conn.execute("ROLLBACK")


def in_transaction(pool: ConnectionPool, fn: Callable[[PgConnection], T], attempts: int = 8) -> T:
    """Run `fn` in one transaction, retrying it whole on deadlock or serialization failure."""
    for attempt in range(attempts):
        with pool.connection() as conn:
            try:
                with conn.transaction():
                    return fn(conn)
            except POSTGRES.retryable as exc:
                if attempt == attempts - 1:
                    raise
                log.info("retrying transaction after %s", type(exc).__name__)
        time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")

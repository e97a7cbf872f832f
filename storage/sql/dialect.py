"""What the shared SQL core needs to know about a backend: the `Dialect`, and the connection it runs on.

Core SQL is written with `?` placeholders; a backend's connection class translates them if its driver
wants another style, and carries its dialect as `conn.dialect`. Only what truly differs lives here:
upsert spellings, list columns (JSON text or arrays), row locks, chunked `IN` lists and full-text search.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from phosphobs.storage.protocol import EventQuery


class Rows(Protocol):
    rowcount: int  # rows a write changed (DB-API)

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    """A DB-API connection whose rows are addressable by column name, with its dialect attached."""

    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Rows: ...
    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Any: ...


def all_rows(conn: Conn, sql: str, args: Sequence[Any] = ()) -> list[Any]:
    return conn.execute(sql, tuple(args)).fetchall()


@functools.cache
def _insert_sql(table: str, names: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) ON CONFLICT DO NOTHING"


class Dialect:
    """Defaults are SQL both backends accept; a backend overrides where its SQL differs."""

    least = "min"
    greatest = "max"
    contains = "EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?)"  # list column contains one value
    pinned_join = "CROSS JOIN"  # a join whose left side must stay the outer loop
    for_update = ""  # row-lock suffix of a SELECT that is about to change the rows
    skip_locked = ""  # ... and one that skips rows another writer holds
    shard: str | None = None  # rollup shard expression (None: rollups have no shard column)
    retryable: tuple[type[BaseException], ...] = ()  # errors after which the whole transaction is retried
    in_chunk: int | None = 500  # keys per spelled-out IN list (None: the keys are bound as one array)
    search_seq = "e.seq"  # what a text search walks newest first: its keyset column

    def lock_migrations(self, conn: Conn) -> None:
        """Serialise migrators beyond what the migration's transaction already does."""

    def run_script(self, conn: Conn, script: str) -> None:
        conn.execute(script)

    def insert_many(self, conn: Conn, table: str, columns: tuple[tuple[str, str], ...], rows: list[Any]) -> None:
        """INSERT … ON CONFLICT DO NOTHING of many rows; `columns` are (name, Postgres type) pairs."""
        conn.executemany(_insert_sql(table, tuple(name for name, _ in columns)), rows)

    def json_text(self, column: str) -> str:
        """A JSON column as comparable text."""
        return column

    def json_field(self, column: str, *path: str) -> str:
        """A text field inside a JSON column (`metadata`, "span", "name" → the span's name)."""
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def merge_lists(self, column: str) -> str:
        """Upsert expression: the sorted union of a sessions list column and its `excluded` value."""
        raise NotImplementedError

    def list_value(self, values: list[str]) -> Any:
        """How a sorted list of strings is bound to a sessions list column."""
        raise NotImplementedError

    def member(self, count: int) -> str:
        """A membership test against `count` keys bound by `bind`."""
        return f"IN ({','.join('?' * count)})"

    def bind(self, keys: list[Any]) -> tuple[Any, ...]:
        return tuple(keys)

    def _parts(self, keys: Sequence[Any]) -> list[Sequence[Any]]:
        size = self.in_chunk or max(len(keys), 1)
        return [keys[start:start + size] for start in range(0, len(keys), size)]

    def rows_in(self, conn: Conn, sql: str, head: Sequence[Any], keys: Sequence[Any]) -> list[Any]:
        """Run `sql`, whose `{in}` is a membership test against `keys`, with `head` as its first parameters
        (no statement at all without keys)."""
        return self.rows_in_union(conn, (sql,), head, keys)

    def rows_in_union(self, conn: Conn, parts: Sequence[str], head: Sequence[Any], keys: Sequence[Any]) -> list[Any]:
        """`rows_in` of `part1 UNION ALL part2 …`, each part with its own `head` and `{in}` (one round trip)."""
        rows: list[Any] = []
        for chunk in self._parts(keys):
            member, bound = self.member(len(chunk)), self.bind(list(chunk))
            rows += conn.execute(" UNION ALL ".join(part.format(**{"in": member}) for part in parts),
                                 tuple(value for _ in parts for value in (*head, *bound))).fetchall()
        return rows

    def rows_in_pairs(self, conn: Conn, sql: str, head: Sequence[Any], pairs: Sequence[tuple[Any, Any]]) -> list[Any]:
        """Rows of `sql`, whose `{first}` and `{second}` test membership in the pairs' first and second
        values, with `head` as its first parameters. A superset of the pairs' rows: callers keep theirs."""
        rows: list[Any] = []
        for part in self._parts(sorted(pairs)):
            firsts, seconds = sorted({a for a, _ in part}), sorted({b for _, b in part})
            rows += conn.execute(sql.format(first=self.member(len(firsts)), second=self.member(len(seconds))),
                                 (*head, *self.bind(firsts), *self.bind(seconds))).fetchall()
        return rows

    # full-text search over events' input and output
    def text_query(self, text: str) -> str | None:
        """User text → a match expression that cannot be a syntax error; None when it has no words."""
        raise NotImplementedError

    def sessions_matching(self) -> str:
        """Condition over sessions `s` with two parameters (match, project id): a session has a matching event."""
        raise NotImplementedError

    def search_events(self, conn: Conn, q: EventQuery, match: str, select: str, where: list[str],
                      args: list[Any]) -> list[Any]:
        """Up to q.limit + 1 matching rows, newest stored first; `where` already holds the time range and
        the keyset (`search_seq` below q.after's seq)."""
        raise NotImplementedError

    def reindex(self, conn: Conn, seq: int, old: tuple[str, str], new: tuple[str, str]) -> None:
        """An event's input and output changed from `old` to `new`."""
        raise NotImplementedError

    def unindex(self, conn: Conn, rows: list[Any]) -> None:
        """Events (rows with seq, input, output) are about to be deleted."""
        raise NotImplementedError

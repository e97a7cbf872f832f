"""One way to run SQL on either backend's connection, so a query is written once (with `?` marks).

Rows come back as mappings (sqlite3.Row or psycopg's dict rows both read by column name).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

CHUNK = 400  # keys per IN list: well under SQLite's variable limit, small plans on Postgres


class SqlRunner(Protocol):
    """`sql` uses `?` placeholders; `json_text(column, path)` reads a text field of a JSON column."""

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]: ...
    def run(self, sql: str, args: Sequence[Any] = ()) -> None: ...
    def run_many(self, sql: str, rows: list[Sequence[Any]]) -> None: ...
    def json_text(self, column: str, *path: str) -> str: ...


class SqliteRunner:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return self.conn.execute(sql, tuple(args)).fetchall()

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, tuple(args))

    def run_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def json_text(self, column: str, *path: str) -> str:
        return f"json_extract({column}, '$.{'.'.join(path)}')"


class PostgresRunner:
    def __init__(self, conn: Any) -> None:  # a psycopg.Connection with dict rows
        self.conn = conn

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return self.conn.execute(sql.replace("?", "%s"), tuple(args)).fetchall()

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.conn.execute(sql.replace("?", "%s"), tuple(args))

    def run_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)

    def json_text(self, column: str, *path: str) -> str:
        steps = "".join(f"->'{p}'" for p in path[:-1])
        return f"({column}::json{steps}->>'{path[-1]}')"


def marks(count: int) -> str:
    return ",".join("?" * count)


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]

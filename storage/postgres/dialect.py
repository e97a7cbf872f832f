"""Postgres' dialect: text[] list columns, `= ANY(array)`, row locks, and full-text search with the same
semantics as SQLite's FTS5 (unicode61, no positions).

Both sides of a search are tokenised here, in Python, the way unicode61 does it: runs of letters and
digits, diacritics removed, case folded. The stored `tsvector` holds each distinct word once without
positions (like `detail=none`); a query requires every word, in any order.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from phosphobs.storage.protocol import EventQuery
from phosphobs.storage.sql.dialect import Conn, Dialect
from psycopg import errors

_WORD = re.compile(r"[^\W_]+")
MAX_WORD_CHARS = 2000  # Postgres drops longer lexemes anyway
MAX_WORDS = 20_000  # keeps a huge input's tsvector far below Postgres' 1 MB limit
RECENT_WINDOW = 20_000  # newest candidate events a text search looks at before asking the GIN index


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def document(input_text: str, output_text: str) -> str:
    """The text handed to `to_tsvector('simple', …)`: distinct words, space separated."""
    seen = dict.fromkeys(w for w in words(input_text) + words(output_text) if len(w) <= MAX_WORD_CHARS)
    return " ".join(list(seen)[:MAX_WORDS])


@functools.cache
def _unnest_sql(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(name for name, _ in columns)}) SELECT * FROM"
            f" unnest({', '.join('?::' + kind + '[]' for _, kind in columns)}) ON CONFLICT DO NOTHING")


class PostgresDialect(Dialect):
    least = "LEAST"
    greatest = "GREATEST"
    contains = "? = ANY({col})"
    pinned_join = "JOIN"
    for_update = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    shard = "pg_backend_pid() % 16"
    retryable = (errors.DeadlockDetected, errors.SerializationFailure)
    in_chunk = None

    def lock_migrations(self, conn: Conn) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(1886892915)")  # any fixed number: one migrator at a time

    def insert_many(self, conn: Conn, table: str, columns: tuple[tuple[str, str], ...], rows: list[Any]) -> None:
        """One statement over arrays, whatever the number of rows."""
        if rows:
            conn.execute(_unnest_sql(table, columns), [list(c) for c in zip(*rows, strict=True)])

    def json_text(self, column: str) -> str:
        return f"{column}::text"

    def json_field(self, column: str, *path: str) -> str:
        steps = "".join(f"->'{step}'" for step in path[:-1])
        return f"({column}::json{steps}->>'{path[-1]}')"

    def merge_lists(self, column: str) -> str:
        return (f"CASE WHEN cardinality(excluded.{column}) = 0 OR excluded.{column} = sessions.{column}"
                f" THEN sessions.{column} ELSE ARRAY(SELECT DISTINCT x COLLATE \"C\" FROM"
                f" unnest(sessions.{column} || excluded.{column}) AS x ORDER BY 1) END")

    def list_value(self, values: list[str]) -> Any:
        return values

    def member(self, count: int) -> str:
        return "= ANY(?)"  # one statement text whatever the number of keys: psycopg prepares it once

    def bind(self, keys: list[Any]) -> tuple[Any, ...]:
        return (keys,)

    def text_query(self, text: str) -> str | None:
        """Every word a quoted lexeme, all required: a tsquery that cannot be a syntax error."""
        found = [w for w in words(text) if len(w) <= MAX_WORD_CHARS][:32]
        if not found:
            return None
        return " & ".join("'" + w + "'" for w in found)

    def sessions_matching(self) -> str:
        return ("s.session_id IN (SELECT e.session_id FROM events e WHERE e.search @@ to_tsquery('simple', ?)"
                " AND e.project_id = ? AND e.session_id IS NOT NULL)")

    def search_events(self, conn: Conn, q: EventQuery, match: str, select: str, where: list[str],
                      args: list[Any]) -> list[Any]:
        """First among the newest RECENT_WINDOW candidates (walking the (project, seq) index): a common word
        fills the page from them at once. A rare one does not; then the GIN index gives every match and they
        are sorted (cheap, because they are few). Either way the result is the exact newest matches."""
        where, args = list(where), list(args)
        if q.tag is not None:
            where.append("e.seq IN (SELECT seq FROM event_tags WHERE project_id = ? AND tag = ?)")
            args += [args[0], q.tag]  # args[0]: the project id
        limit = q.limit + 1
        rows = conn.execute(
            f"SELECT {select} FROM events e WHERE e.seq IN (SELECT c.seq FROM (SELECT e.seq, e.search FROM events e"
            f" WHERE {' AND '.join(where)} ORDER BY e.seq DESC LIMIT {RECENT_WINDOW}) c"
            " WHERE c.search @@ to_tsquery('simple', ?) ORDER BY c.seq DESC LIMIT ?) ORDER BY e.seq DESC",
            (*args, match, limit),
        ).fetchall()
        if len(rows) >= limit:
            return rows
        # "+ 0" keeps the planner off the seq index: it takes the GIN bitmap and sorts the matches.
        return conn.execute(f"SELECT {select} FROM events e WHERE {' AND '.join(where)} AND e.search @@"
                            " to_tsquery('simple', ?) ORDER BY e.seq + 0 DESC LIMIT ?",
                            (*args, match, limit)).fetchall()

    def reindex(self, conn: Conn, seq: int, old: tuple[str, str], new: tuple[str, str]) -> None:
        conn.execute("UPDATE events SET search = strip(to_tsvector('simple', ?)) WHERE seq = ?", (document(*new), seq))

    def unindex(self, conn: Conn, rows: list[Any]) -> None:
        """The search column goes with its row."""


POSTGRES = PostgresDialect()

"""SQLite's dialect: JSON-text list columns, chunked `IN` lists, and full-text search through FTS5."""

from __future__ import annotations

from typing import Any

from phosphobs.storage.protocol import EventQuery
from phosphobs.storage.rows import dumps
from phosphobs.storage.sql.dialect import Conn, Dialect
from phosphobs.storage.sqlite.fts import fts_query


class SqliteDialect(Dialect):
    search_seq = "f.rowid"  # the full-text index's rowid is the event's seq, in the index's own order

    def run_script(self, conn: Conn, script: str) -> None:
        """One statement per call (sqlite3's `executescript` would commit the migration's transaction)."""
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)

    def merge_lists(self, column: str) -> str:
        return (f"CASE WHEN excluded.{column} IN ('[]', sessions.{column}) THEN sessions.{column} ELSE"
                f" (SELECT json_group_array(value) FROM (SELECT value FROM json_each(sessions.{column}) UNION"
                f" SELECT value FROM json_each(excluded.{column}) ORDER BY 1)) END")

    def list_value(self, values: list[str]) -> Any:
        return dumps(values)

    def text_query(self, text: str) -> str | None:
        """Every word a quoted FTS5 term, all required. The index keeps no positions (detail=none: a fraction
        of the size and write cost), so words match individually, in any order, as the tokenizer splits them;
        see `fts_query` for why `_` and punctuation split words."""
        return fts_query(text)

    def sessions_matching(self) -> str:
        # CROSS JOIN pins the full-text index as the outer loop (else SQLite may walk all project events)
        return ("s.session_id IN (SELECT e.session_id FROM events_fts f CROSS JOIN events e ON e.seq = f.rowid"
                " WHERE events_fts MATCH ? AND e.project_id = ? AND e.session_id IS NOT NULL)")

    def search_events(self, conn: Conn, q: EventQuery, match: str, select: str, where: list[str],
                      args: list[Any]) -> list[Any]:
        where, args = [*where, "events_fts MATCH ?"], [*args, match]
        if q.tag is not None:
            where.append("EXISTS (SELECT 1 FROM event_tags t WHERE t.project_id = e.project_id AND t.tag = ?"
                         " AND t.ts_us = e.ts_us AND t.seq = e.seq)")
            args.append(q.tag)
        return conn.execute(f"SELECT {select} FROM events_fts f JOIN events e ON e.seq = f.rowid"
                            f" WHERE {' AND '.join(where)} ORDER BY f.rowid DESC LIMIT ?",
                            (*args, q.limit + 1)).fetchall()

    def reindex(self, conn: Conn, seq: int, old: tuple[str, str], new: tuple[str, str]) -> None:
        self.unindex(conn, [{"seq": seq, "input": old[0], "output": old[1]}])
        conn.execute("INSERT INTO events_fts (rowid, input, output) VALUES (?, ?, ?)", (seq, *new))

    def unindex(self, conn: Conn, rows: list[Any]) -> None:
        conn.executemany("INSERT INTO events_fts (events_fts, rowid, input, output) VALUES ('delete', ?, ?, ?)",
                         [(r["seq"], r["input"], r["output"]) for r in rows])


SQLITE = SqliteDialect()

"""Read queries for SQLite: keyset-paginated, index-backed, scoped to one project."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.protocol import (
    EventQuery,
    FeedbackRecord,
    Page,
    SessionQuery,
    SessionRecord,
    StoredEvent,
)
from phosphobs.storage.rows import session_record, stored_event
from phosphobs.storage.sql_filters import SQLITE, event_field_where, session_where
from phosphobs.storage.sqlite.fts import fts_query


def get_event(conn: sqlite3.Connection, project_id: str, event_id: str) -> StoredEvent | None:
    row = conn.execute(
        "SELECT * FROM events WHERE project_id = ? AND event_id = ?", (project_id, event_id)
    ).fetchone()
    return stored_event(row) if row else None


def list_events(conn: sqlite3.Connection, project_id: str, q: EventQuery) -> Page[StoredEvent]:
    where, args = event_field_where(project_id, q, SQLITE)
    if q.since_us is not None:
        where.append("e.ts_us >= ?")
        args.append(q.since_us)
    if q.until_us is not None:
        where.append("e.ts_us < ?")
        args.append(q.until_us)
    source, order, keyset = "events e", "e.ts_us DESC, e.seq DESC", "(e.ts_us, e.seq) < (?, ?)"
    match = fts_query(q.text) if q.text else None
    if q.text and match is None:
        return Page(items=[], next_after=None)
    if match is not None:
        # Text search walks the index newest-stored first and stops at the page size, instead of
        # sorting every match by timestamp (a common word matches most of a million events).
        source, order, keyset = "events_fts f JOIN events e ON e.seq = f.rowid", "f.rowid DESC", "f.rowid < ?"
        where.append("events_fts MATCH ?")
        args.append(match)
        if q.tag is not None:
            where.append("EXISTS (SELECT 1 FROM event_tags t WHERE t.project_id = ? AND t.tag = ?"
                         " AND t.ts_us = e.ts_us AND t.seq = e.seq)")
            args += [project_id, q.tag]
    elif q.tag is not None:
        # The tag index is ordered by time: walk it newest first (CROSS JOIN keeps it the outer loop).
        source, order = "event_tags t CROSS JOIN events e ON e.seq = t.seq", "t.ts_us DESC, t.seq DESC"
        keyset = "(t.ts_us, t.seq) < (?, ?)"
        where += ["t.project_id = ?", "t.tag = ?"]
        args += [project_id, q.tag]
    if q.after is not None:
        where.append(keyset)
        args += [q.after[1]] if match is not None else list(q.after)
    sql = f"SELECT e.* FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    rows = conn.execute(sql, (*args, q.limit + 1)).fetchall()
    items = [stored_event(r) for r in rows[: q.limit]]
    next_after = (rows[q.limit - 1]["ts_us"], rows[q.limit - 1]["seq"]) if len(rows) > q.limit else None
    return Page(items=items, next_after=next_after)


def list_feedback(conn: sqlite3.Connection, project_id: str, event_id: str) -> list[FeedbackRecord]:
    rows = conn.execute(
        "SELECT id, event_id, flag, comment, source, created_us FROM feedback"
        " WHERE project_id = ? AND event_id = ? ORDER BY id",
        (project_id, event_id),
    ).fetchall()
    return [FeedbackRecord(**dict(r)) for r in rows]


def get_session(conn: sqlite3.Connection, project_id: str, session_id: str) -> SessionRecord | None:
    row = conn.execute(
        "SELECT * FROM sessions WHERE project_id = ? AND session_id = ?", (project_id, session_id)
    ).fetchone()
    return session_record(row) if row else None


def list_sessions(conn: sqlite3.Connection, project_id: str, q: SessionQuery) -> Page[SessionRecord]:
    where, args = session_where(project_id, q, SQLITE)
    rows = conn.execute(
        f"SELECT s.* FROM sessions s WHERE {' AND '.join(where)}"
        " ORDER BY s.end_us DESC, s.session_id DESC LIMIT ?",
        (*args, q.limit + 1),
    ).fetchall()
    items = [session_record(r) for r in rows[: q.limit]]
    last = rows[q.limit - 1] if len(rows) > q.limit else None
    return Page(items=items, next_after=(last["end_us"], last["session_id"]) if last else None)


def session_events(conn: sqlite3.Connection, project_id: str, session_id: str, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        "SELECT * FROM events WHERE project_id = ? AND session_id = ? ORDER BY ts_us, seq LIMIT ?",
        (project_id, session_id, limit),
    ).fetchall()
    return [stored_event(r) for r in rows]

"""Event, feedback and session reads: keyset-paginated, index-backed, scoped to one project."""

from __future__ import annotations

from typing import Any

from phosphobs.storage.protocol import (
    EventQuery,
    FeedbackRecord,
    Page,
    SessionQuery,
    SessionRecord,
    StoredEvent,
)
from phosphobs.storage.rows import READ_COLUMNS, session_record, stored_event
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.filters import event_field_where, session_where
from phosphobs.storage.sql.paging import keyset_page

EVENT_SELECT = "e.seq, " + ", ".join(f"e.{c}" for c in READ_COLUMNS)  # never Postgres' search column


def get_event(conn: Conn, project_id: str, event_id: str) -> StoredEvent | None:
    row = conn.execute(f"SELECT {EVENT_SELECT} FROM events e WHERE e.project_id = ? AND e.event_id = ?",
                       (project_id, event_id)).fetchone()
    return stored_event(row) if row else None


def list_events(conn: Conn, project_id: str, query: EventQuery) -> Page[StoredEvent]:
    where, args = event_field_where(project_id, query)
    d = conn.dialect
    if query.text:
        match = d.text_query(query.text)
        if match is None:
            return Page(items=[], next_after=None)
        # Text search walks the index newest-stored first and stops at the page size, instead of
        # sorting every match by timestamp (a common word matches most of a million events).
        _ranges(where, args, "e", query)
        if query.after is not None:
            where.append(f"{d.search_seq} < ?")
            args.append(query.after[1])
        return _page(d.search_events(conn, query, match, EVENT_SELECT, where, args), query.limit)
    # With a tag, walk the (project, tag, time) index of event_tags, newest first, as the outer loop.
    order, source = "e", "events e"
    if query.tag is not None:
        order, source = "t", f"event_tags t {d.pinned_join} events e ON e.seq = t.seq"
        where += ["t.project_id = ?", "t.tag = ?"]
        args += [project_id, query.tag]
    _ranges(where, args, order, query)
    if query.after is not None:
        where.append(f"({order}.ts_us, {order}.seq) < (?, ?)")
        args += list(query.after)
    rows = conn.execute(
        f"SELECT {EVENT_SELECT} FROM {source} WHERE {' AND '.join(where)}"
        f" ORDER BY {order}.ts_us DESC, {order}.seq DESC LIMIT ?",
        (*args, query.limit + 1),
    ).fetchall()
    return _page(rows, query.limit)


def _ranges(where: list[str], args: list[Any], alias: str, query: EventQuery) -> None:
    for condition, value in ((f"{alias}.ts_us >= ?", query.since_us), (f"{alias}.ts_us < ?", query.until_us)):
        if value is not None:
            where.append(condition)
            args.append(value)


def _page(rows: list[Any], limit: int) -> Page[StoredEvent]:
    return keyset_page(rows, limit, stored_event, lambda last: (last["ts_us"], last["seq"]))


def list_feedback(conn: Conn, project_id: str, event_id: str) -> list[FeedbackRecord]:
    rows = conn.execute(
        "SELECT id, event_id, flag, comment, source, created_us FROM feedback"
        " WHERE project_id = ? AND event_id = ? ORDER BY id",
        (project_id, event_id),
    ).fetchall()
    return [FeedbackRecord(**dict(r)) for r in rows]


def get_session(conn: Conn, project_id: str, session_id: str) -> SessionRecord | None:
    row = conn.execute("SELECT * FROM sessions WHERE project_id = ? AND session_id = ?",
                       (project_id, session_id)).fetchone()
    return session_record(row) if row else None


def list_sessions(conn: Conn, project_id: str, query: SessionQuery) -> Page[SessionRecord]:
    where, args = session_where(project_id, query, conn.dialect)
    rows = conn.execute(
        f"SELECT s.* FROM sessions s WHERE {' AND '.join(where)} ORDER BY s.end_us DESC, s.session_id DESC LIMIT ?",
        (*args, query.limit + 1),
    ).fetchall()
    return keyset_page(rows, query.limit, session_record, lambda last: (last["end_us"], last["session_id"]))


def session_events(conn: Conn, project_id: str, session_id: str, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        f"SELECT {EVENT_SELECT} FROM events e WHERE e.project_id = ? AND e.session_id = ?"
        " ORDER BY e.ts_us, e.seq LIMIT ?",
        (project_id, session_id, limit),
    ).fetchall()
    return [stored_event(r) for r in rows]

"""Read queries for Postgres: keyset-paginated, index-backed, scoped to one project (as SQLite's)."""

from __future__ import annotations

from typing import Any

import psycopg
from phosphobs.storage.postgres.search import tsquery
from phosphobs.storage.protocol import (
    EventQuery,
    FeedbackRecord,
    Page,
    SessionQuery,
    SessionRecord,
    StoredEvent,
)
from phosphobs.storage.rows import EVENT_COLUMNS, session_record, stored_event
from phosphobs.storage.sql_filters import POSTGRES, event_field_where, session_where

RECENT_WINDOW = 20_000
_EVENT_SELECT = "e.seq, " + ", ".join(f"e.{c}" for c in (*EVENT_COLUMNS, "flag_source", "detected_flag"))


def get_event(conn: psycopg.Connection, project_id: str, event_id: str) -> StoredEvent | None:
    row = conn.execute(
        f"SELECT {_EVENT_SELECT} FROM events e WHERE e.project_id = %s AND e.event_id = %s", (project_id, event_id)
    ).fetchone()
    return stored_event(row) if row else None


def list_events(conn: psycopg.Connection, project_id: str, q: EventQuery) -> Page[StoredEvent]:
    where, args = event_field_where(project_id, q, POSTGRES)
    if q.text:
        return _search(conn, project_id, q, where, args)
    # With a tag, walk the (project, tag, time) index of event_tags and order by its copy of the time.
    order = "t" if q.tag is not None else "e"
    source = "events e"
    if q.tag is not None:
        source = "event_tags t JOIN events e ON e.seq = t.seq"
        where += ["t.project_id = %s", "t.tag = %s"]
        args += [project_id, q.tag]
    if q.since_us is not None:
        where.append(f"{order}.ts_us >= %s")
        args.append(q.since_us)
    if q.until_us is not None:
        where.append(f"{order}.ts_us < %s")
        args.append(q.until_us)
    if q.after is not None:
        where.append(f"({order}.ts_us, {order}.seq) < (%s, %s)")
        args += list(q.after)
    rows = conn.execute(
        f"SELECT {_EVENT_SELECT} FROM {source} WHERE {' AND '.join(where)}"
        f" ORDER BY {order}.ts_us DESC, {order}.seq DESC LIMIT %s",
        (*args, q.limit + 1),
    ).fetchall()
    return _page(rows, q.limit)


def _page(rows: list[dict[str, Any]], limit: int) -> Page[StoredEvent]:
    items = [stored_event(r) for r in rows[:limit]]
    next_after = (rows[limit - 1]["ts_us"], rows[limit - 1]["seq"]) if len(rows) > limit else None
    return Page(items=items, next_after=next_after)


def _search(conn: psycopg.Connection, project_id: str, q: EventQuery, where: list[str],
            args: list[Any]) -> Page[StoredEvent]:
    """Text search, newest stored first (as SQLite's FTS walk): the cursor's seq is the keyset."""
    match = tsquery(q.text or "")
    if match is None:
        return Page(items=[], next_after=None)
    if q.tag is not None:
        where.append("e.seq IN (SELECT seq FROM event_tags WHERE project_id = %s AND tag = %s)")
        args += [project_id, q.tag]
    if q.since_us is not None:
        where.append("e.ts_us >= %s")
        args.append(q.since_us)
    if q.until_us is not None:
        where.append("e.ts_us < %s")
        args.append(q.until_us)
    if q.after is not None:
        where.append("e.seq < %s")
        args.append(q.after[1])
    rows = _search_recent(conn, where, args, match, q.limit + 1)
    if rows is None:
        # "+ 0" keeps the planner off the seq index: it takes the GIN bitmap and sorts the matches,
        # which _search_recent only leaves to us when they are few.
        rows = conn.execute(
            f"SELECT {_EVENT_SELECT} FROM events e WHERE {' AND '.join(where)}"
            " AND e.search @@ to_tsquery('simple', %s) ORDER BY e.seq + 0 DESC LIMIT %s",
            (*args, match, q.limit + 1),
        ).fetchall()
    return _page(rows, q.limit)


def _search_recent(conn: psycopg.Connection, where: list[str], args: list[Any], match: str,
                   limit: int) -> list[dict[str, Any]] | None:
    """Text search among the newest RECENT_WINDOW candidate events (walking the (project, seq) index).

    A common word fills the page from the newest events at once; a rare one does not, and then the
    caller asks the GIN index for every match and sorts them (cheap, because they are few). Returns
    None when this window did not fill the page. Either way the result is the exact newest matches.
    """
    rows = conn.execute(
        f"SELECT {_EVENT_SELECT} FROM events e WHERE e.seq IN (SELECT c.seq FROM (SELECT e.seq, e.search"
        f" FROM events e WHERE {' AND '.join(where)} ORDER BY e.seq DESC LIMIT {RECENT_WINDOW}) c"
        " WHERE c.search @@ to_tsquery('simple', %s) ORDER BY c.seq DESC LIMIT %s) ORDER BY e.seq DESC",
        (*args, match, limit),
    ).fetchall()
    return rows if len(rows) >= limit else None


def list_feedback(conn: psycopg.Connection, project_id: str, event_id: str) -> list[FeedbackRecord]:
    rows = conn.execute(
        "SELECT id, event_id, flag, comment, source, created_us FROM feedback"
        " WHERE project_id = %s AND event_id = %s ORDER BY id",
        (project_id, event_id),
    ).fetchall()
    return [FeedbackRecord(**r) for r in rows]


def get_session(conn: psycopg.Connection, project_id: str, session_id: str) -> SessionRecord | None:
    row = conn.execute(
        "SELECT * FROM sessions WHERE project_id = %s AND session_id = %s", (project_id, session_id)
    ).fetchone()
    return session_record(row) if row else None


def list_sessions(conn: psycopg.Connection, project_id: str, q: SessionQuery) -> Page[SessionRecord]:
    where, args = session_where(project_id, q, POSTGRES)
    rows = conn.execute(
        f"SELECT s.* FROM sessions s WHERE {' AND '.join(where)} ORDER BY s.end_us DESC, s.session_id DESC LIMIT %s",
        (*args, q.limit + 1),
    ).fetchall()
    items = [session_record(r) for r in rows[: q.limit]]
    last = rows[q.limit - 1] if len(rows) > q.limit else None
    return Page(items=items, next_after=(last["end_us"], last["session_id"]) if last else None)


def session_events(conn: psycopg.Connection, project_id: str, session_id: str, limit: int) -> list[StoredEvent]:
    rows = conn.execute(
        f"SELECT {_EVENT_SELECT} FROM events e WHERE e.project_id = %s AND e.session_id = %s"
        " ORDER BY e.ts_us, e.seq LIMIT %s",
        (project_id, session_id, limit),
    ).fetchall()
    return [stored_event(r) for r in rows]

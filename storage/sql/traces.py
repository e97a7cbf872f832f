"""Trace context rows and relabelling: a trace's session and user come from its earliest naming span."""

from __future__ import annotations

from typing import Any

from phosphobs.storage.sessions import TraceContext, effective_session
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges


def write_contexts(conn: Conn, project: str, contexts: list[tuple[str, TraceContext]]) -> None:
    conn.executemany(
        "INSERT INTO trace_context (project_id, trace_id, session_start_us, session_id, user_start_us, user_id)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, trace_id) DO UPDATE SET"
        " session_start_us = excluded.session_start_us, session_id = excluded.session_id,"
        " user_start_us = excluded.user_start_us, user_id = excluded.user_id",
        [(project, trace, *context) for trace, context in contexts],
    )


def context_of(row: Any) -> TraceContext:
    return TraceContext(row["session_start_us"], row["session_id"], row["user_start_us"], row["user_id"])


def relabel(conn: Conn, project: str, contexts: dict[str, TraceContext | None], changes: SessionChanges) -> None:
    """Stored events of traces whose session or user changed move to their new session."""
    d = conn.dialect
    for ev in d.rows_in(conn, "SELECT seq, session_id, user_id, explicit_session_id, explicit_user_id, trace_id"
                              f" FROM events WHERE project_id = ? AND trace_id {{in}} ORDER BY seq{d.for_update}",
                        (project,), list(contexts)):
        context = contexts[ev["trace_id"]]
        session_id, kind, user_id = effective_session(
            ev["explicit_session_id"], ev["explicit_user_id"], ev["trace_id"],
            context.session_id if context else None, context.user_id if context else None)
        if (session_id, user_id) != (ev["session_id"], ev["user_id"]):
            conn.execute("UPDATE events SET session_id = ?, session_kind = ?, user_id = ? WHERE seq = ?",
                         (session_id, kind, user_id, ev["seq"]))
            changes.recompute((project, ev["session_id"]))
            changes.recompute((project, session_id))

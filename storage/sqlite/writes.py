"""The SQLite write transaction: one per group commit, one savepoint per op."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.protocol import (
    FeedbackOp,
    IngestOp,
    RateLimitState,
    TouchKeyOp,
    WriteOp,
    WriteResult,
)
from phosphobs.storage.rows import EVENT_COLUMNS, event_row
from phosphobs.storage.sessions import TraceContext, effective_session, merge_trace_hint
from phosphobs.storage.sqlite.connection import lookup_in
from phosphobs.storage.sqlite.patches import merge_pending, refresh_patched, store_patches
from phosphobs.storage.sqlite.rollup import FACT_COLUMNS, facts_from_row, facts_of, with_flag
from phosphobs.storage.sqlite.rollup import apply as apply_usage
from phosphobs.storage.sqlite.sessions import SessionChanges, assign_user_window

_INSERT_EVENT = (
    f"INSERT INTO events (seq, {', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * (len(EVENT_COLUMNS) + 1))})"
)
WINDOW_US = 60_000_000
KEY_TOUCH_EVERY_US = 60_000_000


def write_ops(conn: sqlite3.Connection, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
    """Apply all ops in one transaction; an op that fails is rolled back alone and reported.

    Optimistic first: no savepoints, because one per op costs ~5 % of the writer (more with the FTS
    table, whose savepoints are virtual-table calls). Only if some op raises is the whole commit redone
    with a savepoint around each op, so that op alone fails.
    """
    try:
        return _transaction(conn, ops, now_us, isolate=False)
    except _OpFailed:
        return _transaction(conn, ops, now_us, isolate=True)


class _OpFailed(Exception):
    """An op raised inside an optimistic (savepoint-free) commit; the commit was rolled back."""


def _transaction(conn: sqlite3.Connection, ops: list[WriteOp], now_us: int, *, isolate: bool) -> list[WriteResult]:
    results: list[WriteResult] = []
    committed = SessionChanges()  # what the ops that succeeded did to sessions, written once per commit
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            if not isolate:
                try:
                    results.append(_apply(conn, op, now_us, committed))
                except Exception as exc:
                    raise _OpFailed from exc
                continue
            conn.execute("SAVEPOINT op")
            changes = SessionChanges()
            try:
                results.append(_apply(conn, op, now_us, changes))
                conn.execute("RELEASE op")
                committed.absorb(changes)  # a failed op's changes are dropped with its savepoint
            except Exception as exc:  # one bad op must never sink the others in its commit
                conn.execute("ROLLBACK TO op")
                conn.execute("RELEASE op")
                results.append(WriteResult(ok=False, error=f"storage error: {exc}"))
        committed.flush(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return results


def _apply(conn: sqlite3.Connection, op: WriteOp, now_us: int, changes: SessionChanges) -> WriteResult:
    if isinstance(op, IngestOp):
        return _ingest(conn, op, now_us, changes)
    if isinstance(op, FeedbackOp):
        return _feedback(conn, op, now_us, changes)
    if isinstance(op, TouchKeyOp):
        conn.execute(
            "UPDATE api_keys SET last_used_us = ? WHERE id = ? AND"
            " (last_used_us IS NULL OR last_used_us < ?)",
            (op.used_us, op.key_id, op.used_us - KEY_TOUCH_EVERY_US),
        )
        return WriteResult(ok=True)
    raise TypeError(f"unknown write op {type(op).__name__}")


def _charge(conn: sqlite3.Connection, op: IngestOp, now_us: int) -> tuple[bool, RateLimitState | None]:
    """Count the op's items against the project's per-minute budget; refuse it whole if over."""
    if op.rate_limit_per_min is None:
        return True, None
    window = now_us // WINDOW_US
    cost = len(op.events) + len(op.patches)
    row = conn.execute(
        "SELECT used FROM rate_windows WHERE project_id = ? AND window_start = ?", (op.project_id, window)
    ).fetchone()
    used = row["used"] if row else 0
    reset_us = (window + 1) * WINDOW_US
    if used + cost > op.rate_limit_per_min:
        return False, RateLimitState(op.rate_limit_per_min, max(0, op.rate_limit_per_min - used), reset_us)
    conn.execute(
        "INSERT INTO rate_windows (project_id, window_start, used) VALUES (?, ?, ?)"
        " ON CONFLICT (project_id, window_start) DO UPDATE SET used = used + excluded.used",
        (op.project_id, window, cost),
    )
    if row is None:  # first use of a new window: forget old ones
        conn.execute(
            "DELETE FROM rate_windows WHERE project_id = ? AND window_start < ?", (op.project_id, window - 1)
        )
    return True, RateLimitState(op.rate_limit_per_min, op.rate_limit_per_min - used - cost, reset_us)


def _ingest(conn: sqlite3.Connection, op: IngestOp, now_us: int, changes: SessionChanges) -> WriteResult:
    allowed, limit_state = _charge(conn, op, now_us)
    if not allowed:
        return WriteResult(ok=False, rate_limited=True, rate_limit=limit_state)
    project = op.project_id
    if op.trace_hints:
        _apply_trace_hints(conn, project, op.trace_hints, changes)
    if op.patches:  # before the events: a span in this same op picks its patches up on insert
        refresh_patched(conn, project, store_patches(conn, project, op.patches), changes)
    ids = list(dict.fromkeys(e.event_id for e in op.events))
    seen = {r[0] for r in lookup_in(conn, "SELECT event_id FROM events WHERE project_id = ? AND event_id IN ({marks})",
                                  project, ids)}
    statuses: list = []
    fresh: list[Event] = []
    for event in op.events:
        if event.event_id in seen:
            statuses.append("duplicate")
        else:
            seen.add(event.event_id)
            statuses.append("created")
            fresh.append(event)
    if fresh:
        _insert_events(conn, project, merge_pending(conn, project, fresh), op.received_us or now_us, changes)
    return WriteResult(ok=True, statuses=statuses, rate_limit=limit_state)


def _insert_events(conn: sqlite3.Connection, project: str, events: list[Event], received_us: int,
                   changes: SessionChanges) -> None:
    """Insert new events in bulk; seq values are assigned here (we hold the write lock) so that the
    full-text rows, tags and user windows can refer to them without a round trip per event."""
    flags = {r[0]: r[1] for r in lookup_in(
        conn, "SELECT event_id, flag FROM feedback WHERE project_id = ? AND event_id IN ({marks}) ORDER BY id",
        project, [e.event_id for e in events])}
    traces = list({e.trace_id for e in events if e.trace_id})
    contexts = {r["trace_id"]: r for r in lookup_in(
        conn, "SELECT trace_id, session_id, user_id FROM trace_context WHERE project_id = ? AND trace_id IN ({marks})",
        project, traces)} if traces else {}
    first_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()[0]
    rows, fts, tags, windowed = [], [], [], []
    for offset, event in enumerate(events):
        seq = first_seq + offset
        session_id, kind, user_id = _effective(event, contexts.get(event.trace_id or ""))
        flag = flags.get(event.event_id, event.flag)
        rows.append((seq, *event_row(project, event, session_id, kind, user_id, flag, received_us)))
        fts.append((seq, event.input, event.output))
        tags += [(project, tag, event.timestamp_us, seq) for tag in set(event.tags)]
        if session_id is not None:
            _count(changes, project, session_id, kind, user_id, flag, event)
        elif user_id is not None:
            windowed.append((event.timestamp_us, seq, user_id, flag, event))
    conn.executemany(_INSERT_EVENT, rows)
    apply_usage(conn, project, [], [facts_of(e, flags.get(e.event_id, e.flag)) for e in events])
    conn.executemany("INSERT INTO events_fts (rowid, input, output) VALUES (?, ?, ?)", fts)
    if tags:
        conn.executemany("INSERT OR IGNORE INTO event_tags (project_id, tag, ts_us, seq) VALUES (?, ?, ?, ?)", tags)
    for ts_us, seq, user_id, flag, event in sorted(windowed, key=lambda w: (w[0], w[1])):
        session_id = assign_user_window(conn, project, user_id, seq, ts_us, changes)
        _count(changes, project, session_id, "user", user_id, flag, event)


def _count(changes: SessionChanges, project: str, session_id: str, kind: str | None, user_id: str | None,
           flag: str | None, event: Event) -> None:
    changes.add_event((project, session_id), kind or "explicit", event.timestamp_us, user_id, flag, event.model,
                      event.tags, event.tokens_in, event.tokens_out, event.cost_cents)


def _apply_trace_hints(conn: sqlite3.Connection, project: str, hints: list[TraceHint],
                       changes: SessionChanges) -> None:
    """Keep the earliest span's session/user per trace; relabel stored events of traces that changed.

    Set-wise (a handful of statements per request, not per span): hints are folded per trace first.
    """
    rows = lookup_in(conn, "SELECT trace_id, session_start_us, session_id, user_start_us, user_id FROM trace_context"
                           " WHERE project_id = ? AND trace_id IN ({marks})", project,
                     list({h.trace_id for h in hints}))
    contexts: dict[str, TraceContext | None] = {
        r["trace_id"]: (r["session_start_us"], r["session_id"], r["user_start_us"], r["user_id"]) for r in rows}
    changed: dict[str, TraceContext] = {}
    for hint in hints:
        merged = merge_trace_hint(contexts.get(hint.trace_id), hint.start_us, hint.session_id, hint.user_id)
        if merged is not None:
            contexts[hint.trace_id] = changed[hint.trace_id] = merged
    if not changed:
        return
    conn.executemany(
        "INSERT INTO trace_context (project_id, trace_id, session_start_us, session_id, user_start_us, user_id)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, trace_id) DO UPDATE SET"
        " session_start_us = excluded.session_start_us, session_id = excluded.session_id,"
        " user_start_us = excluded.user_start_us, user_id = excluded.user_id",
        [(project, trace_id, *ctx) for trace_id, ctx in changed.items()],
    )
    for ev in lookup_in(conn, "SELECT seq, session_id, user_id, explicit_session_id, explicit_user_id, trace_id"
                              " FROM events WHERE project_id = ? AND trace_id IN ({marks})", project, list(changed)):
        ctx = changed[ev["trace_id"]]
        session_id, kind, user_id = effective_session(ev["explicit_session_id"], ev["explicit_user_id"],
                                                      ev["trace_id"], ctx[1], ctx[3])
        if (session_id, user_id) != (ev["session_id"], ev["user_id"]):
            conn.execute(
                "UPDATE events SET session_id = ?, session_kind = ?, user_id = ? WHERE seq = ?",
                (session_id, kind, user_id, ev["seq"]),
            )
            changes.recompute((project, ev["session_id"]))
            changes.recompute((project, session_id))


def _feedback(conn: sqlite3.Connection, op: FeedbackOp, now_us: int, changes: SessionChanges) -> WriteResult:
    fb = op.feedback
    conn.execute(
        "INSERT INTO feedback (project_id, event_id, flag, comment, source, created_us) VALUES (?, ?, ?, ?, ?, ?)",
        (op.project_id, fb.event_id, fb.flag, fb.comment, fb.source, op.received_us or now_us),
    )
    row = conn.execute(
        f"SELECT seq, session_id, {FACT_COLUMNS} FROM events WHERE project_id = ? AND event_id = ?",
        (op.project_id, fb.event_id),
    ).fetchone()
    if row is not None:
        conn.execute("UPDATE events SET flag = ? WHERE seq = ?", (fb.flag, row["seq"]))
        apply_usage(conn, op.project_id, [facts_from_row(row)], [with_flag(facts_from_row(row), fb.flag)])
        if row["session_id"]:
            changes.flag_changed((op.project_id, row["session_id"]), row["flag"], fb.flag)
    return WriteResult(ok=True)


def _effective(event: Event, ctx: sqlite3.Row | None) -> tuple[str | None, str | None, str | None]:
    return effective_session(event.session_id, event.user_id, event.trace_id, ctx["session_id"] if ctx else None,
                             ctx["user_id"] if ctx else None)

"""The SQLite write transaction: one per group commit, one savepoint per op."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.detection_sql import ENQUEUE, Sql, store_evaluations
from phosphobs.storage.models import Event
from phosphobs.storage.protocol import (
    FeedbackOp,
    IngestOp,
    RateLimitState,
    TouchKeyOp,
    WriteOp,
    WriteResult,
)
from phosphobs.storage.rows import EVENT_COLUMNS, event_row
from phosphobs.storage.sessions import TraceContext, effective_session
from phosphobs.storage.sqlite import trace_context
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


def write_ops(conn: sqlite3.Connection, ops: list[WriteOp], now_us: int, detect: bool = True) -> list[WriteResult]:
    """Apply all ops in one transaction; an op that fails is rolled back alone and reported.

    Optimistic first: no savepoints, because one per op costs ~5 % of the writer (more with the FTS
    table, whose savepoints are virtual-table calls). Only if some op raises is the whole commit redone
    with a savepoint around each op, so that op alone fails.

    `detect`: queue every new event for detection, in this same transaction (a 2xx implies it will be
    evaluated).
    """
    try:
        return _transaction(conn, ops, now_us, detect, isolate=False)
    except _OpFailed:
        return _transaction(conn, ops, now_us, detect, isolate=True)


class _OpFailed(Exception):
    """An op raised inside an optimistic (savepoint-free) commit; the commit was rolled back."""


def _transaction(conn: sqlite3.Connection, ops: list[WriteOp], now_us: int, detect: bool, *,
                 isolate: bool) -> list[WriteResult]:
    results: list[WriteResult] = []
    committed = SessionChanges()  # what the ops that succeeded did to sessions, written once per commit
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            if not isolate:
                try:
                    results.append(_apply(conn, op, now_us, committed, detect))
                except Exception as exc:
                    raise _OpFailed from exc
                continue
            conn.execute("SAVEPOINT op")
            changes = SessionChanges()
            try:
                results.append(_apply(conn, op, now_us, changes, detect))
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


def _apply(conn: sqlite3.Connection, op: WriteOp, now_us: int, changes: SessionChanges,
           detect: bool) -> WriteResult:
    if isinstance(op, IngestOp):
        return _ingest(conn, op, now_us, changes, detect)
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


def _ingest(conn: sqlite3.Connection, op: IngestOp, now_us: int, changes: SessionChanges,
            detect: bool) -> WriteResult:
    allowed, limit_state = _charge(conn, op, now_us)
    if not allowed:
        return WriteResult(ok=False, rate_limited=True, rate_limit=limit_state)
    project = op.project_id
    contexts = trace_context.resolve(conn, project, op.trace_hints, op.events, changes)
    if op.patches:  # before the events: a span in this same op picks its patches up on insert
        refresh_patched(conn, project, store_patches(conn, project, op.patches), changes,
                        (op.received_us or now_us) if detect else None)
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
        _insert_events(conn, project, merge_pending(conn, project, fresh), op.received_us or now_us, contexts,
                       changes, detect)
    if op.evaluations:
        store_evaluations(Sql(conn, "?"), project, op.evaluations, op.received_us or now_us)
    return WriteResult(ok=True, statuses=statuses, rate_limit=limit_state)


def _insert_events(conn: sqlite3.Connection, project: str, events: list[Event], received_us: int,
                   contexts: dict[str, TraceContext | None], changes: SessionChanges, detect: bool) -> None:
    """Insert new events in bulk; seq values are assigned here (we hold the write lock) so that the
    full-text rows, tags and user windows can refer to them without a round trip per event.

    `contexts`: the session and user of every trace of `events` (`trace_context.resolve`)."""
    flags = {r[0]: r[1] for r in lookup_in(
        conn, "SELECT event_id, flag FROM feedback WHERE project_id = ? AND event_id IN ({marks}) ORDER BY id",
        project, [e.event_id for e in events])}
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
    if detect:
        conn.executemany(ENQUEUE, [(r[0], project, r[2], received_us) for r in rows])
    if flags:  # feedback that arrived first: the human flag is the final one
        conn.executemany("UPDATE events SET flag_source = 'user' WHERE project_id = ? AND event_id = ?",
                         [(project, event_id) for event_id in flags])
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
        conn.execute("UPDATE events SET flag = ?, flag_source = 'user' WHERE seq = ?", (fb.flag, row["seq"]))
        apply_usage(conn, op.project_id, [facts_from_row(row)], [with_flag(facts_from_row(row), fb.flag)])
        if row["session_id"]:
            changes.flag_changed((op.project_id, row["session_id"]), row["flag"], fb.flag)
    return WriteResult(ok=True)


def _effective(event: Event, ctx: TraceContext | None) -> tuple[str | None, str | None, str | None]:
    return effective_session(event.session_id, event.user_id, event.trace_id, ctx[1] if ctx else None,
                             ctx[3] if ctx else None)

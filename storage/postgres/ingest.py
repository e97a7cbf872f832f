"""Inserting events on Postgres: dedupe by `ON CONFLICT DO NOTHING`, effective session, trace hints.

Mirrors `storage/sqlite/writes.py`; the caller already holds the advisory locks (see `locks.py`).
"""

from __future__ import annotations

from typing import Any

import psycopg
from phosphobs.storage.detection_sql import Sql, store_evaluations
from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.postgres import rollup
from phosphobs.storage.postgres.patches import merge_pending, refresh_patched, store_patches
from phosphobs.storage.postgres.search import document
from phosphobs.storage.postgres.sessions import SessionChanges, assign_user_window
from phosphobs.storage.protocol import IngestOp, RateLimitState, WriteResult
from phosphobs.storage.rows import EVENT_COLUMNS, event_row
from phosphobs.storage.sessions import effective_session, merge_trace_hint

# (column, array type, value expression) in EVENT_COLUMNS order; json columns arrive as text.
_TYPES = {"ts_us": "bigint", "latency_ms": "float8", "tokens_in": "bigint", "tokens_out": "bigint",
          "cost_cents": "float8", "received_us": "bigint"}
_CASTS = {"tags": "::json", "metadata": "::json"}
_ARRAYS = ", ".join(f"%s::{_TYPES.get(c, 'text')}[]" for c in (*EVENT_COLUMNS, "search"))
_INSERT_EVENTS = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}, search)"
    f" SELECT {', '.join(c + _CASTS.get(c, '') for c in EVENT_COLUMNS)}, strip(to_tsvector('simple', search))"
    f" FROM unnest({_ARRAYS}) WITH ORDINALITY AS t({', '.join(EVENT_COLUMNS)}, search, n) ORDER BY n"
    " ON CONFLICT (project_id, event_id) DO NOTHING RETURNING event_id, seq"
)
_NUMERIC = {EVENT_COLUMNS.index(c): (float if _TYPES[c] == "float8" else int) for c in _TYPES}


def ingest(conn: psycopg.Connection, op: IngestOp, now_us: int, changes: SessionChanges,
           limit_state: RateLimitState | None, detect: bool = True) -> WriteResult:
    project = op.project_id
    for hint in op.trace_hints:
        apply_trace_hint(conn, project, hint, changes)
    if op.patches:  # before the events: a span in this same op picks its patches up on insert
        refresh_patched(conn, project, store_patches(conn, project, op.patches), changes,
                        (op.received_us or now_us) if detect else None)
    ids = list(dict.fromkeys(e.event_id for e in op.events))
    existing = {r["event_id"] for r in conn.execute(
        "SELECT event_id FROM events WHERE project_id = %s AND event_id = ANY(%s)", (project, ids)).fetchall()}
    fresh: dict[str, Event] = {}
    for event in op.events:
        if event.event_id not in existing and event.event_id not in fresh:
            fresh[event.event_id] = event
    created: set[str] = set()
    if fresh:
        created = _insert_events(conn, project, merge_pending(conn, project, list(fresh.values())),
                                 op.received_us or now_us, changes, detect)
    if op.evaluations:
        store_evaluations(Sql(conn, "%s"), project, op.evaluations, op.received_us or now_us)
    statuses: list[Any] = []
    for event in op.events:
        statuses.append("created" if event.event_id in created else "duplicate")
        created.discard(event.event_id)  # a repeat within the request is a duplicate of the first
    return WriteResult(ok=True, statuses=statuses, rate_limit=limit_state)


def _insert_events(conn: psycopg.Connection, project: str, events: list[Event], received_us: int,
                   changes: SessionChanges, detect: bool) -> set[str]:
    """One INSERT … SELECT FROM unnest(arrays) for the whole op; returns the ids actually inserted
    (an id another worker committed first comes back as nothing, and is a duplicate)."""
    ids = [e.event_id for e in events]
    flags = {r["event_id"]: r["flag"] for r in conn.execute(
        "SELECT event_id, flag FROM feedback WHERE project_id = %s AND event_id = ANY(%s) ORDER BY id",
        (project, ids)).fetchall()}
    traces = list({e.trace_id for e in events if e.trace_id})
    contexts = {r["trace_id"]: r for r in conn.execute(
        "SELECT trace_id, session_id, user_id FROM trace_context WHERE project_id = %s AND trace_id = ANY(%s)",
        (project, traces)).fetchall()} if traces else {}
    columns: list[list[Any]] = [[] for _ in range(len(EVENT_COLUMNS) + 1)]
    derived = {}
    for event in events:
        session_id, kind, user_id = _effective(event, contexts.get(event.trace_id or ""))
        flag = flags.get(event.event_id, event.flag)
        derived[event.event_id] = (session_id, kind, user_id, flag)
        row = event_row(project, event, session_id, kind, user_id, flag, received_us)
        for i, value in enumerate(row):
            columns[i].append(value if value is None or i not in _NUMERIC else _NUMERIC[i](value))
        columns[-1].append(document(event.input, event.output))
    inserted = {r["event_id"]: r["seq"] for r in conn.execute(_INSERT_EVENTS, columns).fetchall()}
    if detect and inserted:  # queued in this transaction: a 2xx implies the event will be evaluated
        conn.execute("INSERT INTO detection_queue (seq, project_id, event_id, enqueued_us)"
                     " SELECT seq, %s, event_id, %s FROM unnest(%s::bigint[], %s::text[]) AS t(seq, event_id)"
                     " ON CONFLICT (seq) DO NOTHING",
                     (project, received_us, list(inserted.values()), list(inserted)))
    preflagged = [event_id for event_id in inserted if event_id in flags]
    if preflagged:  # feedback that arrived first: the human flag is the final one
        conn.execute("UPDATE events SET flag_source = 'user' WHERE project_id = %s AND event_id = ANY(%s)",
                     (project, preflagged))
    tags: list[tuple[str, int, int]] = []
    windowed = []
    facts = []
    for event in events:
        seq = inserted.get(event.event_id)
        if seq is None:
            continue
        session_id, kind, user_id, flag = derived[event.event_id]
        facts.append(rollup.facts_of(event, flag))
        tags += [(tag, event.timestamp_us, seq) for tag in set(event.tags)]
        if session_id is not None:
            count_event(changes, project, session_id, kind, user_id, flag, event)
        elif user_id is not None:
            windowed.append((event.timestamp_us, seq, user_id, flag, event))
    changes.usage(project, [], facts)
    if tags:
        conn.execute(
            "INSERT INTO event_tags (project_id, tag, ts_us, seq) SELECT %s, * FROM"
            " unnest(%s::text[], %s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
            (project, [t[0] for t in tags], [t[1] for t in tags], [t[2] for t in tags]),
        )
    for ts_us, seq, user_id, flag, event in sorted(windowed, key=lambda w: (w[0], w[1])):
        session_id = assign_user_window(conn, project, user_id, seq, ts_us, changes)
        count_event(changes, project, session_id, "user", user_id, flag, event)
    return set(inserted)


def count_event(changes: SessionChanges, project: str, session_id: str, kind: str | None, user_id: str | None,
                flag: str | None, event: Event) -> None:
    changes.add_event((project, session_id), kind or "explicit", event.timestamp_us, user_id, flag, event.model,
                      event.tags, event.tokens_in, event.tokens_out, event.cost_cents)


def apply_trace_hint(conn: psycopg.Connection, project: str, hint: TraceHint, changes: SessionChanges) -> None:
    """Keep the earliest span's session/user per trace; relabel the trace's events if it changed."""
    row = conn.execute(
        "SELECT session_start_us, session_id, user_start_us, user_id FROM trace_context"
        " WHERE project_id = %s AND trace_id = %s",
        (project, hint.trace_id),
    ).fetchone()
    current = (row["session_start_us"], row["session_id"], row["user_start_us"], row["user_id"]) if row else None
    after = merge_trace_hint(current, hint.start_us, hint.session_id, hint.user_id)
    if after is None:
        return
    conn.execute(
        "INSERT INTO trace_context (project_id, trace_id, session_start_us, session_id, user_start_us, user_id)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (project_id, trace_id) DO UPDATE SET"
        " session_start_us = excluded.session_start_us, session_id = excluded.session_id,"
        " user_start_us = excluded.user_start_us, user_id = excluded.user_id",
        (project, hint.trace_id, *after),
    )
    for ev in conn.execute(
        "SELECT seq, session_id, user_id, explicit_session_id, explicit_user_id, trace_id FROM events"
        " WHERE project_id = %s AND trace_id = %s ORDER BY seq FOR UPDATE",
        (project, hint.trace_id),
    ).fetchall():
        session_id, kind, user_id = effective_session(ev["explicit_session_id"], ev["explicit_user_id"],
                                                      ev["trace_id"], after[1], after[3])
        if (session_id, user_id) != (ev["session_id"], ev["user_id"]):
            conn.execute("UPDATE events SET session_id = %s, session_kind = %s, user_id = %s WHERE seq = %s",
                         (session_id, kind, user_id, ev["seq"]))
            changes.recompute((project, ev["session_id"]))
            changes.recompute((project, session_id))


def _effective(event: Event, ctx: dict | None) -> tuple[str | None, str | None, str | None]:
    return effective_session(event.session_id, event.user_id, event.trace_id, ctx["session_id"] if ctx else None,
                             ctx["user_id"] if ctx else None)

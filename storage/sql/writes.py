"""The group commit, shared by every backend: ops applied in order, each all-or-nothing.

A backend brings the transaction (begin, locks, retries, commit) and its `WriteHooks`: rate-limit
charging, how a batch of event rows is inserted and how trace contexts are resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from phosphobs.storage.call_links import absorb, link_new_events, settle_patches
from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.protocol import FeedbackOp, IngestOp, RateLimitState, TouchKeyOp, WriteOp, WriteResult
from phosphobs.storage.rows import event_row
from phosphobs.storage.sessions import TraceContext, effective_session
from phosphobs.storage.sql.call_links import SqlLinks
from phosphobs.storage.sql.detection import store_evaluations
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.patches import merge_pending, refresh_patched, store_patches
from phosphobs.storage.sql.sessions import SessionChanges, assign_user_window
from phosphobs.storage.sql.span_tree import absorbed_spans, needs_tree_work, write_spans
from phosphobs.storage.usage_facts import FACT_COLUMNS, facts_from_row, facts_of, with_flag

WINDOW_US = 60_000_000  # rate limits count per minute
KEY_TOUCH_EVERY_US = 60_000_000  # a key's last use is written at most once a minute
TAG_COLUMNS = (("project_id", "text"), ("tag", "text"), ("ts_us", "bigint"), ("seq", "bigint"))
QUEUE_COLUMNS = (("seq", "bigint"), ("project_id", "text"), ("event_id", "text"), ("enqueued_us", "bigint"))

class WriteHooks(Protocol):
    """What a backend's write transaction brings to the shared ops."""

    def charge(self, conn: Conn, index: int, op: IngestOp, now_us: int) -> tuple[bool, RateLimitState | None]:
        """(allowed, state) of an ingest op against its project's per-minute budget."""
        ...

    def trace_contexts(self, conn: Conn, project: str, hints: list[TraceHint], events: list[Event],
                       changes: SessionChanges) -> dict[str, TraceContext | None]:
        """Fold hints into their traces (relabelling stored events); the context of every trace of both."""
        ...

    def insert_events(self, conn: Conn, events: list[Event], rows: list[tuple[Any, ...]]) -> Sequence[int | None]:
        """Insert new events' rows (`rows.event_row`); each one's seq, None where another writer won."""
        ...


class OpFailed(Exception):
    """An op raised inside an optimistic (savepoint-free) commit."""


def group_commit(transaction: Callable[[Callable[[Conn], list[WriteResult]]], list[WriteResult]],
                 ops: list[WriteOp], now_us: int, hooks: WriteHooks, detect: bool = True) -> list[WriteResult]:
    """All ops in one `transaction`, each succeeding or failing alone, with the sessions and rollups they
    changed written once. Optimistic first, without savepoints: one per op costs ~5 % of the SQLite writer
    and each is a subtransaction on Postgres. Only if an op raises is the commit redone with a savepoint
    around each op, so that op alone fails.

    `detect`: every new event is queued for detection in this same transaction (a 2xx implies it will be
    evaluated); content that changes a stored event queues it again."""
    try:
        return transaction(partial(_apply_all, ops=ops, now_us=now_us, hooks=hooks, isolate=False, detect=detect))
    except OpFailed:
        return transaction(partial(_apply_all, ops=ops, now_us=now_us, hooks=hooks, isolate=True, detect=detect))


def _apply_all(conn: Conn, ops: list[WriteOp], now_us: int, hooks: WriteHooks, isolate: bool,
               detect: bool) -> list[WriteResult]:
    results: list[WriteResult] = []
    committed = SessionChanges()  # what the ops that succeeded did
    retryable = conn.dialect.retryable
    for i, op in enumerate(ops):
        if not isolate:
            try:
                results.append(_apply(conn, i, op, now_us, committed, hooks, detect))
            except retryable:
                raise
            except Exception as exc:
                raise OpFailed from exc
            continue
        conn.execute("SAVEPOINT op")
        changes = SessionChanges()
        try:
            results.append(_apply(conn, i, op, now_us, changes, hooks, detect))
            conn.execute("RELEASE op")
            committed.absorb(changes)  # a failed op's changes are dropped with its savepoint
        except retryable:
            raise  # the whole transaction is retried
        except Exception as exc:  # one bad op must never sink the others in its commit
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            results.append(WriteResult(ok=False, error=f"storage error: {exc}"))
    committed.flush(conn)
    return results


def _apply(conn: Conn, i: int, op: WriteOp, now_us: int, changes: SessionChanges, hooks: WriteHooks,
           detect: bool) -> WriteResult:
    if isinstance(op, IngestOp):
        allowed, state = hooks.charge(conn, i, op, now_us)
        if not allowed:
            return WriteResult(ok=False, rate_limited=True, rate_limit=state)
        return _ingest(conn, op, now_us, changes, state, hooks, detect)
    if isinstance(op, FeedbackOp):
        return _feedback(conn, op, now_us, changes)
    if isinstance(op, TouchKeyOp):
        conn.execute("UPDATE api_keys SET last_used_us = ? WHERE id = ? AND (last_used_us IS NULL OR last_used_us < ?)",
                     (op.used_us, op.key_id, op.used_us - KEY_TOUCH_EVERY_US))
        return WriteResult(ok=True)
    raise TypeError(f"unknown write op {type(op).__name__}")


def op_cost(op: IngestOp) -> int:
    """What an op counts against its project's per-minute budget."""
    return len(op.events) + len(op.patches)


def _ingest(conn: Conn, op: IngestOp, now_us: int, changes: SessionChanges, state: RateLimitState | None,
            hooks: WriteHooks, detect: bool) -> WriteResult:
    project = op.project_id
    received = op.received_us or now_us
    stored, flags = _known(conn, project, list(dict.fromkeys(e.event_id for e in op.events)))
    fresh: dict[str, Event] = {}
    for event in op.events:
        if event.event_id not in stored and event.event_id not in fresh:
            fresh[event.event_id] = event
    links = SqlLinks(conn)
    new, members, root_keys = absorb(links, project, list(fresh.values()))  # spans of stored calls
    # an absorbed span's own session hint is in no event row: the trace context must keep it
    absorbed = set(fresh) - {e.event_id for e in new} if len(new) != len(fresh) else set()
    rowed = [e for e in op.events if e.event_id not in absorbed] if absorbed else op.events
    contexts = hooks.trace_contexts(conn, project, op.trace_hints, rowed, changes)
    patches = settle_patches(links, project, [*op.patches, *members])
    if patches:  # before the events: a span in this same op picks its patches up on insert
        refresh_patched(conn, project, store_patches(conn, project, patches), changes,
                        received if detect else None)
    created: set[str] = set()
    if new:
        link_new_events(links, project, new, root_keys)
        created = _insert_events(conn, project, merge_pending(conn, project, new), received, contexts, flags,
                                 changes, hooks, detect)
    created |= absorbed  # stored as members of the events of their calls
    if op.evaluations:
        store_evaluations(conn, project, op.evaluations, received, enqueue=detect)
    spans = op.spans
    if absorbed:  # a call span joined to a stored call keeps its place in the tree, pointing at that call
        spans = [*spans, *absorbed_spans(links.aliases(project, sorted(absorbed)),
                                         [e for e in fresh.values() if e.event_id in absorbed])]
    if needs_tree_work(spans, op.events):
        write_spans(conn, project, spans, op.events, op.received_us or now_us)
    statuses: list[Any] = []
    for event in op.events:
        statuses.append("created" if event.event_id in created else "duplicate")
        created.discard(event.event_id)  # a repeat within the request is a duplicate of the first
    return WriteResult(ok=True, statuses=statuses, rate_limit=state)


def _known(conn: Conn, project: str, ids: list[str]) -> tuple[set[str], dict[str, str]]:
    """Which of `ids` are stored, and the latest feedback flag of each (feedback may arrive before its
    event): one round trip, the hot path of every single-event request."""
    rows = conn.dialect.rows_in_union(conn, (
        "SELECT event_id, NULL AS flag, 0 AS feedback_id FROM events WHERE project_id = ? AND event_id {in}",
        "SELECT event_id, flag, id AS feedback_id FROM feedback WHERE project_id = ? AND event_id {in}",
    ), (project,), ids)
    stored = {r["event_id"] for r in rows if not r["feedback_id"]}
    feedback = sorted((r for r in rows if r["feedback_id"]), key=lambda r: r["feedback_id"])
    return stored, {r["event_id"]: r["flag"] for r in feedback}  # the latest feedback wins


def _insert_events(conn: Conn, project: str, events: list[Event], received_us: int,
                   contexts: dict[str, TraceContext | None], flags: dict[str, str], changes: SessionChanges,
                   hooks: WriteHooks, detect: bool) -> set[str]:
    """Insert new events with their effective session, user and flag (`flags`: the latest feedback, which
    wins over the event's own); then their tags, rollup facts and sessions. Returns the ids actually inserted."""
    rows, derived = [], []
    for event in events:
        ctx = contexts.get(event.trace_id) if event.trace_id else None
        session_id, kind, user_id = effective_session(event.session_id, event.user_id, event.trace_id,
                                                      ctx.session_id if ctx else None, ctx.user_id if ctx else None)
        flag = flags.get(event.event_id, event.flag)
        rows.append(event_row(project, event, session_id, kind, user_id, flag, received_us))
        derived.append((session_id, kind, user_id, flag))
    seqs = hooks.insert_events(conn, events, rows)
    created: set[str] = set()
    tags, windowed, facts = [], [], []
    for event, seq, (session_id, kind, user_id, flag) in zip(events, seqs, derived, strict=True):
        if seq is None:
            continue
        created.add(event.event_id)
        facts.append(facts_of(event, flag))
        tags += [(project, tag, event.timestamp_us, seq) for tag in set(event.tags)]
        if session_id is not None:
            _count(changes, project, session_id, kind, user_id, flag, event)
        elif user_id is not None:
            windowed.append((event.timestamp_us, seq, user_id, flag, event))
    changes.usage(project, [], facts)
    conn.dialect.insert_many(conn, "event_tags", TAG_COLUMNS, tags)
    if detect:  # queued in this transaction: a 2xx implies the event will be evaluated
        conn.dialect.insert_many(conn, "detection_queue", QUEUE_COLUMNS, [
            (seq, project, event.event_id, received_us) for event, seq in zip(events, seqs, strict=True)
            if seq is not None])
    preflagged = [(project, event_id) for event_id in created if event_id in flags]
    if preflagged:  # feedback that arrived first: the human flag is the final one
        conn.executemany("UPDATE events SET flag_source = 'user' WHERE project_id = ? AND event_id = ?", preflagged)
    for ts_us, seq, user_id, flag, event in sorted(windowed, key=lambda w: (w[0], w[1])):
        session_id = assign_user_window(conn, project, user_id, seq, ts_us, changes)
        _count(changes, project, session_id, "user", user_id, flag, event)
    return created


def _count(changes: SessionChanges, project: str, session_id: str, kind: str | None, user_id: str | None,
           flag: str | None, event: Event) -> None:
    changes.add_event((project, session_id), kind or "explicit", event.timestamp_us, user_id, flag, event.model,
                      event.tags, event.tokens_in, event.tokens_out, event.cost_cents)


def _feedback(conn: Conn, op: FeedbackOp, now_us: int, changes: SessionChanges) -> WriteResult:
    fb = op.feedback
    conn.execute("INSERT INTO feedback (project_id, event_id, flag, comment, source, created_us)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 (op.project_id, fb.event_id, fb.flag, fb.comment, fb.source, op.received_us or now_us))
    # Locked: if another writer is moving this event to another session (a user-window merge), wait for
    # it and read the session it ends up in.
    row = conn.execute(f"SELECT seq, session_id, {FACT_COLUMNS} FROM events WHERE project_id = ? AND event_id = ?"
                       f"{conn.dialect.for_update}", (op.project_id, fb.event_id)).fetchone()
    if row is not None:
        conn.execute("UPDATE events SET flag = ?, flag_source = 'user' WHERE seq = ?", (fb.flag, row["seq"]))
        old = facts_from_row(row)
        changes.usage(op.project_id, [old], [with_flag(old, fb.flag)])
        if row["session_id"]:
            changes.flag_changed((op.project_id, row["session_id"]), row["flag"], fb.flag)
    return WriteResult(ok=True)

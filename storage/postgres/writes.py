"""The Postgres group commit: one transaction for all ops, safe across workers.

Order of work: rate limits are charged first, each in its own tiny autocommit statement (an atomic
conditional upsert, so the budget holds across workers without a lock held for a whole commit); then
one transaction takes every advisory lock it needs in sorted order (`locks.py`) and runs the shared
group commit (`storage/sql/writes.py`), retried whole on deadlock. Events go in with one INSERT … SELECT FROM
unnest(arrays) per op; an id another worker committed first comes back as nothing, and is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.postgres.connection import in_transaction
from phosphobs.storage.postgres.dialect import document
from phosphobs.storage.postgres.locks import LockSet
from phosphobs.storage.protocol import FeedbackOp, IngestOp, RateLimitState, WriteOp, WriteResult
from phosphobs.storage.rows import EVENT_COLUMNS
from phosphobs.storage.sessions import TraceContext, merge_trace_hint
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges, context_of, relabel, write_contexts
from phosphobs.storage.sql.span_tree import trace_ids_to_lock
from phosphobs.storage.sql.writes import WINDOW_US, group_commit, op_cost
from psycopg_pool import ConnectionPool

_CHARGE = (
    "INSERT INTO rate_windows AS r (project_id, window_start, used) SELECT ?, ?, ? WHERE ? <= ?"
    " ON CONFLICT (project_id, window_start) DO UPDATE SET used = r.used + excluded.used"
    " WHERE r.used + excluded.used <= ? RETURNING used"
)
# (column, array type) in EVENT_COLUMNS order; json columns arrive as text.
_TYPES = {"ts_us": "bigint", "latency_ms": "float8", "tokens_in": "bigint", "tokens_out": "bigint",
          "cost_cents": "float8", "received_us": "bigint"}
_CASTS = {"tags": "::json", "metadata": "::json"}
_INSERT_EVENTS = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}, search)"
    f" SELECT {', '.join(c + _CASTS.get(c, '') for c in EVENT_COLUMNS)}, strip(to_tsvector('simple', search))"
    f" FROM unnest({', '.join('?::' + _TYPES.get(c, 'text') + '[]' for c in (*EVENT_COLUMNS, 'search'))})"
    f" WITH ORDINALITY AS t({', '.join(EVENT_COLUMNS)}, search, n) ORDER BY n"
    " ON CONFLICT (project_id, event_id) DO NOTHING RETURNING event_id, seq"
)
_NUMERIC = {EVENT_COLUMNS.index(c): (float if _TYPES[c] == "float8" else int) for c in _TYPES}


def write_ops(pool: ConnectionPool, ops: list[WriteOp], now_us: int, detect: bool = True) -> list[WriteResult]:
    hooks = _Hooks(_charge_all(pool, ops, now_us))

    def locked(fn: Callable[[Conn], list[WriteResult]]) -> list[WriteResult]:
        def run(conn: Conn) -> list[WriteResult]:
            _locks(ops, hooks.charges).acquire(conn)
            return fn(conn)
        return in_transaction(pool, run)

    try:
        results = group_commit(locked, ops, now_us, hooks, detect)
    except BaseException:
        _refund(pool, ops, now_us, hooks.charges, [True] * len(ops))
        raise
    _refund(pool, ops, now_us, hooks.charges, [not r.ok and not r.rate_limited for r in results])
    return results


class _Hooks:
    def __init__(self, charges: dict[int, tuple[bool, RateLimitState]]) -> None:
        self.charges = charges

    def charge(self, conn: Conn, index: int, op: IngestOp, now_us: int) -> tuple[bool, RateLimitState | None]:
        return self.charges.get(index, (True, None))

    def trace_contexts(self, conn: Conn, project: str, hints: list[TraceHint], events: list[Event],
                       changes: SessionChanges) -> dict[str, TraceContext | None]:
        """Merge the op's hints into their traces' contexts (under the traces' exclusive locks), moving
        stored events whose session changed; then the context of every trace the op's events are in.
        A handful of statements per op, not per hint: an LLM-only span is a hint of its own."""
        def read(traces: list[str]) -> dict[str, TraceContext]:
            return {r["trace_id"]: context_of(r) for r in conn.execute(
                "SELECT * FROM trace_context WHERE project_id = ? AND trace_id = ANY(?)", (project, traces)).fetchall()
            } if traces else {}

        hinted = {h.trace_id for h in hints}
        known = read(sorted(hinted))
        changed: dict[str, TraceContext] = {}
        for hint in hints:  # merging is order-free: the earliest span's session and user win
            after = merge_trace_hint(known.get(hint.trace_id), hint.start_us, hint.session_id, hint.user_id)
            if after is not None:
                known[hint.trace_id] = changed[hint.trace_id] = after
        if changed:
            ordered = sorted(changed.items())
            write_contexts(conn, project, ordered)
            relabel(conn, project, dict(ordered), changes)
        traces = list({e.trace_id for e in events if e.trace_id})
        contexts: dict[str, TraceContext | None] = {t: known[t] for t in traces if t in known}
        contexts.update(read([t for t in traces if t not in known and t not in hinted]))
        return contexts

    def insert_events(self, conn: Conn, events: list[Event], rows: list[tuple[Any, ...]]) -> Sequence[int | None]:
        columns: list[list[Any]] = [[] for _ in range(len(EVENT_COLUMNS) + 1)]
        for event, row in zip(events, rows, strict=True):
            for i, value in enumerate(row):
                columns[i].append(value if value is None or i not in _NUMERIC else _NUMERIC[i](value))
            columns[-1].append(document(event.input, event.output))
        inserted = {r["event_id"]: r["seq"] for r in conn.execute(_INSERT_EVENTS, columns).fetchall()}
        return [inserted.get(e.event_id) for e in events]


def _charge_all(pool: ConnectionPool, ops: list[WriteOp], now_us: int) -> dict[int, tuple[bool, RateLimitState]]:
    """Charge each limited op against its project's budget for the current minute."""
    charges: dict[int, tuple[bool, RateLimitState]] = {}
    limited = [(i, op) for i, op in enumerate(ops) if isinstance(op, IngestOp) and op.rate_limit_per_min is not None]
    if not limited:
        return charges
    window = now_us // WINDOW_US
    reset_us = (window + 1) * WINDOW_US
    with pool.connection() as conn:
        for i, op in limited:
            limit, cost = op.rate_limit_per_min, op_cost(op)
            assert limit is not None
            row = conn.execute(_CHARGE, (op.project_id, window, cost, cost, limit, limit)).fetchone()
            if row is None:
                used = conn.execute("SELECT used FROM rate_windows WHERE project_id = ? AND window_start = ?",
                                    (op.project_id, window)).fetchone()
                charges[i] = (False, RateLimitState(limit, max(0, limit - (used["used"] if used else 0)), reset_us))
                continue
            if row["used"] == cost:  # first use of a new window: forget old ones
                conn.execute("DELETE FROM rate_windows WHERE project_id = ? AND window_start < ?",
                             (op.project_id, window - 1))
            charges[i] = (True, RateLimitState(limit, limit - row["used"], reset_us))
    return charges


def _refund(pool: ConnectionPool, ops: list[WriteOp], now_us: int, charges: dict[int, tuple[bool, RateLimitState]],
            failed: list[bool]) -> None:
    """Give back the budget of charged ops that did not commit."""
    back = [op for i, op in enumerate(ops) if failed[i] and charges.get(i, (False,))[0]]
    if not back:
        return
    with pool.connection() as conn:
        for op in back:
            conn.execute("UPDATE rate_windows SET used = GREATEST(0, used - ?) WHERE project_id = ?"
                         " AND window_start = ?", (op_cost(op), op.project_id, now_us // WINDOW_US))  # type: ignore[arg-type]


def _locks(ops: list[WriteOp], charges: dict[int, tuple[bool, RateLimitState]]) -> LockSet:
    locks = LockSet()
    for i, op in enumerate(ops):
        if not charges.get(i, (True,))[0]:
            continue
        if isinstance(op, FeedbackOp):
            locks.add("event", op.project_id, op.feedback.event_id, exclusive=True)
        elif isinstance(op, IngestOp):
            p = op.project_id
            for hint in op.trace_hints:
                locks.add("trace", p, hint.trace_id, exclusive=True)
            for trace_id in trace_ids_to_lock(op.spans, op.events):  # the span tree reads then writes
                locks.add("trace", p, trace_id, exclusive=True)
            for patch in op.patches:
                locks.add("event", p, patch.event_id, exclusive=True)
            for e in op.events:
                locks.add("event", p, e.event_id, exclusive=False)
                if e.trace_id:
                    locks.add("trace", p, e.trace_id, exclusive=False)
                elif not e.session_id and e.user_id:
                    locks.add("user", p, e.user_id, exclusive=True)
    return locks

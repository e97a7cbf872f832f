"""The Postgres group commit: one transaction for all ops, a savepoint per op, safe across workers.

Order of work: rate limits are charged first, each in its own tiny autocommit statement (an atomic
conditional upsert, so the budget holds across workers without a lock held for a whole commit);
then one transaction takes every advisory lock it needs in sorted order, applies each op in a
savepoint, and writes session aggregates once at the end, in key order.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from phosphobs.storage.postgres import rollup
from phosphobs.storage.postgres.connection import RETRYABLE, in_transaction
from phosphobs.storage.postgres.ingest import ingest
from phosphobs.storage.postgres.locks import LockSet
from phosphobs.storage.postgres.sessions import SessionChanges
from phosphobs.storage.protocol import (
    FeedbackOp,
    IngestOp,
    RateLimitState,
    TouchKeyOp,
    WriteOp,
    WriteResult,
)
from psycopg_pool import ConnectionPool

WINDOW_US = 60_000_000
KEY_TOUCH_EVERY_US = 60_000_000

_CHARGE = (
    "INSERT INTO rate_windows AS r (project_id, window_start, used) SELECT %(p)s, %(w)s, %(c)s WHERE %(c)s <= %(lim)s"
    " ON CONFLICT (project_id, window_start) DO UPDATE SET used = r.used + excluded.used"
    " WHERE r.used + excluded.used <= %(lim)s RETURNING used"
)


def write_ops(pool: ConnectionPool, ops: list[WriteOp], now_us: int, detect: bool = True) -> list[WriteResult]:
    """`detect`: queue every new event for detection in the same transaction."""
    charges = _charge_all(pool, ops, now_us)
    try:
        try:  # optimistic: no savepoints (each one is a subtransaction, and many of them slow every backend)
            results = in_transaction(pool, lambda conn: _transaction(conn, ops, now_us, charges, detect,
                                                                     isolate=False))
        except _OpFailed:  # some op is bad: redo the commit with one savepoint per op so only it fails
            results = in_transaction(pool, lambda conn: _transaction(conn, ops, now_us, charges, detect,
                                                                     isolate=True))
    except BaseException:
        _refund(pool, ops, now_us, charges, [True] * len(ops))
        raise
    _refund(pool, ops, now_us, charges, [not r.ok and not r.rate_limited for r in results])
    return results


def _cost(op: IngestOp) -> int:
    return len(op.events) + len(op.patches)


@dataclass(slots=True)
class _Charge:
    allowed: bool
    state: RateLimitState


def _charge_all(pool: ConnectionPool, ops: list[WriteOp], now_us: int) -> dict[int, _Charge]:
    """Charge each limited op against its project's budget for the current minute."""
    charges: dict[int, _Charge] = {}
    limited = [(i, op) for i, op in enumerate(ops) if isinstance(op, IngestOp) and op.rate_limit_per_min is not None]
    if not limited:
        return charges
    window = now_us // WINDOW_US
    reset_us = (window + 1) * WINDOW_US
    with pool.connection() as conn:
        for i, op in limited:
            limit, cost = op.rate_limit_per_min, _cost(op)  # type: ignore[union-attr]
            row = conn.execute(_CHARGE, {"p": op.project_id, "w": window, "c": cost, "lim": limit}).fetchone()
            if row is None:
                used = conn.execute("SELECT used FROM rate_windows WHERE project_id = %s AND window_start = %s",
                                    (op.project_id, window)).fetchone()
                remaining = max(0, limit - (used["used"] if used else 0))
                charges[i] = _Charge(False, RateLimitState(limit, remaining, reset_us))
                continue
            if row["used"] == cost:  # first use of a new window: forget old ones
                conn.execute("DELETE FROM rate_windows WHERE project_id = %s AND window_start < %s",
                             (op.project_id, window - 1))
            charges[i] = _Charge(True, RateLimitState(limit, limit - row["used"], reset_us))
    return charges


def _refund(pool: ConnectionPool, ops: list[WriteOp], now_us: int, charges: dict[int, _Charge],
            failed: list[bool]) -> None:
    """Give back the budget of charged ops that did not commit."""
    back = [ops[i] for i, charge in charges.items() if failed[i] and charge.allowed]
    if not back:
        return
    with pool.connection() as conn:
        for op in back:
            conn.execute("UPDATE rate_windows SET used = GREATEST(0, used - %s) WHERE project_id = %s"
                         " AND window_start = %s", (_cost(op), op.project_id, now_us // WINDOW_US))  # type: ignore


def _locks(ops: list[WriteOp], charges: dict[int, _Charge]) -> LockSet:
    locks = LockSet()
    for i, op in enumerate(ops):
        if i in charges and not charges[i].allowed:
            continue
        if isinstance(op, FeedbackOp):
            locks.add("event", op.project_id, op.feedback.event_id, exclusive=True)
        elif isinstance(op, IngestOp):
            p = op.project_id
            for hint in op.trace_hints:
                locks.add("trace", p, hint.trace_id, exclusive=True)
            for patch in op.patches:
                locks.add("event", p, patch.event_id, exclusive=True)
            for e in op.events:
                locks.add("event", p, e.event_id, exclusive=False)
                if e.trace_id:
                    locks.add("trace", p, e.trace_id, exclusive=False)
                elif not e.session_id and e.user_id:
                    locks.add("user", p, e.user_id, exclusive=True)
    return locks


class _OpFailed(Exception):
    """An op raised while running without savepoints; the transaction is redone with them."""


def _transaction(conn: psycopg.Connection, ops: list[WriteOp], now_us: int, charges: dict[int, _Charge],
                 detect: bool, isolate: bool) -> list[WriteResult]:
    _locks(ops, charges).acquire(conn)
    total = SessionChanges()
    results: list[WriteResult] = []
    for i, op in enumerate(ops):
        charge = charges.get(i)
        state = charge.state if charge else None
        if charge is not None and not charge.allowed:
            results.append(WriteResult(ok=False, rate_limited=True, rate_limit=state))
            continue
        if not isolate:
            try:
                results.append(_apply(conn, op, now_us, total, state, detect))
            except RETRYABLE:
                raise
            except Exception as exc:
                raise _OpFailed from exc
            continue
        changes = SessionChanges()
        try:
            with conn.transaction():  # a savepoint: one bad op must never sink the others in its commit
                results.append(_apply(conn, op, now_us, changes, state, detect))
            total.absorb(changes)
        except RETRYABLE:
            raise  # the whole transaction is retried
        except Exception as exc:
            results.append(WriteResult(ok=False, error=f"storage error: {exc}"))
    total.flush(conn)
    return results


def _apply(conn: psycopg.Connection, op: WriteOp, now_us: int, changes: SessionChanges,
           state: RateLimitState | None, detect: bool) -> WriteResult:
    if isinstance(op, IngestOp):
        return ingest(conn, op, now_us, changes, state, detect)
    if isinstance(op, FeedbackOp):
        return _feedback(conn, op, now_us, changes)
    if isinstance(op, TouchKeyOp):
        conn.execute(
            "UPDATE api_keys SET last_used_us = %s WHERE id = %s AND (last_used_us IS NULL OR last_used_us < %s)",
            (op.used_us, op.key_id, op.used_us - KEY_TOUCH_EVERY_US),
        )
        return WriteResult(ok=True)
    raise TypeError(f"unknown write op {type(op).__name__}")


def _feedback(conn: psycopg.Connection, op: FeedbackOp, now_us: int, changes: SessionChanges) -> WriteResult:
    fb = op.feedback
    conn.execute(
        "INSERT INTO feedback (project_id, event_id, flag, comment, source, created_us)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (op.project_id, fb.event_id, fb.flag, fb.comment, fb.source, op.received_us or now_us),
    )
    # FOR UPDATE: if another worker is moving this event to another session (a user-window merge),
    # wait for it and read the session it ends up in.
    row = conn.execute(
        f"SELECT seq, session_id, {rollup.FACT_COLUMNS} FROM events WHERE project_id = %s AND event_id = %s"
        " FOR UPDATE",
        (op.project_id, fb.event_id),
    ).fetchone()
    if row is not None:
        conn.execute("UPDATE events SET flag = %s, flag_source = 'user' WHERE seq = %s", (fb.flag, row["seq"]))
        old = rollup.facts_from_row(row)
        changes.usage(op.project_id, [old], [rollup.with_flag(old, fb.flag)])
        if row["session_id"]:
            changes.flag_changed((op.project_id, row["session_id"]), row["flag"], fb.flag)
    return WriteResult(ok=True)


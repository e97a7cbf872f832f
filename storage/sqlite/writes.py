"""The SQLite group commit: one write transaction under the writer lock.

Seq values are assigned here (the writer holds SQLite's single write slot) so that full-text rows,
tags and user windows refer to them without a round trip per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.protocol import IngestOp, RateLimitState, WriteOp, WriteResult
from phosphobs.storage.rows import EVENT_COLUMNS
from phosphobs.storage.sessions import TraceContext
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges
from phosphobs.storage.sql.writes import WINDOW_US, group_commit, op_cost
from phosphobs.storage.sqlite import trace_context
from phosphobs.storage.sqlite.connection import SqliteConnection, in_transaction

_INSERT_EVENT = (
    f"INSERT INTO events (seq, {', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * (len(EVENT_COLUMNS) + 1))})"
)


def write_ops(conn: SqliteConnection, ops: list[WriteOp], now_us: int, detect: bool = True) -> list[WriteResult]:
    return group_commit(partial(in_transaction, conn), ops, now_us, _HOOKS, detect)


class _Hooks:
    def charge(self, conn: Conn, _: int, op: IngestOp, now_us: int) -> tuple[bool, RateLimitState | None]:
        """Inside the op, so a failed op gives its budget back with its savepoint."""
        limit = op.rate_limit_per_min
        if limit is None:
            return True, None
        window, cost = now_us // WINDOW_US, op_cost(op)
        row = conn.execute("SELECT used FROM rate_windows WHERE project_id = ? AND window_start = ?",
                           (op.project_id, window)).fetchone()
        used, reset_us = row["used"] if row else 0, (window + 1) * WINDOW_US
        if used + cost > limit:
            return False, RateLimitState(limit, max(0, limit - used), reset_us)
        conn.execute("INSERT INTO rate_windows (project_id, window_start, used) VALUES (?, ?, ?)"
                     " ON CONFLICT (project_id, window_start) DO UPDATE SET used = used + excluded.used",
                     (op.project_id, window, cost))
        if row is None:  # first use of a new window: forget old ones
            conn.execute("DELETE FROM rate_windows WHERE project_id = ? AND window_start < ?",
                         (op.project_id, window - 1))
        return True, RateLimitState(limit, limit - used - cost, reset_us)

    def trace_contexts(self, conn: Conn, project: str, hints: list[TraceHint], events: list[Event],
                       changes: SessionChanges) -> dict[str, TraceContext | None]:
        return trace_context.resolve(conn, project, hints, events, changes)

    def insert_events(self, conn: Conn, events: list[Event], rows: list[tuple[Any, ...]]) -> Sequence[int | None]:
        first = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()[0]
        seqs = range(first, first + len(rows))
        conn.executemany(_INSERT_EVENT, [(seq, *row) for seq, row in zip(seqs, rows, strict=True)])
        conn.executemany("INSERT INTO events_fts (rowid, input, output) VALUES (?, ?, ?)",
                         [(seq, e.input, e.output) for seq, e in zip(seqs, events, strict=True)])
        return seqs


_HOOKS = _Hooks()

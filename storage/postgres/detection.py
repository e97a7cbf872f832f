"""Postgres' side of the detection queue: several workers claim with `FOR UPDATE SKIP LOCKED`.

The claiming transaction stays open while the detectors run, so its row locks say "taken" to every other
worker; results, flag changes and the queue deletions commit in that same transaction. If the worker
dies, its connection closes, the locks go, and another worker (or the restarted one) claims the entries
again: no entry is skipped, and none is completed twice. A deadlock while writing results (sessions or
rollups shared with ingest) retries only the write, in a savepoint, keeping the claim.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from phosphobs.storage import detection_sql as q
from phosphobs.storage.detection_records import Outcome, QueuedEvent
from phosphobs.storage.postgres import rollup
from phosphobs.storage.postgres.connection import RETRYABLE
from phosphobs.storage.postgres.locks import LockSet
from phosphobs.storage.postgres.sessions import SessionChanges
from psycopg_pool import ConnectionPool

_LOCK = " FOR UPDATE OF q SKIP LOCKED"
_ROW_LOCK = " FOR UPDATE"


@dataclass(slots=True)
class PostgresClaim:
    items: list[QueuedEvent]
    gone: list[int]
    conn: psycopg.Connection

    def complete(self, outcomes: list[Outcome], now_us: int) -> None:
        locks = LockSet()
        for o in outcomes:
            locks.add("event", o.project_id, o.event_id, exclusive=True)
            if o.blame_previous is not None:
                locks.add("event", o.project_id, o.blame_previous[0], exclusive=True)
        for attempt in range(8):
            try:
                with self.conn.transaction():  # a savepoint inside the claim
                    locks.acquire(self.conn)
                    changes = SessionChanges()
                    q.complete(q.Sql(self.conn, "%s"), outcomes, self.gone, now_us, _ROW_LOCK,
                               _flag_hook(changes))
                    changes.flush(self.conn)
                return
            except RETRYABLE:
                if attempt == 7:
                    raise
                time.sleep(0.01 * 2**attempt)


def _flag_hook(changes: SessionChanges) -> q.FlagChanged:
    def changed(project_id: str, row: Any, flag: str | None) -> None:
        old = rollup.facts_from_row(row)
        changes.usage(project_id, [old], [rollup.with_flag(old, flag)])
        if row["session_id"]:
            changes.flag_changed((project_id, row["session_id"]), row["flag"], flag)

    return changed


@contextmanager
def claim(pool: ConnectionPool, limit: int, ready_us: int) -> Iterator[PostgresClaim]:
    with pool.connection() as conn, conn.transaction():
        items, gone = q.claim(q.Sql(conn, "%s"), limit, ready_us, _LOCK)
        yield PostgresClaim(items, gone, conn)

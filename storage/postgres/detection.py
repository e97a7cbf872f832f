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

from phosphobs.storage.detection_records import Outcome, QueuedEvent
from phosphobs.storage.postgres.connection import PgConnection
from phosphobs.storage.postgres.dialect import POSTGRES
from phosphobs.storage.postgres.locks import LockSet
from phosphobs.storage.sql import detection as q
from psycopg_pool import ConnectionPool

_CLAIM_LOCK = " FOR UPDATE OF q SKIP LOCKED"  # the queue rows only (events are the outer join's other side)
ATTEMPTS = 8


@dataclass(slots=True)
class PostgresClaim:
    items: list[QueuedEvent]
    gone: list[int]
    conn: PgConnection

    def complete(self, outcomes: list[Outcome], now_us: int) -> None:
        locks = LockSet()  # the same event locks feedback takes: the two never interleave on one event
        for o in outcomes:
            locks.add("event", o.project_id, o.event_id, exclusive=True)
            if o.blame_previous is not None:
                locks.add("event", o.project_id, o.blame_previous[0], exclusive=True)
        for attempt in range(ATTEMPTS):
            try:
                with self.conn.transaction():  # a savepoint inside the claim
                    locks.acquire(self.conn)  # type: ignore[arg-type]
                    q.complete(self.conn, outcomes, self.gone, now_us)
                return
            except POSTGRES.retryable:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * 2**attempt)


@contextmanager
def claim(pool: ConnectionPool, limit: int, ready_us: int) -> Iterator[PostgresClaim]:
    with pool.connection() as conn, conn.transaction():
        items, gone = q.claim(conn, limit, ready_us, _CLAIM_LOCK)
        yield PostgresClaim(items, gone, conn)  # type: ignore[arg-type]

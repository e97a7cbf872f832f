"""Advisory locks that serialise the few writes that must see each other across workers.

Keys are hashed into a fixed number of buckets per (class, project) so one transaction never holds
more than a few hundred entries of Postgres' shared lock table, whatever its size. A collision only
makes two unrelated writers wait for each other. All locks of a transaction are taken up front, in
one sorted order, so advisory locks alone can never deadlock.

- event:  (project, event_id). Ingest takes it shared, feedback exclusive: an event and feedback
          for it racing in two workers are serialised, so the later one sees the earlier's commit.
- user:   (project, user_id), exclusive: 30-minute window assignment reads then writes the windows.
- trace:  (project, trace_id). Span inserts take it shared (they read the trace context), trace
          hints exclusive (they rewrite the context and relabel the trace's events), and so do ops
          that may change the trace's span tree (`storage/sql/span_tree.py`: spans that are not events,
          events with a parent).
"""

from __future__ import annotations

import hashlib

from phosphobs.storage.sql.dialect import Conn

BUCKETS = {"event": 128, "user": 512, "trace": 512}


def lock_key(kind: str, project_id: str, key: str) -> int:
    bucket = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % BUCKETS[kind]
    digest = hashlib.blake2b(f"{kind}\x1f{project_id}\x1f{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LockSet:
    """The advisory locks a transaction needs; exclusive wins over shared for the same key."""

    def __init__(self) -> None:
        self._modes: dict[int, bool] = {}  # key -> exclusive

    def add(self, kind: str, project_id: str, key: str, *, exclusive: bool) -> None:
        k = lock_key(kind, project_id, key)
        self._modes[k] = self._modes.get(k, False) or exclusive

    def acquire(self, conn: Conn) -> None:
        if not self._modes:
            return
        keys = sorted(self._modes)
        excl = [self._modes[k] for k in keys]
        conn.execute(
            "SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(k) ELSE pg_advisory_xact_lock_shared(k) END)"
            " FROM unnest(?::bigint[], ?::boolean[]) WITH ORDINALITY AS t(k, x, n)",
            (keys, excl),
        )

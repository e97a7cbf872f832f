"""Retention for Postgres: delete events older than a cutoff, keep session aggregates consistent.

Batches of one short transaction each. Usage rollups are left alone: hourly history outlives the raw
events it summarised (see the protocol). Recomputing a session locks its row first (see sessions.py),
so a worker adding events to the same session concurrently is never lost.
"""

from __future__ import annotations

import psycopg
from phosphobs.storage.postgres.sessions import SessionChanges

BATCH = 5_000


def prune_batch(conn: psycopg.Connection, project_id: str, older_than_us: int) -> int:
    """Delete up to BATCH of the project's events with ts_us < older_than_us; returns how many."""
    rows = conn.execute(
        "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE project_id = %s AND ts_us < %s"
        " ORDER BY ts_us LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING seq, event_id, session_id",
        (project_id, older_than_us, BATCH),
    ).fetchall()
    if not rows:
        return 0
    seqs = [r["seq"] for r in rows]
    ids = [r["event_id"] for r in rows]
    conn.execute("DELETE FROM event_tags WHERE seq = ANY(%s)", (seqs,))
    for table in ("feedback", "event_bases", "event_patches", "detections", "evaluations", "response_events"):
        conn.execute(f"DELETE FROM {table} WHERE project_id = %s AND event_id = ANY(%s)", (project_id, ids))
    changes = SessionChanges()
    for key in sorted({(project_id, r["session_id"]) for r in rows if r["session_id"]}):
        changes.recompute(key)
    changes.flush(conn)
    return len(rows)

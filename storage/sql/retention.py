"""Retention: delete events older than a cutoff and keep session aggregates consistent.

Works in small batches (one short write transaction each) so ingest is never blocked for long. Sessions
that lose events are recomputed from what is left (and disappear when nothing is). Usage rollups are
left alone: hourly history outlives the raw events it summarised.
"""

from __future__ import annotations

from phosphobs.storage.rows import listed
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges

BATCH = 2_000


def prune_batch(conn: Conn, project_id: str, older_than_us: int) -> int:
    """Delete up to BATCH of the project's events with ts_us < older_than_us; returns how many."""
    rows = conn.execute(
        "SELECT seq, event_id, session_id, ts_us, tags, input, output FROM events WHERE project_id = ? AND ts_us < ?"
        f" ORDER BY ts_us LIMIT ?{conn.dialect.skip_locked}",
        (project_id, older_than_us, BATCH),
    ).fetchall()
    if not rows:
        return 0
    conn.dialect.unindex(conn, rows)
    conn.executemany("DELETE FROM event_tags WHERE project_id = ? AND tag = ? AND ts_us = ? AND seq = ?",
                     [(project_id, tag, r["ts_us"], r["seq"]) for r in rows for tag in set(listed(r["tags"]))])
    ids = [(project_id, r["event_id"]) for r in rows]
    for table in ("feedback", "event_bases", "event_patches", "detections", "evaluations", "response_events"):
        conn.executemany(f"DELETE FROM {table} WHERE project_id = ? AND event_id = ?", ids)
    conn.executemany("DELETE FROM event_aliases WHERE project_id = ? AND target_id = ?", ids)
    conn.executemany("DELETE FROM events WHERE seq = ?", [(r["seq"],) for r in rows])
    changes = SessionChanges()
    for r in rows:
        if r["session_id"]:
            changes.recompute((project_id, r["session_id"]))
    changes.flush(conn)
    return len(rows)

"""Retention for SQLite: delete events older than a cutoff and keep session aggregates consistent.

Works in small batches (one short write transaction each) so ingest is never blocked for long.
Sessions that lose events are recomputed from what is left (and disappear when nothing is).
"""

from __future__ import annotations

import json
import sqlite3

from phosphobs.storage.sqlite.sessions import SessionChanges

BATCH = 2_000


def prune_batch(conn: sqlite3.Connection, project_id: str, older_than_us: int) -> int:
    """Delete up to BATCH of the project's events with ts_us < older_than_us; returns how many."""
    rows = conn.execute(
        "SELECT seq, event_id, session_id, ts_us, tags, input, output FROM events"
        " WHERE project_id = ? AND ts_us < ? ORDER BY ts_us LIMIT ?",
        (project_id, older_than_us, BATCH),
    ).fetchall()
    if not rows:
        return 0
    changes = SessionChanges()
    tags = []
    for row in rows:
        tags += [(project_id, tag, row["ts_us"], row["seq"]) for tag in set(json.loads(row["tags"]))]
        conn.execute("INSERT INTO events_fts (events_fts, rowid, input, output) VALUES ('delete', ?, ?, ?)",
                     (row["seq"], row["input"], row["output"]))
        if row["session_id"]:
            changes.recompute((project_id, row["session_id"]))
    seqs = [(row["seq"],) for row in rows]
    ids = [(project_id, row["event_id"]) for row in rows]
    conn.executemany("DELETE FROM event_tags WHERE project_id = ? AND tag = ? AND ts_us = ? AND seq = ?", tags)
    for table in ("feedback", "event_bases", "event_patches", "detections", "evaluations", "response_events"):
        conn.executemany(f"DELETE FROM {table} WHERE project_id = ? AND event_id = ?", ids)
    conn.executemany("DELETE FROM events WHERE seq = ?", seqs)
    changes.flush(conn)
    return len(rows)

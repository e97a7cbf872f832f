"""Session derivation inside a SQLite write transaction.

Aggregates are recomputed from the session's events for every session a transaction touched, so the
stored numbers are a function of the stored events alone: arrival order cannot change them.
"""

from __future__ import annotations

import json
import sqlite3

from phosphobs.storage.sessions import SESSION_GAP_US, derived_session_id

SessionKey = tuple[str, str]  # (project_id, session_id)


def assign_user_window(
    conn: sqlite3.Connection, project_id: str, user_id: str, seq: int, ts_us: int, dirty: set[SessionKey]
) -> None:
    """Put one event into its user's inactivity-window session, merging sessions it bridges.

    Invariant: a user's auto sessions are more than SESSION_GAP_US apart, so at most two lie within
    reach of one timestamp and the merged span cannot reach a third.
    """
    near = conn.execute(
        "SELECT session_id, start_us, end_us FROM sessions"
        " WHERE project_id = ? AND user_id = ? AND kind = 'user' AND start_us <= ?"
        " ORDER BY start_us DESC LIMIT 3",
        (project_id, user_id, ts_us + SESSION_GAP_US),
    ).fetchall()
    joined = [row for row in near if row["end_us"] >= ts_us - SESSION_GAP_US]
    start = min([ts_us, *(row["start_us"] for row in joined)])
    end = max([ts_us, *(row["end_us"] for row in joined)])
    new_id = derived_session_id(project_id, user_id, start)
    for row in joined:
        old_id = row["session_id"]
        if old_id != new_id:
            conn.execute(
                "UPDATE events SET session_id = ? WHERE project_id = ? AND session_id = ?",
                (new_id, project_id, old_id),
            )
            conn.execute("DELETE FROM sessions WHERE project_id = ? AND session_id = ?", (project_id, old_id))
            dirty.discard((project_id, old_id))
    conn.execute("UPDATE events SET session_id = ? WHERE seq = ?", (new_id, seq))
    conn.execute(
        "INSERT INTO sessions (project_id, session_id, kind, user_id, start_us, end_us)"
        " VALUES (?, ?, 'user', ?, ?, ?)"
        " ON CONFLICT (project_id, session_id) DO UPDATE SET start_us = excluded.start_us,"
        " end_us = excluded.end_us",
        (project_id, new_id, user_id, start, end),
    )
    dirty.add((project_id, new_id))


_AGGREGATE = """
SELECT COUNT(*) AS n, MIN(ts_us) AS start_us, MAX(ts_us) AS end_us,
       COALESCE(SUM(tokens_in), 0) AS tokens_in, COALESCE(SUM(tokens_out), 0) AS tokens_out,
       SUM(cost_cents) AS cost_cents,
       COUNT(flag) AS flagged, COUNT(CASE WHEN flag = 'success' THEN 1 END) AS successes,
       COUNT(CASE WHEN flag = 'failure' THEN 1 END) AS failures, MIN(session_kind) AS kind,
       MIN(CASE WHEN user_id IS NOT NULL THEN printf('%020d', ts_us) || user_id END) AS first_user,
       json_group_array(DISTINCT model) AS models,
       group_concat(CASE WHEN tags != '[]' THEN tags END, char(30)) AS tags
FROM events WHERE project_id = ? AND session_id = ?
"""


def recompute_sessions(conn: sqlite3.Connection, keys: set[SessionKey]) -> None:
    """Rewrite each touched session's aggregate row from its events (delete it if none are left)."""
    for project_id, session_id in sorted(keys):
        agg = conn.execute(_AGGREGATE, (project_id, session_id)).fetchone()
        if not agg["n"]:
            conn.execute(
                "DELETE FROM sessions WHERE project_id = ? AND session_id = ?", (project_id, session_id)
            )
            continue
        models = sorted({m for m in json.loads(agg["models"]) if m})
        tags: set[str] = set()
        for chunk in (agg["tags"] or "").split("\x1e"):
            if chunk:
                tags.update(json.loads(chunk))
        first_user = agg["first_user"]
        conn.execute(
            "INSERT INTO sessions (project_id, session_id, kind, user_id, start_us, end_us, event_count,"
            " tokens_in, tokens_out, cost_cents, flagged_count, success_count, failure_count, models, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (project_id, session_id) DO UPDATE SET kind = excluded.kind,"
            " user_id = excluded.user_id, start_us = excluded.start_us, end_us = excluded.end_us,"
            " event_count = excluded.event_count, tokens_in = excluded.tokens_in,"
            " tokens_out = excluded.tokens_out, cost_cents = excluded.cost_cents,"
            " flagged_count = excluded.flagged_count, success_count = excluded.success_count,"
            " failure_count = excluded.failure_count, models = excluded.models, tags = excluded.tags",
            (
                project_id, session_id, agg["kind"], first_user[20:] if first_user else None,
                agg["start_us"], agg["end_us"], agg["n"], agg["tokens_in"], agg["tokens_out"],
                agg["cost_cents"], agg["flagged"], agg["successes"], agg["failures"],
                json.dumps(models), json.dumps(sorted(tags)),
            ),
        )

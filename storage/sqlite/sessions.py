"""Session derivation inside a SQLite write transaction.

New events are folded into their session's aggregate row as deltas (no re-scan, so a long session costs
the same to extend as a short one). Sessions whose membership changed in a way deltas cannot express
(a user window that merged or moved its start, a trace relabelled by a late session attribute) are
recomputed from their events. Both paths give a function of the stored events alone, so arrival order
cannot change the result.
"""

from __future__ import annotations

import json
import sqlite3

from phosphobs.storage.rows import dumps
from phosphobs.storage.session_delta import SessionDelta
from phosphobs.storage.sessions import SESSION_GAP_US, place_in_window

SessionKey = tuple[str, str]  # (project_id, session_id)


class SessionChanges:
    """Collects what one transaction did to sessions, then writes it once at the end."""

    def __init__(self) -> None:
        self._deltas: dict[SessionKey, SessionDelta] = {}
        self._recompute: set[SessionKey] = set()

    def add_event(self, key: SessionKey, kind: str, ts_us: int, user_id: str | None, flag: str | None,
                  model: str | None, tags: list[str], tokens_in: int | None, tokens_out: int | None,
                  cost: float | None) -> None:
        if key in self._recompute:
            return
        d = self._deltas.get(key) or self._deltas.setdefault(key, SessionDelta(kind))
        d.add_event(ts_us, user_id, flag, model, tags, tokens_in, tokens_out, cost)

    def flag_changed(self, key: SessionKey, old: str | None, new: str | None) -> None:
        if key in self._recompute:
            return
        d = self._deltas.get(key) or self._deltas.setdefault(key, SessionDelta("explicit"))
        d.flag_changed(old, new)

    def recompute(self, key: SessionKey) -> None:
        self._deltas.pop(key, None)
        self._recompute.add(key)

    def absorb(self, other: SessionChanges) -> None:
        """Take over what a (successful) op did, so a commit writes each session once."""
        for key in other._recompute:
            self.recompute(key)
        for key, delta in other._deltas.items():
            if key in self._recompute:
                continue
            mine = self._deltas.get(key)
            if mine is None:
                self._deltas[key] = delta
            else:
                mine.merge(delta)

    def flush(self, conn: sqlite3.Connection) -> None:
        for key in sorted(self._recompute):
            _recompute(conn, key)
        if self._deltas:
            conn.executemany(_UPSERT_DELTA, [_delta_params(key, d) for key, d in self._deltas.items()])
        self._deltas.clear()
        self._recompute.clear()


def assign_user_window(conn: sqlite3.Connection, project_id: str, user_id: str, seq: int, ts_us: int,
                       changes: SessionChanges) -> str:
    """Put one event into its user's inactivity-window session (rule: `place_in_window`); returns its id."""
    near = conn.execute(
        "SELECT session_id, start_us, end_us FROM sessions"
        " WHERE project_id = ? AND user_id = ? AND kind = 'user' AND start_us <= ?"
        " ORDER BY start_us DESC LIMIT 3",
        (project_id, user_id, ts_us + SESSION_GAP_US),
    ).fetchall()
    placed = place_in_window(project_id, user_id, ts_us,
                             [(r["session_id"], r["start_us"], r["end_us"]) for r in near])
    new_id, start, end = placed.session_id, placed.start_us, placed.end_us
    for old_id in placed.absorbed:
        conn.execute("UPDATE events SET session_id = ? WHERE project_id = ? AND session_id = ?",
                     (new_id, project_id, old_id))
        conn.execute("DELETE FROM sessions WHERE project_id = ? AND session_id = ?", (project_id, old_id))
        changes.recompute((project_id, old_id))
        changes.recompute((project_id, new_id))
    conn.execute("UPDATE events SET session_id = ? WHERE seq = ?", (new_id, seq))
    # keep start/end current now: the next event of this transaction looks its window up here
    conn.execute(
        "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us)"
        " VALUES (?, ?, 'user', ?, ?, ?, ?) ON CONFLICT (project_id, session_id) DO UPDATE SET"
        " start_us = min(start_us, excluded.start_us), end_us = max(end_us, excluded.end_us)",
        (project_id, new_id, user_id, start, start, end),
    )
    return new_id


_UPSERT_DELTA = (
    "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us, event_count,"
    " tokens_in, tokens_out, cost_cents, flagged_count, success_count, failure_count, models, tags)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (project_id, session_id) DO UPDATE SET"
    " user_id = CASE WHEN excluded.user_id IS NOT NULL AND (sessions.user_ts_us IS NULL OR"
    "   (excluded.user_ts_us, excluded.user_id) < (sessions.user_ts_us, sessions.user_id))"
    "   THEN excluded.user_id ELSE sessions.user_id END,"
    " user_ts_us = CASE WHEN excluded.user_id IS NOT NULL AND (sessions.user_ts_us IS NULL OR"
    "   (excluded.user_ts_us, excluded.user_id) < (sessions.user_ts_us, sessions.user_id))"
    "   THEN excluded.user_ts_us ELSE sessions.user_ts_us END,"
    " start_us = CASE WHEN excluded.event_count = 0 THEN sessions.start_us"  # a flag-only delta has no times
    "   WHEN sessions.event_count = 0 THEN excluded.start_us"
    "   ELSE min(sessions.start_us, COALESCE(excluded.start_us, sessions.start_us)) END,"
    " end_us = CASE WHEN excluded.event_count = 0 THEN sessions.end_us"
    "   WHEN sessions.event_count = 0 THEN excluded.end_us"
    "   ELSE max(sessions.end_us, COALESCE(excluded.end_us, sessions.end_us)) END,"
    " event_count = sessions.event_count + excluded.event_count,"
    " tokens_in = sessions.tokens_in + excluded.tokens_in, tokens_out = sessions.tokens_out + excluded.tokens_out,"
    " cost_cents = CASE WHEN excluded.cost_cents IS NULL THEN sessions.cost_cents"
    "   ELSE COALESCE(sessions.cost_cents, 0) + excluded.cost_cents END,"
    " flagged_count = sessions.flagged_count + excluded.flagged_count,"
    " success_count = sessions.success_count + excluded.success_count,"
    " failure_count = sessions.failure_count + excluded.failure_count,"
    " models = CASE WHEN excluded.models IN ('[]', sessions.models) THEN sessions.models"
    "   ELSE (SELECT json_group_array(value) FROM"
    "   (SELECT value FROM json_each(sessions.models) UNION SELECT value FROM json_each(excluded.models)"
    "   ORDER BY 1)) END,"
    " tags = CASE WHEN excluded.tags IN ('[]', sessions.tags) THEN sessions.tags"
    "   ELSE (SELECT json_group_array(value) FROM"
    "   (SELECT value FROM json_each(sessions.tags) UNION SELECT value FROM json_each(excluded.tags)"
    "   ORDER BY 1)) END"
)


def _delta_params(key: SessionKey, d: SessionDelta) -> tuple:
    user_ts, user = d.first_user if d.first_user else (None, None)
    return (key[0], key[1], d.kind, user, user_ts, d.start if d.start is not None else 0,
            d.end if d.end is not None else 0, d.count, d.tokens_in, d.tokens_out, d.cost if d.costed else None,
            d.flagged, d.successes, d.failures, dumps(sorted(d.models)), dumps(sorted(d.tags)))


_AGGREGATE = """
SELECT COUNT(*) AS n, MIN(ts_us) AS start_us, MAX(ts_us) AS end_us,
       COALESCE(SUM(tokens_in), 0) AS tokens_in, COALESCE(SUM(tokens_out), 0) AS tokens_out,
       SUM(cost_cents) AS cost_cents, COUNT(flag) AS flagged,
       COUNT(CASE WHEN flag = 'success' THEN 1 END) AS successes,
       COUNT(CASE WHEN flag = 'failure' THEN 1 END) AS failures, MIN(session_kind) AS kind,
       MIN(CASE WHEN user_id IS NOT NULL THEN printf('%020d', ts_us) || user_id END) AS first_user,
       json_group_array(DISTINCT model) AS models,
       group_concat(CASE WHEN tags != '[]' THEN tags END, char(30)) AS tags
FROM events WHERE project_id = ? AND session_id = ?
"""


def _recompute(conn: sqlite3.Connection, key: SessionKey) -> None:
    """Rewrite a session's aggregate row from its events (delete it if none are left)."""
    agg = conn.execute(_AGGREGATE, key).fetchone()
    if not agg["n"]:
        conn.execute("DELETE FROM sessions WHERE project_id = ? AND session_id = ?", key)
        return
    models = sorted({m for m in json.loads(agg["models"]) if m})
    tags: set[str] = set()
    for chunk in (agg["tags"] or "").split("\x1e"):
        if chunk:
            tags.update(json.loads(chunk))
    first_user = agg["first_user"]
    conn.execute(
        "INSERT OR REPLACE INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us,"
        " event_count, tokens_in, tokens_out, cost_cents, flagged_count, success_count, failure_count, models,"
        " tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (key[0], key[1], agg["kind"], first_user[20:] if first_user else None,
         int(first_user[:20]) if first_user else None, agg["start_us"], agg["end_us"], agg["n"],
         agg["tokens_in"], agg["tokens_out"], agg["cost_cents"], agg["flagged"], agg["successes"],
         agg["failures"], json.dumps(models), json.dumps(sorted(tags))),
    )

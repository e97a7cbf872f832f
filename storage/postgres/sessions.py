"""Session derivation inside a Postgres write transaction (same rules as `storage/sqlite/sessions.py`).

New events fold into their session row as atomic deltas (`INSERT … ON CONFLICT DO UPDATE` adds under
the row lock, so workers adding to one session concurrently both count). Sessions whose membership
changed in a way deltas cannot express are recomputed from their events, after locking their row so
no concurrent delta can be overwritten. Changes are flushed once per transaction, in key order.
"""

from __future__ import annotations

from collections import defaultdict

import psycopg
from phosphobs.storage.postgres import rollup
from phosphobs.storage.session_delta import SessionDelta
from phosphobs.storage.sessions import SESSION_GAP_US, place_in_window

SessionKey = tuple[str, str]  # (project_id, session_id)


class SessionChanges:
    """What one op did to sessions (and to the usage rollups); merged into the transaction's changes only
    if the op succeeds, and written once per transaction."""

    def __init__(self) -> None:
        self.deltas: dict[SessionKey, SessionDelta] = {}
        self.recomputes: set[SessionKey] = set()
        self.removed: dict[str, list[rollup.UsageFacts]] = defaultdict(list)
        self.added: dict[str, list[rollup.UsageFacts]] = defaultdict(list)

    def usage(self, project_id: str, removed: list[rollup.UsageFacts], added: list[rollup.UsageFacts]) -> None:
        self.removed[project_id] += removed
        self.added[project_id] += added

    def add_event(self, key: SessionKey, kind: str, ts_us: int, user_id: str | None, flag: str | None,
                  model: str | None, tags: list[str], tokens_in: int | None, tokens_out: int | None,
                  cost: float | None) -> None:
        if key in self.recomputes:
            return
        d = self.deltas.get(key) or self.deltas.setdefault(key, SessionDelta(kind))
        d.add_event(ts_us, user_id, flag, model, tags, tokens_in, tokens_out, cost)

    def flag_changed(self, key: SessionKey, old: str | None, new: str | None) -> None:
        if key in self.recomputes:
            return
        d = self.deltas.get(key) or self.deltas.setdefault(key, SessionDelta("explicit"))
        d.flag_changed(old, new)

    def recompute(self, key: SessionKey) -> None:
        self.deltas.pop(key, None)
        self.recomputes.add(key)

    def absorb(self, other: SessionChanges) -> None:
        for project_id in other.removed.keys() | other.added.keys():
            self.usage(project_id, other.removed[project_id], other.added[project_id])
        for key in other.recomputes:
            self.recompute(key)
        for key, d in other.deltas.items():
            if key in self.recomputes:
                continue
            if key in self.deltas:
                self.deltas[key].merge(d)
            else:
                self.deltas[key] = d

    def flush(self, conn: psycopg.Connection) -> None:
        """Write everything in one sorted key order (two workers lock session rows the same way)."""
        for key in sorted(self.recomputes | set(self.deltas)):
            if key in self.recomputes:
                _recompute(conn, key)
            else:
                _apply_delta(conn, key, self.deltas[key])
        for project_id in sorted(self.removed.keys() | self.added.keys()):
            rollup.apply(conn, project_id, self.removed[project_id], self.added[project_id])
        self.deltas.clear()
        self.recomputes.clear()
        self.removed.clear()
        self.added.clear()


def assign_user_window(conn: psycopg.Connection, project_id: str, user_id: str, seq: int, ts_us: int,
                       changes: SessionChanges) -> str:
    """Put one event into its user's inactivity-window session, merging sessions it bridges.

    The caller holds the (project, user) advisory lock, so this read-then-write sees every window
    committed by other workers and no one else changes them meanwhile.
    """
    near = conn.execute(
        "SELECT session_id, start_us, end_us FROM sessions"
        " WHERE project_id = %s AND user_id = %s AND kind = 'user' AND start_us <= %s"
        " ORDER BY start_us DESC LIMIT 3",
        (project_id, user_id, ts_us + SESSION_GAP_US),
    ).fetchall()
    placed = place_in_window(project_id, user_id, ts_us,
                             [(r["session_id"], r["start_us"], r["end_us"]) for r in near])
    new_id, start, end = placed.session_id, placed.start_us, placed.end_us
    for old_id in placed.absorbed:
        conn.execute("UPDATE events SET session_id = %s WHERE project_id = %s AND session_id = %s",
                     (new_id, project_id, old_id))
        conn.execute("DELETE FROM sessions WHERE project_id = %s AND session_id = %s", (project_id, old_id))
        changes.recompute((project_id, old_id))
        changes.recompute((project_id, new_id))
    conn.execute("UPDATE events SET session_id = %s WHERE seq = %s", (new_id, seq))
    conn.execute(
        "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us)"
        " VALUES (%s, %s, 'user', %s, %s, %s, %s) ON CONFLICT (project_id, session_id) DO UPDATE SET"
        " start_us = LEAST(sessions.start_us, excluded.start_us), end_us = GREATEST(sessions.end_us, excluded.end_us)",
        (project_id, new_id, user_id, start, start, end),
    )
    return new_id


_MERGE_ARRAY = (
    "CASE WHEN cardinality(excluded.{c}) = 0 OR excluded.{c} = sessions.{c} THEN sessions.{c}"
    " ELSE ARRAY(SELECT DISTINCT x COLLATE \"C\" FROM unnest(sessions.{c} || excluded.{c}) AS x ORDER BY 1) END"
)
_FIRST_USER_WINS = (
    "excluded.user_id IS NOT NULL AND (sessions.user_ts_us IS NULL OR"
    " (excluded.user_ts_us, excluded.user_id) < (sessions.user_ts_us, sessions.user_id))"
)
_UPSERT_DELTA = (
    "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us, event_count,"
    " tokens_in, tokens_out, cost_cents, flagged_count, success_count, failure_count, models, tags)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (project_id, session_id) DO UPDATE SET"
    f" user_id = CASE WHEN {_FIRST_USER_WINS} THEN excluded.user_id ELSE sessions.user_id END,"
    f" user_ts_us = CASE WHEN {_FIRST_USER_WINS} THEN excluded.user_ts_us ELSE sessions.user_ts_us END,"
    # a delta without events (a feedback flag) carries no times: it must not move start/end
    " start_us = CASE WHEN excluded.event_count = 0 THEN sessions.start_us"
    "   WHEN sessions.event_count = 0 THEN excluded.start_us ELSE LEAST(sessions.start_us, excluded.start_us) END,"
    " end_us = CASE WHEN excluded.event_count = 0 THEN sessions.end_us"
    "   WHEN sessions.event_count = 0 THEN excluded.end_us ELSE GREATEST(sessions.end_us, excluded.end_us) END,"
    " event_count = sessions.event_count + excluded.event_count,"
    " tokens_in = sessions.tokens_in + excluded.tokens_in, tokens_out = sessions.tokens_out + excluded.tokens_out,"
    " cost_cents = CASE WHEN excluded.cost_cents IS NULL THEN sessions.cost_cents"
    "   ELSE COALESCE(sessions.cost_cents, 0) + excluded.cost_cents END,"
    " flagged_count = sessions.flagged_count + excluded.flagged_count,"
    " success_count = sessions.success_count + excluded.success_count,"
    " failure_count = sessions.failure_count + excluded.failure_count,"
    f" models = {_MERGE_ARRAY.format(c='models')}, tags = {_MERGE_ARRAY.format(c='tags')}"
)


def _apply_delta(conn: psycopg.Connection, key: SessionKey, d: SessionDelta) -> None:
    user_ts, user = d.first_user if d.first_user else (None, None)
    conn.execute(
        _UPSERT_DELTA,
        (key[0], key[1], d.kind, user, user_ts, d.start or 0, d.end or 0, d.count, d.tokens_in, d.tokens_out,
         d.cost if d.costed else None, d.flagged, d.successes, d.failures, sorted(d.models), sorted(d.tags)),
    )


_AGGREGATE = """
SELECT COUNT(*) AS n, MIN(ts_us) AS start_us, MAX(ts_us) AS end_us,
       COALESCE(SUM(tokens_in), 0) AS tokens_in, COALESCE(SUM(tokens_out), 0) AS tokens_out,
       SUM(cost_cents) AS cost_cents, COUNT(flag) AS flagged,
       COUNT(*) FILTER (WHERE flag = 'success') AS successes,
       COUNT(*) FILTER (WHERE flag = 'failure') AS failures, MIN(session_kind) AS kind,
       (ARRAY_AGG(ARRAY[ts_us::text, user_id] ORDER BY ts_us, user_id) FILTER (WHERE user_id IS NOT NULL))[1:1]
         AS first_user,
       ARRAY(SELECT DISTINCT m FROM unnest(ARRAY_AGG(model) FILTER (WHERE model IS NOT NULL AND model <> ''))
             AS m ORDER BY 1) AS models,
       ARRAY(SELECT DISTINCT t COLLATE "C" FROM json_array_elements_text(
             COALESCE(json_agg(tags) FILTER (WHERE tags::text <> '[]'), '[]')) AS a,
             json_array_elements_text(a.value::json) AS t ORDER BY 1) AS tags
FROM events WHERE project_id = %s AND session_id = %s
"""


def _recompute(conn: psycopg.Connection, key: SessionKey) -> None:
    """Rewrite a session's row from its events (delete it if none are left).

    The row is created (as an empty placeholder) and locked first: a concurrent writer's delta then
    either landed before our read (and its events are visible to it) or waits and adds on top.
    """
    conn.execute("INSERT INTO sessions (project_id, session_id, kind, start_us, end_us) VALUES (%s, %s, 'explicit',"
                 " 0, 0) ON CONFLICT DO NOTHING", key)
    conn.execute("SELECT 1 FROM sessions WHERE project_id = %s AND session_id = %s FOR UPDATE", key)
    agg = conn.execute(_AGGREGATE, key).fetchone()
    if not agg["n"]:
        conn.execute("DELETE FROM sessions WHERE project_id = %s AND session_id = %s", key)
        return
    first = agg["first_user"]
    conn.execute(
        "UPDATE sessions SET kind = %s, user_id = %s, user_ts_us = %s, start_us = %s, end_us = %s, event_count = %s,"
        " tokens_in = %s, tokens_out = %s, cost_cents = %s, flagged_count = %s, success_count = %s,"
        " failure_count = %s, models = %s, tags = %s WHERE project_id = %s AND session_id = %s",
        (agg["kind"], first[0][1] if first else None, int(first[0][0]) if first else None, agg["start_us"],
         agg["end_us"], agg["n"], agg["tokens_in"], agg["tokens_out"], agg["cost_cents"], agg["flagged"],
         agg["successes"], agg["failures"], agg["models"], agg["tags"], *key),
    )

"""Sessions and usage rollups inside a write transaction.

New events fold into their session row as additive deltas (`INSERT … ON CONFLICT DO UPDATE` adds under
the row lock, so concurrent writers to one session both count, and a long session costs the same to
extend as a short one). Sessions whose membership changed in a way deltas cannot express (a user window
that merged, a trace relabelled by a late session attribute, retention) are recomputed from their
events after locking their row. Both give a function of the stored events alone, so arrival order
cannot change the result. Everything is written once per transaction, in key order.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import orjson
from phosphobs.storage.session_delta import SessionDelta
from phosphobs.storage.sessions import SESSION_GAP_US, TraceContext, effective_session, place_in_window
from phosphobs.storage.sql import rollup
from phosphobs.storage.sql.dialect import Conn, Dialect
from phosphobs.storage.usage_facts import UsageFacts

SessionKey = tuple[str, str]  # (project_id, session_id)


class SessionChanges:
    """What ops did to sessions and rollups; an op's changes join the commit's only if the op succeeds."""

    def __init__(self) -> None:
        self.deltas: dict[SessionKey, SessionDelta] = {}
        self.recomputes: set[SessionKey] = set()
        self.removed: dict[str, list[UsageFacts]] = defaultdict(list)
        self.added: dict[str, list[UsageFacts]] = defaultdict(list)

    def usage(self, project_id: str, removed: list[UsageFacts], added: list[UsageFacts]) -> None:
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
        """Take over what a successful op did, so a commit writes each session once."""
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

    def flush(self, conn: Conn) -> None:
        """Write in one sorted key order (two writers then lock session rows the same way)."""
        d = conn.dialect
        pending: list[tuple] = []
        for key in sorted(self.recomputes | self.deltas.keys()):
            if key in self.deltas:
                pending.append(_delta_params(d, key, self.deltas[key]))
                continue
            if pending:
                conn.executemany(_upsert_delta(d), pending)
                pending = []
            _recompute(conn, key)
        if pending:
            conn.executemany(_upsert_delta(d), pending)
        for project_id in sorted(self.removed.keys() | self.added.keys()):
            rollup.apply(conn, project_id, self.removed[project_id], self.added[project_id])
        self.deltas.clear()
        self.recomputes.clear()
        self.removed.clear()
        self.added.clear()


def assign_user_window(conn: Conn, project_id: str, user_id: str, seq: int, ts_us: int,
                       changes: SessionChanges) -> str:
    """Put one event into its user's inactivity-window session (rule: `place_in_window`); returns its id.

    Concurrent writers serialise on the user first (Postgres: an advisory lock), so this
    read-then-write sees every window committed before it.
    """
    near = conn.execute(
        "SELECT session_id, start_us, end_us FROM sessions WHERE project_id = ? AND user_id = ? AND kind = 'user'"
        " AND start_us <= ? ORDER BY start_us DESC LIMIT 3",
        (project_id, user_id, ts_us + SESSION_GAP_US),
    ).fetchall()
    placed = place_in_window(project_id, user_id, ts_us, [(r["session_id"], r["start_us"], r["end_us"]) for r in near])
    new_id, start, end = placed.session_id, placed.start_us, placed.end_us
    for old_id in placed.absorbed:
        conn.execute("UPDATE events SET session_id = ? WHERE project_id = ? AND session_id = ?",
                     (new_id, project_id, old_id))
        conn.execute("DELETE FROM sessions WHERE project_id = ? AND session_id = ?", (project_id, old_id))
        changes.recompute((project_id, old_id))
        changes.recompute((project_id, new_id))
    conn.execute("UPDATE events SET session_id = ? WHERE seq = ?", (new_id, seq))
    # keep start/end current now: the next event of this transaction looks its window up here
    d = conn.dialect
    conn.execute(
        "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us)"
        " VALUES (?, ?, 'user', ?, ?, ?, ?) ON CONFLICT (project_id, session_id) DO UPDATE SET"
        f" start_us = {d.least}(sessions.start_us, excluded.start_us),"
        f" end_us = {d.greatest}(sessions.end_us, excluded.end_us)",
        (project_id, new_id, user_id, start, start, end),
    )
    return new_id


_FIRST_USER_WINS = (
    "excluded.user_id IS NOT NULL AND (sessions.user_ts_us IS NULL OR"
    " (excluded.user_ts_us, excluded.user_id) < (sessions.user_ts_us, sessions.user_id))"
)


@functools.cache
def _upsert_delta(d: Dialect) -> str:
    return (
        "INSERT INTO sessions (project_id, session_id, kind, user_id, user_ts_us, start_us, end_us, event_count,"
        " tokens_in, tokens_out, cost_cents, flagged_count, success_count, failure_count, models, tags)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, session_id) DO UPDATE SET"
        f" user_id = CASE WHEN {_FIRST_USER_WINS} THEN excluded.user_id ELSE sessions.user_id END,"
        f" user_ts_us = CASE WHEN {_FIRST_USER_WINS} THEN excluded.user_ts_us ELSE sessions.user_ts_us END,"
        # a delta without events (a feedback flag) carries no times: it must not move start/end
        " start_us = CASE WHEN excluded.event_count = 0 THEN sessions.start_us WHEN sessions.event_count = 0"
        f"   THEN excluded.start_us ELSE {d.least}(sessions.start_us, excluded.start_us) END,"
        " end_us = CASE WHEN excluded.event_count = 0 THEN sessions.end_us WHEN sessions.event_count = 0"
        f"   THEN excluded.end_us ELSE {d.greatest}(sessions.end_us, excluded.end_us) END,"
        " event_count = sessions.event_count + excluded.event_count,"
        " tokens_in = sessions.tokens_in + excluded.tokens_in, tokens_out = sessions.tokens_out + excluded.tokens_out,"
        " cost_cents = CASE WHEN excluded.cost_cents IS NULL THEN sessions.cost_cents"
        "   ELSE COALESCE(sessions.cost_cents, 0) + excluded.cost_cents END,"
        " flagged_count = sessions.flagged_count + excluded.flagged_count,"
        " success_count = sessions.success_count + excluded.success_count,"
        " failure_count = sessions.failure_count + excluded.failure_count,"
        f" models = {d.merge_lists('models')}, tags = {d.merge_lists('tags')}"
    )


def _delta_params(d: Dialect, key: SessionKey, delta: SessionDelta) -> tuple:
    user_ts, user = delta.first_user if delta.first_user else (None, None)
    return (*key, delta.kind, user, user_ts, delta.start or 0, delta.end or 0, delta.count, delta.tokens_in,
            delta.tokens_out, delta.cost if delta.costed else None, delta.flagged, delta.successes, delta.failures,
            d.list_value(sorted(delta.models)), d.list_value(sorted(delta.tags)))


_WHERE = " FROM events WHERE project_id = ? AND session_id = ?"
_AGGREGATE = (
    "SELECT COUNT(*) AS n, MIN(ts_us) AS start_us, MAX(ts_us) AS end_us, COALESCE(SUM(tokens_in), 0) AS tokens_in,"
    " COALESCE(SUM(tokens_out), 0) AS tokens_out, SUM(cost_cents) AS cost_cents, COUNT(flag) AS flagged,"
    " COUNT(CASE WHEN flag = 'success' THEN 1 END) AS successes,"
    " COUNT(CASE WHEN flag = 'failure' THEN 1 END) AS failures, MIN(session_kind) AS kind" + _WHERE
)


def _recompute(conn: Conn, key: SessionKey) -> None:
    """Rewrite a session's row from its events (delete it if none are left).

    The row is created (as an empty placeholder) and locked first: a concurrent writer's delta then
    either landed before our read (and its events are visible to it) or waits and adds on top.
    """
    d = conn.dialect
    conn.execute("INSERT INTO sessions (project_id, session_id, kind, start_us, end_us) VALUES (?, ?, 'explicit', 0, 0)"
                 " ON CONFLICT DO NOTHING", key)
    conn.execute(f"SELECT 1 FROM sessions WHERE project_id = ? AND session_id = ?{d.for_update}", key).fetchall()
    agg = conn.execute(_AGGREGATE, key).fetchone()
    if not agg["n"]:
        conn.execute("DELETE FROM sessions WHERE project_id = ? AND session_id = ?", key)
        return
    first = conn.execute(f"SELECT ts_us, user_id{_WHERE} AND user_id IS NOT NULL ORDER BY ts_us, user_id LIMIT 1",
                         key).fetchone()
    models = [r["model"] for r in conn.execute(
        f"SELECT DISTINCT model{_WHERE} AND model IS NOT NULL AND model <> ''", key).fetchall()]
    tags: set[str] = set()
    for r in conn.execute(f"SELECT DISTINCT {d.json_text('tags')} AS t{_WHERE} AND {d.json_text('tags')} <> '[]'",
                          key).fetchall():
        tags.update(orjson.loads(r["t"]))
    conn.execute(
        "UPDATE sessions SET kind = ?, user_id = ?, user_ts_us = ?, start_us = ?, end_us = ?, event_count = ?,"
        " tokens_in = ?, tokens_out = ?, cost_cents = ?, flagged_count = ?, success_count = ?, failure_count = ?,"
        " models = ?, tags = ? WHERE project_id = ? AND session_id = ?",
        (agg["kind"], first["user_id"] if first else None, first["ts_us"] if first else None, agg["start_us"],
         agg["end_us"], agg["n"], agg["tokens_in"], agg["tokens_out"], agg["cost_cents"], agg["flagged"],
         agg["successes"], agg["failures"], d.list_value(sorted(models)), d.list_value(sorted(tags)), *key),
    )


# Trace contexts: a trace's session and user come from its earliest naming span.
def write_contexts(conn: Conn, project: str, contexts: list[tuple[str, TraceContext]]) -> None:
    conn.executemany(
        "INSERT INTO trace_context (project_id, trace_id, session_start_us, session_id, user_start_us, user_id)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, trace_id) DO UPDATE SET"
        " session_start_us = excluded.session_start_us, session_id = excluded.session_id,"
        " user_start_us = excluded.user_start_us, user_id = excluded.user_id",
        [(project, trace, *context) for trace, context in contexts],
    )


def context_of(row: Any) -> TraceContext:
    return TraceContext(row["session_start_us"], row["session_id"], row["user_start_us"], row["user_id"])


def relabel(conn: Conn, project: str, contexts: dict[str, TraceContext | None], changes: SessionChanges) -> None:
    """Stored events of traces whose session or user changed move to their new session."""
    d = conn.dialect
    for ev in d.rows_in(conn, "SELECT seq, session_id, user_id, explicit_session_id, explicit_user_id, trace_id"
                              f" FROM events WHERE project_id = ? AND trace_id {{in}} ORDER BY seq{d.for_update}",
                        (project,), list(contexts)):
        context = contexts[ev["trace_id"]]
        session_id, kind, user_id = effective_session(
            ev["explicit_session_id"], ev["explicit_user_id"], ev["trace_id"],
            context.session_id if context else None, context.user_id if context else None)
        if (session_id, user_id) != (ev["session_id"], ev["user_id"]):
            conn.execute("UPDATE events SET session_id = ?, session_kind = ?, user_id = ? WHERE seq = ?",
                         (session_id, kind, user_id, ev["seq"]))
            changes.recompute((project, ev["session_id"]))
            changes.recompute((project, session_id))

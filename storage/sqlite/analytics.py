"""Dashboard reads for SQLite: charts from the hourly rollups and the sessions table, never from events.

The semantics of each function are documented on the `Storage` protocol method of the same name.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from phosphobs.storage.dashboard_records import (
    HOUR_US,
    LatencyBucket,
    ModelUsage,
    SessionBucket,
    SessionSearch,
    UsageBucket,
    UserQuery,
    UserSummary,
    quantile_from_histogram,
)
from phosphobs.storage.protocol import Page, SessionRecord
from phosphobs.storage.rows import session_record
from phosphobs.storage.sqlite.fts import fts_query


def _check_bucket(bucket_us: int) -> None:
    if bucket_us <= 0 or bucket_us % HOUR_US:
        raise ValueError("bucket_us must be a positive multiple of one hour")


def usage_series(conn: sqlite3.Connection, project_id: str, since_us: int, until_us: int,
                 bucket_us: int) -> list[UsageBucket]:
    _check_bucket(bucket_us)
    rows = conn.execute(
        "SELECT (hour_us / ?) * ? AS b, SUM(events) AS events, SUM(errors) AS errors, SUM(tokens_in) AS ti,"
        " SUM(tokens_out) AS tout, SUM(cost_cents) AS cost, SUM(costed) AS costed, SUM(success_count) AS ok,"
        " SUM(failure_count) AS bad FROM usage_hourly WHERE project_id = ? AND hour_us >= ? AND hour_us < ?"
        " GROUP BY b HAVING SUM(events) > 0 ORDER BY b",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ).fetchall()
    return [UsageBucket(r["b"], r["events"], r["errors"], r["ti"], r["tout"], r["cost"] if r["costed"] else None,
                        r["ok"], r["bad"]) for r in rows]


def _hour(us: int) -> int:
    """Ranges select whole hours: an hour is in when it starts at or after the hour holding `us`."""
    return (us // HOUR_US) * HOUR_US


def session_series(conn: sqlite3.Connection, project_id: str, since_us: int, until_us: int,
                   bucket_us: int) -> list[SessionBucket]:
    _check_bucket(bucket_us)
    rows = conn.execute(
        "SELECT (start_us / ?) * ? AS b, COUNT(*) AS n, COUNT(DISTINCT user_id) AS users FROM sessions"
        " WHERE project_id = ? AND start_us >= ? AND start_us < ? AND event_count > 0 GROUP BY b ORDER BY b",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ).fetchall()
    return [SessionBucket(r["b"], r["n"], r["users"]) for r in rows]


def latency_percentiles(conn: sqlite3.Connection, project_id: str, since_us: int, until_us: int,
                        bucket_us: int) -> list[LatencyBucket]:
    _check_bucket(bucket_us)
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for r in conn.execute(
        "SELECT (hour_us / ?) * ? AS b, bucket, SUM(count) AS n FROM latency_hourly"
        " WHERE project_id = ? AND hour_us >= ? AND hour_us < ? GROUP BY b, bucket",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ):
        if r["n"]:
            histograms[r["b"]][r["bucket"]] = r["n"]
    return [
        LatencyBucket(b, sum(h.values()), quantile_from_histogram(h, 0.5), quantile_from_histogram(h, 0.95))
        for b, h in sorted(histograms.items()) if h
    ]


def top_models(conn: sqlite3.Connection, project_id: str, since_us: int, until_us: int,
               limit: int) -> list[ModelUsage]:
    rows = conn.execute(
        "SELECT model, SUM(events) AS events, SUM(errors) AS errors, SUM(tokens_in) AS ti, SUM(tokens_out) AS tout,"
        " SUM(cost_cents) AS cost, SUM(costed) AS costed, SUM(success_count) AS ok, SUM(failure_count) AS bad"
        " FROM usage_hourly WHERE project_id = ? AND hour_us >= ? AND hour_us < ?"
        " GROUP BY model HAVING SUM(events) > 0 ORDER BY SUM(events) DESC, model LIMIT ?",
        (project_id, _hour(since_us), until_us, limit),
    ).fetchall()
    return [ModelUsage(r["model"] or None, r["events"], r["errors"], r["ti"], r["tout"],
                       r["cost"] if r["costed"] else None, r["ok"], r["bad"]) for r in rows]


def list_users(conn: sqlite3.Connection, project_id: str, q: UserQuery) -> Page[UserSummary]:
    where = ["project_id = ?", "user_id IS NOT NULL", "event_count > 0"]
    args: list[Any] = [project_id]
    if q.prefix:
        where.append("user_id >= ? AND user_id < ?")
        args += [q.prefix, q.prefix + "\U0010ffff"]
    if q.after is not None:
        where.append("user_id > ?")
        args.append(q.after)
    rows = conn.execute(
        "SELECT user_id, COUNT(*) AS sessions, SUM(event_count) AS events, SUM(tokens_in) AS ti,"
        " SUM(tokens_out) AS tout, SUM(cost_cents) AS cost, SUM(flagged_count) AS flagged,"
        " SUM(success_count) AS ok, SUM(failure_count) AS bad, MIN(start_us) AS first, MAX(end_us) AS last"
        f" FROM sessions WHERE {' AND '.join(where)} GROUP BY user_id ORDER BY user_id LIMIT ?",
        (*args, q.limit + 1),
    ).fetchall()
    items = [UserSummary(r["user_id"], r["sessions"], r["events"], r["ti"], r["tout"], r["cost"], r["flagged"],
                         r["ok"], r["bad"], r["first"], r["last"]) for r in rows[: q.limit]]
    return Page(items=items, next_after=items[-1].user_id if len(rows) > q.limit else None)


_SORTS = {
    "activity": "s.end_us",
    "start": "s.start_us",
    "duration": "(s.end_us - s.start_us)",
    "events": "s.event_count",
    "cost": "COALESCE(s.cost_cents, 0)",
    "tokens": "(s.tokens_in + s.tokens_out)",
}


def search_sessions(conn: sqlite3.Connection, project_id: str, q: SessionSearch) -> Page[SessionRecord]:
    where = ["s.project_id = ?", "s.event_count > 0"]
    args: list[Any] = [project_id]
    for column, value in (("s.user_id", q.user_id),):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if q.since_us is not None:
        where.append("s.end_us >= ?")
        args.append(q.since_us)
    if q.until_us is not None:
        where.append("s.start_us < ?")
        args.append(q.until_us)
    for column, value in (("s.models", q.model), ("s.tags", q.tag)):
        if value is not None:
            where.append(f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)")
            args.append(value)
    if q.has_failures is not None:
        where.append("s.failure_count > 0" if q.has_failures else "s.failure_count = 0")
    if q.text:
        match = fts_query(q.text)
        if match is None:
            return Page(items=[], next_after=None)
        where.append(
            # CROSS JOIN pins the full-text index as the outer loop (else SQLite may walk all project events)
            "s.session_id IN (SELECT e.session_id FROM events_fts f CROSS JOIN events e ON e.seq = f.rowid"
            " WHERE events_fts MATCH ? AND e.project_id = ? AND e.session_id IS NOT NULL)"
        )
        args += [match, project_id]
    key = _SORTS[q.sort]
    direction, cmp = ("DESC", "<") if q.descending else ("ASC", ">")
    if q.after is not None:
        where.append(f"({key}, s.session_id) {cmp} (?, ?)")
        args += list(q.after)
    rows = conn.execute(
        f"SELECT s.*, {key} AS sort_value FROM sessions s WHERE {' AND '.join(where)}"
        f" ORDER BY {key} {direction}, s.session_id {direction} LIMIT ?",
        (*args, q.limit + 1),
    ).fetchall()
    items = [session_record(r) for r in rows[: q.limit]]
    last = rows[q.limit - 1] if len(rows) > q.limit else None
    return Page(items=items, next_after=(last["sort_value"], last["session_id"]) if last else None)

"""Dashboard reads for Postgres: charts from the hourly rollups and the sessions table, never from events.

Same semantics as storage/sqlite/analytics.py (documented on the `Storage` protocol).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg
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
from phosphobs.storage.postgres.search import tsquery
from phosphobs.storage.protocol import Page, SessionRecord
from phosphobs.storage.rows import session_record


def _check_bucket(bucket_us: int) -> None:
    if bucket_us <= 0 or bucket_us % HOUR_US:
        raise ValueError("bucket_us must be a positive multiple of one hour")


def _hour(us: int) -> int:
    """Ranges select whole hours: an hour is in when it starts at or after the hour holding `us`."""
    return (us // HOUR_US) * HOUR_US


def usage_series(conn: psycopg.Connection, project_id: str, since_us: int, until_us: int,
                 bucket_us: int) -> list[UsageBucket]:
    _check_bucket(bucket_us)
    rows = conn.execute(
        "SELECT (hour_us / %s) * %s AS b, SUM(events) AS events, SUM(errors) AS errors, SUM(tokens_in) AS ti,"
        " SUM(tokens_out) AS tout, SUM(cost_cents) AS cost, SUM(costed) AS costed, SUM(success_count) AS ok,"
        " SUM(failure_count) AS bad FROM usage_hourly WHERE project_id = %s AND hour_us >= %s AND hour_us < %s"
        " GROUP BY b HAVING SUM(events) > 0 ORDER BY b",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ).fetchall()
    return [UsageBucket(r["b"], int(r["events"]), int(r["errors"]), int(r["ti"]), int(r["tout"]),
                        r["cost"] if r["costed"] else None, int(r["ok"]), int(r["bad"])) for r in rows]


def session_series(conn: psycopg.Connection, project_id: str, since_us: int, until_us: int,
                   bucket_us: int) -> list[SessionBucket]:
    _check_bucket(bucket_us)
    rows = conn.execute(
        "SELECT (start_us / %s) * %s AS b, COUNT(*) AS n, COUNT(DISTINCT user_id) AS users FROM sessions"
        " WHERE project_id = %s AND start_us >= %s AND start_us < %s AND event_count > 0 GROUP BY b ORDER BY b",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ).fetchall()
    return [SessionBucket(r["b"], r["n"], r["users"]) for r in rows]


def latency_percentiles(conn: psycopg.Connection, project_id: str, since_us: int, until_us: int,
                        bucket_us: int) -> list[LatencyBucket]:
    _check_bucket(bucket_us)
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for r in conn.execute(
        "SELECT (hour_us / %s) * %s AS b, bucket, SUM(count) AS n FROM latency_hourly"
        " WHERE project_id = %s AND hour_us >= %s AND hour_us < %s GROUP BY b, bucket",
        (bucket_us, bucket_us, project_id, _hour(since_us), until_us),
    ).fetchall():
        if r["n"]:
            histograms[r["b"]][r["bucket"]] = int(r["n"])
    return [
        LatencyBucket(b, sum(h.values()), quantile_from_histogram(h, 0.5), quantile_from_histogram(h, 0.95))
        for b, h in sorted(histograms.items()) if h
    ]


def top_models(conn: psycopg.Connection, project_id: str, since_us: int, until_us: int,
               limit: int) -> list[ModelUsage]:
    rows = conn.execute(
        "SELECT model, SUM(events) AS events, SUM(errors) AS errors, SUM(tokens_in) AS ti, SUM(tokens_out) AS tout,"
        " SUM(cost_cents) AS cost, SUM(costed) AS costed, SUM(success_count) AS ok, SUM(failure_count) AS bad"
        " FROM usage_hourly WHERE project_id = %s AND hour_us >= %s AND hour_us < %s"
        " GROUP BY model HAVING SUM(events) > 0 ORDER BY SUM(events) DESC, model LIMIT %s",
        (project_id, _hour(since_us), until_us, limit),
    ).fetchall()
    return [ModelUsage(r["model"] or None, int(r["events"]), int(r["errors"]), int(r["ti"]), int(r["tout"]),
                       r["cost"] if r["costed"] else None, int(r["ok"]), int(r["bad"])) for r in rows]


def list_users(conn: psycopg.Connection, project_id: str, q: UserQuery) -> Page[UserSummary]:
    where = ["project_id = %s", "user_id IS NOT NULL", "event_count > 0"]
    args: list[Any] = [project_id]
    if q.prefix:
        where.append("user_id >= %s AND user_id < %s")
        args += [q.prefix, q.prefix + "\U0010ffff"]
    if q.after is not None:
        where.append("user_id > %s")
        args.append(q.after)
    rows = conn.execute(
        "SELECT user_id, COUNT(*) AS sessions, SUM(event_count) AS events, SUM(tokens_in) AS ti,"
        " SUM(tokens_out) AS tout, SUM(cost_cents) AS cost, SUM(flagged_count) AS flagged,"
        " SUM(success_count) AS ok, SUM(failure_count) AS bad, MIN(start_us) AS first, MAX(end_us) AS last"
        f" FROM sessions WHERE {' AND '.join(where)} GROUP BY user_id ORDER BY user_id LIMIT %s",
        (*args, q.limit + 1),
    ).fetchall()
    items = [UserSummary(r["user_id"], r["sessions"], int(r["events"]), int(r["ti"]), int(r["tout"]), r["cost"],
                         int(r["flagged"]), int(r["ok"]), int(r["bad"]), r["first"], r["last"])
             for r in rows[: q.limit]]
    return Page(items=items, next_after=items[-1].user_id if len(rows) > q.limit else None)


_SORTS = {
    "activity": "s.end_us",
    "start": "s.start_us",
    "duration": "(s.end_us - s.start_us)",
    "events": "s.event_count",
    "cost": "COALESCE(s.cost_cents, 0)",
    "tokens": "(s.tokens_in + s.tokens_out)",
}


def search_sessions(conn: psycopg.Connection, project_id: str, q: SessionSearch) -> Page[SessionRecord]:
    where = ["s.project_id = %s", "s.event_count > 0"]
    args: list[Any] = [project_id]
    if q.user_id is not None:
        where.append("s.user_id = %s")
        args.append(q.user_id)
    if q.since_us is not None:
        where.append("s.end_us >= %s")
        args.append(q.since_us)
    if q.until_us is not None:
        where.append("s.start_us < %s")
        args.append(q.until_us)
    for column, value in (("s.models", q.model), ("s.tags", q.tag)):
        if value is not None:
            where.append(f"%s = ANY({column})")
            args.append(value)
    if q.has_failures is not None:
        where.append("s.failure_count > 0" if q.has_failures else "s.failure_count = 0")
    if q.text:
        match = tsquery(q.text)
        if match is None:
            return Page(items=[], next_after=None)
        where.append("s.session_id IN (SELECT e.session_id FROM events e WHERE e.search @@ to_tsquery('simple', %s)"
                     " AND e.project_id = %s AND e.session_id IS NOT NULL)")
        args += [match, project_id]
    key = _SORTS[q.sort]
    direction, cmp = ("DESC", "<") if q.descending else ("ASC", ">")
    if q.after is not None:
        where.append(f"({key}, s.session_id) {cmp} (%s, %s)")
        args += list(q.after)
    rows = conn.execute(
        f"SELECT s.*, {key} AS sort_value FROM sessions s WHERE {' AND '.join(where)}"
        f" ORDER BY {key} {direction}, s.session_id {direction} LIMIT %s",
        (*args, q.limit + 1),
    ).fetchall()
    items = [session_record(r) for r in rows[: q.limit]]
    last = rows[q.limit - 1] if len(rows) > q.limit else None
    return Page(items=items, next_after=(last["sort_value"], last["session_id"]) if last else None)

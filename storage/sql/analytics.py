"""Dashboard reads: charts from the hourly rollups and the sessions table, never from events.

The semantics of each function are documented on the `DashboardReads` protocol method of the same name.
Sums are passed through `int()`: Postgres sums bigints as numeric.
"""

from __future__ import annotations

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
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.filters import session_where
from phosphobs.storage.sql.paging import keyset_page

_TOTALS = ("SUM(events) AS events, SUM(errors) AS errors, SUM(tokens_in) AS ti, SUM(tokens_out) AS tout,"
           " SUM(cost_cents) AS cost, SUM(costed) AS costed, SUM(success_count) AS ok, SUM(failure_count) AS bad")


def _totals(r: Any) -> tuple[int, int, int, int, float | None, int, int]:
    return (int(r["events"]), int(r["errors"]), int(r["ti"]), int(r["tout"]), r["cost"] if r["costed"] else None,
            int(r["ok"]), int(r["bad"]))


def _range(bucket_us: int, since_us: int) -> int:
    """Checks the bucket; ranges select whole hours: an hour is in when it starts at or after the hour of `since_us`."""
    if bucket_us <= 0 or bucket_us % HOUR_US:
        raise ValueError("bucket_us must be a positive multiple of one hour")
    return (since_us // HOUR_US) * HOUR_US


def usage_series(conn: Conn, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[UsageBucket]:
    rows = conn.execute(
        f"SELECT (hour_us / ?) * ? AS b, {_TOTALS} FROM usage_hourly WHERE project_id = ? AND hour_us >= ?"
        " AND hour_us < ? GROUP BY b HAVING SUM(events) > 0 ORDER BY b",
        (bucket_us, bucket_us, project_id, _range(bucket_us, since_us), until_us),
    ).fetchall()
    return [UsageBucket(r["b"], *_totals(r)) for r in rows]


def session_series(conn: Conn, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[SessionBucket]:
    rows = conn.execute(
        "SELECT (start_us / ?) * ? AS b, COUNT(*) AS n, COUNT(DISTINCT user_id) AS users FROM sessions"
        " WHERE project_id = ? AND start_us >= ? AND start_us < ? AND event_count > 0 GROUP BY b ORDER BY b",
        (bucket_us, bucket_us, project_id, _range(bucket_us, since_us), until_us),
    ).fetchall()
    return [SessionBucket(r["b"], r["n"], r["users"]) for r in rows]


def latency_percentiles(conn: Conn, project_id: str, since_us: int, until_us: int,
                        bucket_us: int) -> list[LatencyBucket]:
    histograms: dict[int, dict[int, int]] = defaultdict(dict)
    for r in conn.execute(
        "SELECT (hour_us / ?) * ? AS b, bucket, SUM(count) AS n FROM latency_hourly"
        " WHERE project_id = ? AND hour_us >= ? AND hour_us < ? GROUP BY b, bucket",
        (bucket_us, bucket_us, project_id, _range(bucket_us, since_us), until_us),
    ).fetchall():
        if r["n"]:
            histograms[r["b"]][r["bucket"]] = int(r["n"])
    return [
        LatencyBucket(b, sum(h.values()), quantile_from_histogram(h, 0.5), quantile_from_histogram(h, 0.95))
        for b, h in sorted(histograms.items()) if h
    ]


def top_models(conn: Conn, project_id: str, since_us: int, until_us: int, limit: int) -> list[ModelUsage]:
    rows = conn.execute(
        f"SELECT model, {_TOTALS} FROM usage_hourly WHERE project_id = ? AND hour_us >= ? AND hour_us < ?"
        " GROUP BY model HAVING SUM(events) > 0 ORDER BY SUM(events) DESC, model LIMIT ?",
        (project_id, (since_us // HOUR_US) * HOUR_US, until_us, limit),
    ).fetchall()
    return [ModelUsage(r["model"] or None, *_totals(r)) for r in rows]


def list_users(conn: Conn, project_id: str, query: UserQuery) -> Page[UserSummary]:
    where = ["project_id = ?", "user_id IS NOT NULL", "event_count > 0"]
    args: list[Any] = [project_id]
    if query.prefix:
        where.append("user_id >= ? AND user_id < ?")
        args += [query.prefix, query.prefix + "\U0010ffff"]
    if query.after is not None:
        where.append("user_id > ?")
        args.append(query.after)
    rows = conn.execute(
        "SELECT user_id, COUNT(*) AS sessions, SUM(event_count) AS events, SUM(tokens_in) AS ti,"
        " SUM(tokens_out) AS tout, SUM(cost_cents) AS cost, SUM(flagged_count) AS flagged,"
        " SUM(success_count) AS ok, SUM(failure_count) AS bad, MIN(start_us) AS first, MAX(end_us) AS last"
        f" FROM sessions WHERE {' AND '.join(where)} GROUP BY user_id ORDER BY user_id LIMIT ?",
        (*args, query.limit + 1),
    ).fetchall()
    return keyset_page(rows, query.limit, _user_summary, lambda last: last["user_id"])


def _user_summary(r: Any) -> UserSummary:
    return UserSummary(r["user_id"], r["sessions"], int(r["events"]), int(r["ti"]), int(r["tout"]), r["cost"],
                       int(r["flagged"]), int(r["ok"]), int(r["bad"]), r["first"], r["last"])


_SORTS = {
    "activity": "s.end_us",
    "start": "s.start_us",
    "duration": "(s.end_us - s.start_us)",
    "events": "s.event_count",
    "cost": "COALESCE(s.cost_cents, 0)",
    "tokens": "(s.tokens_in + s.tokens_out)",
}


def search_sessions(conn: Conn, project_id: str, query: SessionSearch) -> Page[SessionRecord]:
    where, args = session_where(project_id, query, conn.dialect)
    if query.text:
        match = conn.dialect.text_query(query.text)
        if match is None:
            return Page(items=[], next_after=None)
        where.append(conn.dialect.sessions_matching())
        args += [match, project_id]
    key = _SORTS[query.sort]
    direction, cmp = ("DESC", "<") if query.descending else ("ASC", ">")
    if query.after is not None:
        where.append(f"({key}, s.session_id) {cmp} (?, ?)")
        args += list(query.after)
    rows = conn.execute(
        f"SELECT s.*, {key} AS sort_value FROM sessions s WHERE {' AND '.join(where)}"
        f" ORDER BY {key} {direction}, s.session_id {direction} LIMIT ?",
        (*args, query.limit + 1),
    ).fetchall()
    return keyset_page(rows, query.limit, session_record, lambda last: (last["sort_value"], last["session_id"]))

"""Dashboard reads: hourly rollups kept at write time, latency percentiles, users, sorted session search."""

from __future__ import annotations

import re

from phosphobs.storage.dashboard_records import HOUR_US, SessionSearch, UserQuery, quantile_from_histogram
from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import FeedbackOp, IngestOp, Project, Storage

from tests.support.factories import BASE_US, MINUTE_US, make_event

NOW = BASE_US + 48 * HOUR_US
DAY = 24 * HOUR_US


def ingest(storage: Storage, project: Project, events) -> None:
    [result] = storage.write([IngestOp(project.id, list(events), None)], NOW)
    assert result.ok


def feedback(storage: Storage, project: Project, event_id: str, flag: str) -> None:
    [result] = storage.write([FeedbackOp(project.id, Feedback(event_id, flag))], NOW)  # type: ignore[arg-type]
    assert result.ok


def test_usage_series_sums_each_bucket_and_flags_follow_feedback(storage: Storage, project: Project) -> None:
    a = make_event(timestamp_us=BASE_US + 5 * MINUTE_US, model="gpt-4", tokens_in=10, tokens_out=20, cost_cents=1.5)
    b = make_event(timestamp_us=BASE_US + 50 * MINUTE_US, model="gpt-4", tokens_in=1, tokens_out=2, status="error")
    c = make_event(timestamp_us=BASE_US + 2 * HOUR_US, model=None, tokens_in=3)
    ingest(storage, project, [a, b, c])
    feedback(storage, project, a.event_id, "failure")
    feedback(storage, project, a.event_id, "success")
    feedback(storage, project, b.event_id, "failure")
    hourly = storage.usage_series(project.id, BASE_US, BASE_US + DAY, HOUR_US)
    assert [(u.start_us - BASE_US) // HOUR_US for u in hourly] == [0, 2]
    first, second = hourly
    assert (first.events, first.errors, first.tokens_in, first.tokens_out, first.cost_cents) == (2, 1, 11, 22, 1.5)
    assert (first.success_count, first.failure_count) == (1, 1)
    assert (second.events, second.tokens_in, second.cost_cents) == (1, 3, None)
    [daily] = storage.usage_series(project.id, BASE_US, BASE_US + DAY, DAY)
    assert (daily.events, daily.tokens_in) == (3, 14)


def test_rollup_is_the_same_whatever_the_arrival_order(storage: Storage, project: Project) -> None:
    other = storage.create_project("other-order", "free", NOW)
    events = [make_event(timestamp_us=BASE_US + i * 20 * MINUTE_US, model=f"m{i % 2}", tokens_in=i, latency_ms=100 * i)
              for i in range(6)]
    ingest(storage, project, events)
    feedback(storage, project, events[1].event_id, "failure")
    feedback(storage, other, events[1].event_id, "failure")  # feedback first, then the events in reverse
    ingest(storage, other, events[::-1])

    def view(p: Project):
        return ([(u.start_us, u.events, u.tokens_in, u.failure_count) for u in
                 storage.usage_series(p.id, BASE_US, NOW, HOUR_US)],
                [(m.model, m.events) for m in storage.top_models(p.id, BASE_US, NOW, 10)],
                [(lat.count, lat.p50_ms, lat.p95_ms) for lat in storage.latency_percentiles(p.id, BASE_US, NOW, DAY)])

    assert view(project) == view(other)


def test_latency_percentiles_interpolate_inside_histogram_buckets(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(timestamp_us=BASE_US + i, latency_ms=ms)
                              for i, ms in enumerate([50] * 50 + [900] * 45 + [200_000] * 5)])
    [bucket] = storage.latency_percentiles(project.id, BASE_US, NOW, DAY)
    assert bucket.count == 100
    assert bucket.p50_ms == 100.0  # the 50th of 100 values is the last of the first bucket (<= 100 ms)
    assert bucket.p95_ms == 1000.0  # the 95th closes the (500, 1000] bucket
    assert quantile_from_histogram({11: 3}, 0.5) == 120000  # the open tail answers its lower bound
    assert quantile_from_histogram({}, 0.5) is None


def test_top_models_rank_by_event_count(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(model="small") for _ in range(3)] + [make_event(model="big")]
           + [make_event(model=None) for _ in range(2)])
    ranked = storage.top_models(project.id, BASE_US, NOW, 10)
    assert [(m.model, m.events) for m in ranked] == [("small", 3), (None, 2), ("big", 1)]
    assert len(storage.top_models(project.id, BASE_US, NOW, 1)) == 1


def test_session_series_counts_sessions_and_distinct_users_by_start(storage: Storage, project: Project) -> None:
    ingest(storage, project, [
        make_event(session_id="s1", user_id="u1", timestamp_us=BASE_US + MINUTE_US),
        make_event(session_id="s2", user_id="u1", timestamp_us=BASE_US + 2 * MINUTE_US),
        make_event(session_id="s3", user_id="u2", timestamp_us=BASE_US + 3 * HOUR_US),
    ])
    series = storage.session_series(project.id, BASE_US, NOW, HOUR_US)
    assert [((b.start_us - BASE_US) // HOUR_US, b.sessions, b.users) for b in series] == [(0, 2, 1), (3, 1, 1)]


def test_users_are_listed_with_their_totals_in_keyset_pages(storage: Storage, project: Project) -> None:
    events = [make_event(session_id=f"s{i}", user_id=f"user-{i % 3}", tokens_in=1, cost_cents=0.5) for i in range(9)]
    ingest(storage, project, events)
    feedback(storage, project, events[0].event_id, "success")
    first = storage.list_users(project.id, UserQuery(limit=2))
    assert [u.user_id for u in first.items] == ["user-0", "user-1"]
    second = storage.list_users(project.id, UserQuery(after=first.next_after, limit=2))
    assert [u.user_id for u in second.items] == ["user-2"] and second.next_after is None
    u0 = first.items[0]
    assert (u0.sessions, u0.events, u0.tokens_in, u0.cost_cents, u0.success_count, u0.flagged_count) == (
        3, 3, 3, 1.5, 1, 1)
    assert [u.user_id for u in storage.list_users(project.id, UserQuery(prefix="user-1")).items] == ["user-1"]


def test_session_search_sorts_pages_and_finds_text(storage: Storage, project: Project) -> None:
    events = []
    for i in range(5):
        events += [make_event(session_id=f"s{i}", timestamp_us=BASE_US + i * MINUTE_US, cost_cents=float(i))
                   for _ in range(i + 1)]
    events.append(make_event(session_id="s2", input="where is the purple elephant", timestamp_us=BASE_US))
    ingest(storage, project, events)
    seen, after = [], None
    while True:
        page = storage.search_sessions(project.id, SessionSearch(sort="events", descending=False, limit=2,
                                                                 after=after))
        seen += [s.session_id for s in page.items]
        after = page.next_after
        if after is None:
            break
    assert seen == ["s0", "s1", "s2", "s3", "s4"]  # s2 and s3 both have 4 events: ties go by session id
    by_cost = storage.search_sessions(project.id, SessionSearch(sort="cost"))
    assert [s.session_id for s in by_cost.items][:2] == ["s4", "s3"]
    found = storage.search_sessions(project.id, SessionSearch(text="purple elephant"))
    assert [s.session_id for s in found.items] == ["s2"]
    assert storage.search_sessions(project.id, SessionSearch(text="!!!")).items == []


def test_new_password_ends_every_web_session_of_that_admin(storage: Storage) -> None:
    from phosphobs.storage.dashboard_records import WebSession

    assert storage.count_admins() == 0
    storage.set_admin_password("admin", "hash-1", NOW)
    storage.create_web_session(WebSession("t1", "admin", "csrf", NOW, NOW + HOUR_US))
    storage.create_web_session(WebSession("t2", "admin", "csrf", NOW, NOW + 1))
    assert storage.get_web_session("t1", NOW).username == "admin"
    assert storage.get_web_session("t2", NOW + 1) is None  # expired
    storage.set_admin_password("admin", "hash-2", NOW)
    assert storage.get_web_session("t1", NOW) is None
    assert storage.get_admin("admin").password_hash == "hash-2" and storage.count_admins() == 1
    storage.create_web_session(WebSession("t3", "admin", "csrf", NOW, NOW + HOUR_US))
    storage.delete_web_session("t3", NOW)
    assert storage.get_web_session("t3", NOW) is None


def test_dashboard_reads_never_scan_the_events_table(tmp_path) -> None:
    """At a million events a full scan per page view is what makes dashboards slow; the plan must not have one."""
    from phosphobs.storage.sql import analytics
    from phosphobs.storage.sqlite.store import SqliteStorage

    store = SqliteStorage(tmp_path / "plan.db")
    store.migrate()
    conn = store._runner._write_conn  # the connection that migrated: FTS5 has read its config already
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    analytics.usage_series(conn, "p", BASE_US, NOW, HOUR_US)
    analytics.session_series(conn, "p", BASE_US, NOW, HOUR_US)
    analytics.latency_percentiles(conn, "p", BASE_US, NOW, DAY)
    analytics.top_models(conn, "p", BASE_US, NOW, 10)
    analytics.list_users(conn, "p", UserQuery())
    analytics.search_sessions(conn, "p", SessionSearch(user_id="u"))
    analytics.search_sessions(conn, "p", SessionSearch(text="needle"))
    conn.set_trace_callback(None)
    # FTS5's own housekeeping (it re-reads its config after a schema change) is not one of our reads
    statements = [s for s in statements if not s.startswith("PRAGMA ") and "_fts_config" not in s]
    assert len(statements) == 7
    for sql in statements:
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert not re.search(r"\bSCAN (events|sessions|usage_hourly|latency_hourly)\b(?! USING)", plan), (sql, plan)
        if "MATCH" in sql:  # full-text first, then events by rowid: never a walk over the project's events
            assert plan.index("VIRTUAL TABLE") < plan.index("SEARCH e USING INTEGER PRIMARY KEY"), plan
    store.close()

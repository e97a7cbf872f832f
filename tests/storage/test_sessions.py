"""Session derivation: explicit ids, 30-minute user windows, metrics, arrival-order independence."""

from __future__ import annotations

import random
from collections.abc import Callable

from phosphobs.storage.models import Event, Feedback
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, Project, SessionQuery, Storage
from phosphobs.storage.sessions import SESSION_GAP_US, derived_session_id

from tests.support.factories import BASE_US, MINUTE_US, make_event

NOW = BASE_US


def ingest(storage: Storage, project: Project, events: list[Event]) -> None:
    [result] = storage.write([IngestOp(project.id, events, None)], NOW)
    assert result.ok


def sessions(storage: Storage, project: Project, **filters):
    return storage.list_sessions(project.id, SessionQuery(limit=200, **filters)).items


def at(minutes: float) -> int:
    return BASE_US + int(minutes * MINUTE_US)


def test_explicit_session_groups_events_with_metrics(storage: Storage, project: Project) -> None:
    ingest(storage, project, [
        make_event(session_id="s", timestamp_us=at(0), model="gpt-4", tokens_in=10, tokens_out=5, cost_cents=1.5,
                   user_id="u", tags=["a"]),
        make_event(session_id="s", timestamp_us=at(90), model="claude", tokens_in=1, tokens_out=2, tags=["b", "a"]),
    ])
    [s] = sessions(storage, project)
    assert (s.session_id, s.kind, s.user_id, s.event_count) == ("s", "explicit", "u", 2)
    assert (s.start_us, s.end_us) == (at(0), at(90))
    assert (s.tokens_in, s.tokens_out, s.cost_cents) == (11, 7, 1.5)
    assert (s.models, s.tags, s.flagged_count) == (["claude", "gpt-4"], ["a", "b"], 0)


def test_session_cost_is_null_when_no_event_has_a_cost(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(session_id="s", model="unknown-model", tokens_in=3)])
    assert storage.get_session(project.id, "s").cost_cents is None


def test_user_events_split_after_30_minutes_of_inactivity(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(user_id="u", timestamp_us=at(m)) for m in (0, 10, 40, 75, 100)])
    found = sorted((s.start_us, s.end_us, s.event_count) for s in sessions(storage, project))
    assert found == [(at(0), at(40), 3), (at(75), at(100), 2)]
    for s in sessions(storage, project):
        assert s.session_id == derived_session_id(project.id, "u", s.start_us)
        assert (s.kind, s.user_id) == ("user", "u")


def test_a_gap_of_exactly_30_minutes_does_not_split(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(user_id="u", timestamp_us=BASE_US),
                              make_event(user_id="u", timestamp_us=BASE_US + SESSION_GAP_US)])
    assert len(sessions(storage, project)) == 1


def test_a_late_event_bridging_two_sessions_merges_them(storage: Storage, project: Project) -> None:
    first, second = make_event(user_id="u", timestamp_us=at(0)), make_event(user_id="u", timestamp_us=at(50))
    ingest(storage, project, [first])
    ingest(storage, project, [second])
    assert len(sessions(storage, project)) == 2
    bridge = make_event(user_id="u", timestamp_us=at(25))
    ingest(storage, project, [bridge])
    [merged] = sessions(storage, project)
    assert (merged.start_us, merged.end_us, merged.event_count) == (at(0), at(50), 3)
    for e in (first, second, bridge):
        assert storage.get_event(project.id, e.event_id).session_id == merged.session_id


def test_users_and_explicit_sessions_do_not_mix(storage: Storage, project: Project) -> None:
    ingest(storage, project, [
        make_event(user_id="u1", timestamp_us=at(0)),
        make_event(user_id="u2", timestamp_us=at(1)),
        make_event(user_id="u1", session_id="explicit", timestamp_us=at(2)),
        make_event(timestamp_us=at(3)),  # neither session nor user: no session
    ])
    kinds = sorted((s.kind, s.user_id, s.event_count) for s in sessions(storage, project))
    assert kinds == [("explicit", "u1", 1), ("user", "u1", 1), ("user", "u2", 1)]


def _history(seed: int) -> list[Event]:
    rng = random.Random(seed)
    events = []
    for user in ("alice", "bob", "carol"):
        t = BASE_US
        for _ in range(40):
            t += rng.choice([1, 5, 20, 29, 31, 45, 120]) * MINUTE_US + rng.randrange(MINUTE_US)
            events.append(make_event(user_id=user, timestamp_us=t, tokens_in=rng.randrange(100), model="gpt-4o"))
    return events


def _snapshot(storage: Storage, project: Project) -> tuple:
    found = storage.list_sessions(project.id, SessionQuery(limit=200)).items
    per_event = {
        e.event.event_id: e.session_id for e in storage.list_events(project.id, EventQuery(limit=200)).items
    }
    return sorted((s.session_id, s.start_us, s.end_us, s.event_count, s.tokens_in) for s in found), per_event


def test_any_arrival_order_and_batching_gives_the_same_sessions(empty_storage: Callable[[], Storage]) -> None:
    events = _history(7)
    results = []
    for attempt in range(5):
        store = empty_storage()
        proj = Project("fixed-project", "fixed", "free", None, 0)
        store._admin(lambda c: c.execute("INSERT INTO projects VALUES ('fixed-project','fixed','free',NULL,0)"))
        shuffled = events[:]
        random.Random(attempt).shuffle(shuffled)
        size = [1, 7, 30, 120, 120][attempt]
        for start in range(0, len(shuffled), size):
            store.write([IngestOp(proj.id, shuffled[start : start + size], None)], NOW)
        results.append(_snapshot(store, proj))
    assert all(r == results[0] for r in results[1:])
    assert 10 < len(results[0][0]) < 100  # the history really does split into many sessions


def test_success_rate_counts_flagged_events_only(storage: Storage, project: Project) -> None:
    events = [make_event(session_id="s") for _ in range(4)]
    ingest(storage, project, events)
    assert storage.get_session(project.id, "s").flagged_count == 0
    storage.write([FeedbackOp(project.id, Feedback(events[0].event_id, "success")),
                   FeedbackOp(project.id, Feedback(events[1].event_id, "success")),
                   FeedbackOp(project.id, Feedback(events[2].event_id, "failure"))], NOW)
    s = storage.get_session(project.id, "s")
    assert (s.flagged_count, s.success_count, s.failure_count) == (3, 2, 1)


def test_error_events_flag_their_session_as_failing(storage: Storage, project: Project) -> None:
    ingest(storage, project, [make_event(session_id="s", status="error", flag="failure", output="")])
    assert [s.session_id for s in sessions(storage, project, has_failures=True)] == ["s"]
    assert sessions(storage, project, has_failures=False) == []


def test_window_rule_merges_what_a_timestamp_bridges() -> None:
    from phosphobs.storage.sessions import place_in_window

    gap = SESSION_GAP_US
    candidates = [("late", 3 * gap, 4 * gap), ("early", 0, gap)]
    placed = place_in_window("p", "u", 2 * gap, candidates)
    assert (placed.start_us, placed.end_us) == (0, 4 * gap)
    assert placed.session_id == derived_session_id("p", "u", 0)
    assert sorted(placed.absorbed) == ["early", "late"]
    alone = place_in_window("p", "u", 10 * gap, candidates)
    assert (alone.start_us, alone.end_us, alone.absorbed) == (10 * gap, 10 * gap, [])

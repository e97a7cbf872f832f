"""Retention: pruning old events keeps sessions, search, tags and feedback consistent."""

from __future__ import annotations

from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, Project, SessionQuery, Storage

from tests.support.factories import BASE_US, MINUTE_US, make_event

DAY_US = 24 * 60 * MINUTE_US


def at(days: float) -> int:
    return BASE_US + int(days * DAY_US)


def test_prune_deletes_only_older_events_and_recomputes_their_sessions(storage: Storage, project: Project) -> None:
    old = make_event(session_id="mixed", timestamp_us=at(0), tokens_in=5, tags=["t"], input="ancient words")
    new = make_event(session_id="mixed", timestamp_us=at(40), tokens_in=7, tags=["t"])
    gone = make_event(session_id="old-only", timestamp_us=at(1))
    storage.write([IngestOp(project.id, [old, new, gone], None)], at(40))
    storage.write([FeedbackOp(project.id, Feedback(old.event_id, "failure"))], at(40))

    assert storage.prune(at(30)) == 2

    assert storage.get_event(project.id, old.event_id) is None
    assert storage.get_event(project.id, new.event_id) is not None
    mixed = storage.get_session(project.id, "mixed")
    assert (mixed.event_count, mixed.start_us, mixed.end_us, mixed.tokens_in) == (1, at(40), at(40), 7)
    assert (mixed.flagged_count, mixed.failure_count) == (0, 0)
    assert storage.get_session(project.id, "old-only") is None
    assert [s.session_id for s in storage.list_sessions(project.id, SessionQuery()).items] == ["mixed"]
    assert storage.list_events(project.id, EventQuery(text="ancient")).items == []
    assert [e.event.event_id for e in storage.list_events(project.id, EventQuery(tag="t")).items] == [new.event_id]
    assert storage.list_feedback(project.id, old.event_id) == []


def test_prune_of_user_windows_keeps_the_rest_of_the_window(storage: Storage, project: Project) -> None:
    events = [make_event(user_id="u", timestamp_us=at(0) + m * MINUTE_US) for m in (0, 10, 20)]
    storage.write([IngestOp(project.id, events, None)], at(1))
    assert storage.prune(at(0) + 5 * MINUTE_US) == 1
    [session] = storage.list_sessions(project.id, SessionQuery()).items
    assert (session.event_count, session.start_us, session.user_id) == (2, at(0) + 10 * MINUTE_US, "u")


def test_prune_with_nothing_old_is_a_no_op(storage: Storage, project: Project) -> None:
    storage.write([IngestOp(project.id, [make_event(session_id="s", timestamp_us=at(10))], None)], at(10))
    assert storage.prune(at(0)) == 0
    assert storage.get_session(project.id, "s").event_count == 1


def test_feedback_never_moves_its_session_time_span(storage: Storage, project: Project) -> None:
    event = make_event(session_id="s", timestamp_us=at(3))
    storage.write([IngestOp(project.id, [event], None)], at(3))
    storage.write([FeedbackOp(project.id, Feedback(event.event_id, "success"))], at(3))
    session = storage.get_session(project.id, "s")
    assert (session.start_us, session.end_us, session.success_count) == (at(3), at(3), 1)

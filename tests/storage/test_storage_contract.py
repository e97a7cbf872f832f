"""The Storage contract: writes, idempotency, feedback, rate limits, trace context, keys."""

from __future__ import annotations

import uuid

import pytest
from phosphobs.storage.models import Feedback, TraceHint
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, Project, Storage, TouchKeyOp
from phosphobs.storage.sessions import trace_session_id

from tests.support.factories import BASE_US, MINUTE_US, make_event

NOW = BASE_US + 10 * MINUTE_US


def ingest(storage: Storage, project: Project, events, limit=None, hints=(), now=NOW):
    [result] = storage.write([IngestOp(project.id, list(events), limit, trace_hints=list(hints))], now)
    return result


def all_events(storage: Storage, project: Project):
    return storage.list_events(project.id, EventQuery(limit=200)).items


def test_migrations_are_idempotent(storage: Storage) -> None:
    assert storage.migrate() == []


def test_retried_batch_stores_nothing_twice(storage: Storage, project: Project) -> None:
    events = [make_event() for _ in range(5)]
    assert ingest(storage, project, events).statuses == ["created"] * 5
    assert ingest(storage, project, events).statuses == ["duplicate"] * 5
    assert len(all_events(storage, project)) == 5


def test_first_write_wins_for_a_repeated_event_id(storage: Storage, project: Project) -> None:
    first = make_event(output="first")
    second = make_event(event_id=first.event_id, output="second")
    assert ingest(storage, project, [first, second]).statuses == ["created", "duplicate"]
    assert storage.get_event(project.id, first.event_id).event.output == "first"


def test_event_ids_are_scoped_to_their_project(storage: Storage, project: Project) -> None:
    other = storage.create_project("other", "free", NOW)
    event = make_event()
    assert ingest(storage, project, [event]).statuses == ["created"]
    assert ingest(storage, other, [event]).statuses == ["created"]
    assert storage.get_event(other.id, event.event_id) is not None


def test_text_is_stored_intact(storage: Storage, project: Project) -> None:
    text = "héllo 👋🏽 日本語 \u202e rtl " + "x" * 1_000_000
    event = make_event(input=text, output=text[::-1], metadata={"nested": {"k": [1, 2.5, None, "é"]}})
    ingest(storage, project, [event])
    got = storage.get_event(project.id, event.event_id).event
    assert (got.input, got.output, got.metadata) == (text, text[::-1], {"nested": {"k": [1, 2.5, None, "é"]}})


def test_feedback_before_the_event_is_applied_when_it_arrives(storage: Storage, project: Project) -> None:
    event = make_event(session_id="s1")
    storage.write([FeedbackOp(project.id, Feedback(event.event_id, "failure"))], NOW)
    assert storage.get_event(project.id, event.event_id) is None
    ingest(storage, project, [event])
    stored = storage.get_event(project.id, event.event_id)
    assert stored.flag == "failure"
    assert storage.get_session(project.id, "s1").failure_count == 1


def test_latest_of_several_early_feedbacks_decides_also_within_one_commit(storage: Storage, project: Project) -> None:
    early, same_commit = make_event(session_id="s1"), make_event(session_id="s1")
    for flag in ("success", "failure"):
        storage.write([FeedbackOp(project.id, Feedback(early.event_id, flag))], NOW)
    results = storage.write([FeedbackOp(project.id, Feedback(same_commit.event_id, "failure")),
                             FeedbackOp(project.id, Feedback(same_commit.event_id, "success")),
                             IngestOp(project.id, [early, same_commit], None)], NOW)
    assert all(r.ok for r in results)
    assert storage.get_event(project.id, early.event_id).flag == "failure"
    assert storage.get_event(project.id, same_commit.event_id).flag == "success"
    session = storage.get_session(project.id, "s1")
    assert (session.flagged_count, session.success_count, session.failure_count) == (2, 1, 1)


def test_latest_feedback_decides_and_all_are_kept(storage: Storage, project: Project) -> None:
    event = make_event(session_id="s1")
    ingest(storage, project, [event])
    for flag in ("failure", "success"):
        storage.write([FeedbackOp(project.id, Feedback(event.event_id, flag, comment=flag))], NOW)
    assert storage.get_event(project.id, event.event_id).flag == "success"
    assert [f.flag for f in storage.list_feedback(project.id, event.event_id)] == ["failure", "success"]
    session = storage.get_session(project.id, "s1")
    assert (session.flagged_count, session.success_count, session.failure_count) == (1, 1, 0)


def test_feedback_order_against_event_does_not_change_the_result(storage: Storage, project: Project) -> None:
    a, b = make_event(session_id="a"), make_event(session_id="b")
    ingest(storage, project, [a])
    storage.write([FeedbackOp(project.id, Feedback(a.event_id, "success")),
                   FeedbackOp(project.id, Feedback(b.event_id, "success"))], NOW)
    ingest(storage, project, [b])
    assert storage.get_event(project.id, a.event_id).flag == storage.get_event(project.id, b.event_id).flag


def test_rate_limit_refuses_the_whole_request_and_stores_nothing(storage: Storage, project: Project) -> None:
    ok = ingest(storage, project, [make_event() for _ in range(3)], limit=5)
    assert ok.ok and ok.rate_limit.remaining == 2
    refused = ingest(storage, project, [make_event() for _ in range(3)], limit=5)
    assert refused.rate_limited and not refused.ok
    assert refused.rate_limit.reset_us > NOW
    assert len(all_events(storage, project)) == 3
    assert ingest(storage, project, [make_event() for _ in range(2)], limit=5).ok
    next_window = ingest(storage, project, [make_event() for _ in range(5)], limit=5, now=NOW + MINUTE_US)
    assert next_window.ok


def test_rate_limits_are_per_project(storage: Storage, project: Project) -> None:
    other = storage.create_project("other", "free", NOW)
    assert ingest(storage, project, [make_event() for _ in range(5)], limit=5).ok
    assert ingest(storage, other, [make_event() for _ in range(5)], limit=5).ok


def test_one_failing_op_does_not_sink_the_group_commit(storage: Storage, project: Project) -> None:
    good = IngestOp(project.id, [make_event()], None)
    bad = IngestOp(project.id, [make_event(input=None)], None)  # violates NOT NULL
    results = storage.write([good, bad], NOW)
    assert results[0].ok and not results[1].ok
    assert len(all_events(storage, project)) == 1


def test_trace_session_hint_applies_to_the_whole_trace_in_any_order(storage: Storage, project: Project) -> None:
    trace = uuid.uuid4().hex
    early = make_event(trace_id=trace, span_id="a" * 16, source="otlp")
    late = make_event(trace_id=trace, span_id="b" * 16, source="otlp")
    ingest(storage, project, [early])
    assert storage.get_event(project.id, early.event_id).session_id == trace_session_id(trace)
    ingest(storage, project, [], hints=[TraceHint(trace, start_us=5, session_id="chat-1", user_id="u-1")])
    ingest(storage, project, [late])
    for event in (early, late):
        stored = storage.get_event(project.id, event.event_id)
        assert (stored.session_id, stored.user_id) == ("chat-1", "u-1")
    session = storage.get_session(project.id, "chat-1")
    assert (session.event_count, session.user_id) == (2, "u-1")
    assert storage.get_session(project.id, trace_session_id(trace)) is None


def test_earliest_trace_hint_wins_whatever_the_arrival_order(storage: Storage, project: Project) -> None:
    trace = uuid.uuid4().hex
    event = make_event(trace_id=trace, span_id="c" * 16, source="otlp")
    ingest(storage, project, [event], hints=[TraceHint(trace, start_us=20, session_id="later")])
    ingest(storage, project, [], hints=[TraceHint(trace, start_us=10, session_id="root")])
    ingest(storage, project, [], hints=[TraceHint(trace, start_us=30, session_id="deeper")])
    assert storage.get_event(project.id, event.event_id).session_id == "root"


@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0, 2), (2, 1, 0), (1, 2, 0)])
def test_an_earlier_start_of_the_same_session_is_kept(storage: Storage, project: Project, order) -> None:
    """(20, A) then (10, A) must remember 10: otherwise (15, B) would win after them but not before."""
    trace = uuid.uuid4().hex
    event = make_event(trace_id=trace, span_id="e" * 16, source="otlp")
    ingest(storage, project, [event])
    hints = [TraceHint(trace, start_us=20, session_id="A"), TraceHint(trace, start_us=10, session_id="A"),
             TraceHint(trace, start_us=15, session_id="B")]
    for n in order:
        ingest(storage, project, [], hints=[hints[n]])
    assert storage.get_event(project.id, event.event_id).session_id == "A"


def span_event(trace: str, n: int, ts: int, session: str | None = None, user: str | None = None):
    """An OTLP LLM span as the normalizer gives it: the event, and the hint it emits when it names a session."""
    event = make_event(trace_id=trace, span_id=f"{n:016x}", source="otlp", timestamp_us=ts, session_id=session,
                       user_id=user)
    hints = [TraceHint(trace, ts, session, user)] if session or user else []
    return event, hints


@pytest.mark.parametrize("spans", [3, 40])  # 40: past the point where SQLite keeps a row for the trace
@pytest.mark.parametrize("backwards", [False, True])
def test_session_named_by_llm_spans_labels_the_whole_trace_in_any_order(storage: Storage, project: Project,
                                                                         spans: int, backwards: bool) -> None:
    trace = uuid.uuid4().hex
    calls = [span_event(trace, n, BASE_US + 10 * n, session="chat-9" if n == 1 else None,
                        user="u-9" if n == 2 else None) for n in range(spans)]
    for event, hints in reversed(calls) if backwards else calls:
        ingest(storage, project, [event], hints=hints)
    for event, _ in calls:
        stored = storage.get_event(project.id, event.event_id)
        assert (stored.session_id, stored.user_id) == ("chat-9", "u-9")
    assert storage.get_session(project.id, "chat-9").event_count == spans
    ingest(storage, project, [], hints=[TraceHint(trace, BASE_US - 1, "root")])  # an earlier wrapper span
    labels = {storage.get_event(project.id, e.event_id).session_id for e, _ in calls}
    assert labels == {"chat-9", "root"}  # the span that names its own session keeps it
    assert storage.get_session(project.id, "root").event_count == spans - 1
    assert storage.get_session(project.id, "chat-9").event_count == 1


def test_explicit_session_beats_trace_hint(storage: Storage, project: Project) -> None:
    trace = uuid.uuid4().hex
    event = make_event(trace_id=trace, span_id="d" * 16, session_id="mine", source="otlp")
    ingest(storage, project, [event], hints=[TraceHint(trace, start_us=1, session_id="theirs")])
    assert storage.get_event(project.id, event.event_id).session_id == "mine"


def test_keys_resolve_by_hash_and_can_be_revoked(storage: Storage, project: Project) -> None:
    key = storage.create_key(project.id, "production", "ph_abcdefgh", "hash-1", NOW)
    match = storage.find_key("hash-1")
    assert (match.key.id, match.project.id, match.key_hash) == (key.id, project.id, "hash-1")
    assert storage.find_key("hash-2") is None
    assert storage.revoke_key("ph_abcdefgh", NOW + 1).revoked_us == NOW + 1
    assert storage.find_key("hash-1").key.revoked_us == NOW + 1
    assert [k.name for k in storage.list_keys(project.id)] == ["production"]


def test_key_last_used_is_stamped_at_most_once_a_minute(storage: Storage, project: Project) -> None:
    key = storage.create_key(project.id, "k", "ph_12345678", "hash-x", NOW)
    storage.write([TouchKeyOp(key.id, NOW)], NOW)
    storage.write([TouchKeyOp(key.id, NOW + 1_000_000)], NOW)
    assert storage.list_keys(project.id)[0].last_used_us == NOW
    storage.write([TouchKeyOp(key.id, NOW + 2 * MINUTE_US)], NOW)
    assert storage.list_keys(project.id)[0].last_used_us == NOW + 2 * MINUTE_US


def test_projects_are_found_by_name_or_id(storage: Storage, project: Project) -> None:
    assert storage.get_project(project.name) == project
    assert storage.get_project(project.id) == project
    assert storage.get_project("missing") is None
    storage.set_project_plan(project.id, "pro", 123)
    assert (storage.get_project(project.id).plan, storage.get_project(project.id).rate_limit_per_min) == ("pro", 123)


def test_nul_characters_never_fail_a_write(storage: Storage, project: Project) -> None:
    """SQLite keeps NUL; Postgres text cannot, so it stores U+FFFD in its place (never a failed write)."""
    event = make_event(input="in\x00put", output="out\x00", metadata={"k\x00": "v\x00", "list": ["\x00"]},
                       model="m\x00", tags=["t\x00"], session_id="s\x00")
    result = ingest(storage, project, [event])
    assert result.ok, result.error
    got = storage.get_event(project.id, event.event_id).event
    stored = repr((got.input, got.output, got.metadata, got.model, got.tags)).replace("\ufffd", "\\x00")
    assert stored == repr(("in\x00put", "out\x00", {"k\x00": "v\x00", "list": ["\x00"]}, "m\x00", ["t\x00"]))


def _span_and_patches():
    trace, span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    from phosphobs.storage.models import EventPatch, otlp_event_id

    event_id = otlp_event_id(trace, span)
    base = make_event(event_id=event_id, input="", output="", trace_id=trace, span_id=span, source="otlp",
                      model="gpt-4o", tokens_in=5)
    ask = EventPatch(event_id, trace, span, "1", {"input_messages": [{"role": "user", "content": "hello?"}]})
    answer = EventPatch(event_id, trace, span, "2", {"output_messages": [{"role": "assistant", "content": "hi!"}]})
    return base, [ask, answer]


def _write_patches(storage: Storage, project: Project, patches) -> None:
    [result] = storage.write([IngestOp(project.id, [], None, patches=list(patches))], NOW)
    assert result.ok, result.error


def test_log_content_joins_its_span_in_any_order(storage: Storage, project: Project) -> None:
    orders = ["span first", "patches first", "between"]
    stored = []
    for order in orders:
        base, (ask, answer) = _span_and_patches()
        if order == "span first":
            ingest(storage, project, [base])
            _write_patches(storage, project, [answer])
            _write_patches(storage, project, [ask, answer])  # a retried log export changes nothing
        elif order == "patches first":
            _write_patches(storage, project, [answer, ask])
            ingest(storage, project, [base])
        else:
            _write_patches(storage, project, [answer])
            ingest(storage, project, [base])
            _write_patches(storage, project, [ask])
        got = storage.get_event(project.id, base.event_id).event
        stored.append((got.input, got.output, got.metadata.get("input_messages"), got.tokens_in, got.model))
        assert storage.list_events(project.id, EventQuery(text="hello")).items
    assert stored[0] == stored[1] == stored[2] == (
        "hello?", "hi!", [{"role": "user", "content": "hello?"}], 5, "gpt-4o")

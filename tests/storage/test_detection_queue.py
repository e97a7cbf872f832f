"""The detection queue and the final flag, on every backend: queued in the ingest transaction, claimed,
completed exactly once, with the precedence user > OTel evaluation > detection."""

from __future__ import annotations

import threading
from typing import Any, cast

import pytest
from phosphobs.storage.detection_records import Detection, Evaluation, Outcome
from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import DetectionStore, EventQuery, FeedbackOp, IngestOp, Project, SessionQuery, Storage

from tests.support.factories import BASE_US, make_event

NOW = BASE_US + 10_000_000


def _ingest(storage: Storage, project: Project, events: list[Any], evaluations: list[Evaluation] | None = None) -> None:
    [result] = storage.write([IngestOp(project.id, events, None, evaluations=evaluations or [])], NOW)
    assert result.ok, result.error


def _rules(flag: str | None, evidence: str | None = None) -> Detection:
    return Detection("rules", "1", flag, 0.0 if flag == "failure" else None, "test", evidence, created_us=NOW)  # type: ignore[arg-type]


def _drain(store: DetectionStore, verdict: Any) -> list[str]:
    """Claim everything and complete it with `verdict(event) -> list[Detection]`; returns the event ids."""
    seen: list[str] = []
    while True:
        with store.claim_detections(100, NOW + 1) as claim:
            if not claim.items:
                return seen
            outcomes = [Outcome(i.seq, i.stored.project_id, i.stored.event.event_id, verdict(i.stored.event))
                        for i in claim.items]
            seen += [o.event_id for o in outcomes]
            claim.complete(outcomes, NOW + 2)


def test_every_new_event_is_queued_once_in_its_ingest_transaction(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    first, second = make_event(), make_event()
    _ingest(storage, project, [first, second, first])
    _ingest(storage, project, [second])  # a duplicate is not queued again
    assert store.detection_lag(project.id).queued == 2
    assert store.detection_lag(project.id).oldest_enqueued_us == NOW
    with store.claim_detections(10, NOW) as claim:
        assert sorted(i.stored.event.event_id for i in claim.items) == sorted([first.event_id, second.event_id])
        assert all(not i.done for i in claim.items)


def test_completion_records_detections_and_settles_the_final_flag(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    bad, fine = make_event(session_id="s1"), make_event(session_id="s1")
    _ingest(storage, project, [bad, fine])
    done = _drain(store, lambda e: [_rules("failure", "hard") if e.event_id == bad.event_id else _rules(None)])
    assert sorted(done) == sorted([bad.event_id, fine.event_id])
    assert store.detection_lag(project.id).queued == 0
    assert _drain(store, lambda e: []) == []  # nothing left: none is done twice
    got = storage.get_event(project.id, bad.event_id)
    assert got is not None and (got.flag, got.flag_source, got.detected_flag) == ("failure", "detector", "failure")
    other = storage.get_event(project.id, fine.event_id)
    assert other is not None and (other.flag, other.flag_source) == (None, None)
    [d] = store.detections_for(project.id, [bad.event_id])[bad.event_id]
    assert (d.detector, d.version, d.flag, d.evidence) == ("rules", "1", "failure", "hard")
    session = storage.get_session(project.id, "s1")
    assert session is not None and (session.failure_count, session.flagged_count) == (1, 1)
    # filters
    page = storage.list_events(project.id, EventQuery(flag_source="detector"))
    assert [s.event.event_id for s in page.items] == [bad.event_id]
    page = storage.list_events(project.id, EventQuery(detected_flag="failure"))
    assert [s.event.event_id for s in page.items] == [bad.event_id]
    assert [s.event.event_id for s in storage.list_events(project.id, EventQuery(flag_source="none")).items] == [
        fine.event_id]
    assert [s.session_id for s in storage.list_sessions(project.id, SessionQuery(detected_flag="failure")).items] == [
        "s1"]
    assert storage.list_sessions(project.id, SessionQuery(flag_source="user")).items == []

    # a human flag wins, and the session counts follow the final flag
    storage.write([FeedbackOp(project.id, Feedback(bad.event_id, "success"))], NOW + 3)
    got = storage.get_event(project.id, bad.event_id)
    assert got is not None and (got.flag, got.flag_source, got.detected_flag) == ("success", "user", "failure")
    session = storage.get_session(project.id, "s1")
    assert session is not None and (session.success_count, session.failure_count) == (1, 0)
    assert store.human_rates(project.id, ["s1"]) == {"s1": (1, 1)}
    assert [s.session_id for s in storage.list_sessions(project.id, SessionQuery(flag_source="user")).items] == ["s1"]


def test_feedback_before_the_event_is_the_final_flag(storage: Storage, project: Project) -> None:
    event = make_event()
    storage.write([FeedbackOp(project.id, Feedback(event.event_id, "failure"))], NOW)
    _ingest(storage, project, [event])
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("failure", "user")
    _drain(cast(DetectionStore, storage), lambda e: [_rules(None)])
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("failure", "user")


def test_an_otel_label_beats_detection_but_not_a_human(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    event = make_event(metadata={"response": {"id": "resp-1"}})
    _ingest(storage, project, [event])
    _drain(store, lambda e: [_rules("failure", "soft")])
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("failure", "detector")
    # an evaluation matched by response id arrives after the event: it re-queues the event
    evaluation = Evaluation("k1", None, "resp-1", "relevance", 0.9, "Pass", "on topic", NOW)
    _ingest(storage, project, [], [evaluation])
    assert store.detection_lag(project.id).queued == 1
    assert _drain(store, lambda e: []) == [event.event_id]
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("success", "otel")
    [found] = store.evaluations_for(project.id, [(event.event_id, "resp-1", None, None)])[event.event_id]
    assert (found.name, found.score, found.label, found.source) == ("relevance", 0.9, "Pass", "otel")
    _ingest(storage, project, [], [evaluation])  # a retry stores nothing twice
    assert len(store.evaluations_for(project.id, [(event.event_id, "resp-1", None, None)])[event.event_id]) == 1
    storage.write([FeedbackOp(project.id, Feedback(event.event_id, "failure"))], NOW + 5)
    _drain(store, lambda e: [])
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("failure", "user")


def test_an_evaluation_that_arrives_first_waits_for_its_event(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    event = make_event()
    _ingest(storage, project, [], [Evaluation("k2", event.event_id, None, "correctness", 0.0, "incorrect", None, NOW)])
    _ingest(storage, project, [event])
    _drain(store, lambda e: [_rules(None)])
    got = storage.get_event(project.id, event.event_id)
    assert got is not None and (got.flag, got.flag_source) == ("failure", "otel")


def test_an_unfinished_claim_leaves_its_entries_queued(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    events = [make_event() for _ in range(3)]
    _ingest(storage, project, events)
    with pytest.raises(RuntimeError), store.claim_detections(10, NOW) as claim:
        assert len(claim.items) == 3
        raise RuntimeError("the worker died mid-batch")
    assert sorted(_drain(store, lambda e: [_rules(None)])) == sorted(e.event_id for e in events)
    assert all(len(v) == 1 for v in store.detections_for(project.id, [e.event_id for e in events]).values())


def test_retry_keeps_the_entry_queued_and_done_detectors_are_known(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    event = make_event()
    _ingest(storage, project, [event])
    with store.claim_detections(10, NOW) as claim:
        [item] = claim.items
        claim.complete([Outcome(item.seq, project.id, event.event_id, [_rules(None)], retry_at_us=NOW + 50)], NOW)
    with store.claim_detections(10, NOW + 10) as claim:
        assert claim.items == []  # not due yet
    with store.claim_detections(10, NOW + 50) as claim:
        [item] = claim.items
        assert item.done == {("rules", "1")} and item.attempts == 1


def test_rerun_queues_a_range_again(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    events = [make_event() for _ in range(4)]
    _ingest(storage, project, events)
    _drain(store, lambda e: [_rules(None)])
    ts = sorted(e.timestamp_us for e in events)
    assert store.rerun_detection(project.id, ts[1], ts[3], NOW, 1000) == 2
    with store.claim_detections(10, NOW) as claim:
        assert len(claim.items) == 2 and all(i.rerun and i.done == {("rules", "1")} for i in claim.items)


def test_quality_counts_agreement_with_humans(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    events = [make_event() for _ in range(5)]
    _ingest(storage, project, events)
    verdicts = dict(zip([e.event_id for e in events], ["failure", "failure", "success", "success", None], strict=True))
    _drain(store, lambda e: [Detection("judge", "1:m", verdicts[e.event_id], 0.5, "r", created_us=NOW)])  # type: ignore[arg-type]
    humans = ["failure", "success", "failure", "success"]
    storage.write([FeedbackOp(project.id, Feedback(e.event_id, h)) for e, h in zip(events[:4], humans, strict=True)],
                  NOW)  # type: ignore[arg-type]
    [c] = store.quality(project.id, 0, NOW * 2)
    assert (c.detector, c.judged, c.failures) == ("judge", 4, 2)
    assert (c.both_failure, c.detector_failure_human_success, c.detector_success_human_failure, c.both_success) == (
        1, 1, 1, 1)
    rows = store.disagreements(project.id, 0, NOW * 2, 10)
    assert sorted(r.event_id for r in rows) == sorted([events[1].event_id, events[2].event_id])
    assert store.human_totals(project.id, 0, NOW * 2) == (4, 2)


def test_judge_switch_per_project(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    assert store.judge_enabled(project.id)
    store.set_judge_enabled(project.id, False)
    assert not store.judge_enabled(project.id)
    store.set_judge_enabled(project.id, True)
    assert store.judge_enabled(project.id)


def test_postgres_claims_never_overlap(storage: Storage, project: Project, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("row-lock claims are Postgres'; SQLite has a single drainer")
    store = cast(DetectionStore, storage)
    _ingest(storage, project, [make_event() for _ in range(10)])
    holding, release = threading.Event(), threading.Event()
    first: list[str] = []

    def hold() -> None:
        with store.claim_detections(4, NOW) as claim:
            first.extend(i.stored.event.event_id for i in claim.items)
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(30)
    with store.claim_detections(100, NOW) as claim:
        second = [i.stored.event.event_id for i in claim.items]
    release.set()
    thread.join(30)
    assert len(first) == 4 and len(second) == 6 and not set(first) & set(second)


def test_pruned_events_leave_no_detections_and_drop_out_of_the_queue(storage: Storage, project: Project) -> None:
    store = cast(DetectionStore, storage)
    old, kept = make_event(timestamp_us=BASE_US - 10), make_event(timestamp_us=BASE_US + 10)
    _ingest(storage, project, [old])
    _drain(store, lambda e: [_rules("failure", "hard")])
    _ingest(storage, project, [kept])
    store.rerun_detection(project.id, 0, NOW * 2, NOW, 100)  # the old event is queued again, then pruned
    assert storage.prune(BASE_US) == 1
    assert store.detections_for(project.id, [old.event_id]) == {}
    assert _drain(store, lambda e: [_rules(None)]) == [kept.event_id]
    assert store.detection_lag(project.id).queued == 0


def test_content_that_arrives_after_detection_queues_the_event_again(storage: Storage, project: Project) -> None:
    from phosphobs.storage.models import EventPatch, otlp_event_id

    store = cast(DetectionStore, storage)
    trace_id, span_id = "a" * 32, "b" * 16
    event = make_event(event_id=otlp_event_id(trace_id, span_id), input="", output="", trace_id=trace_id,
                       span_id=span_id, source="otlp")
    _ingest(storage, project, [event])
    _drain(store, lambda e: [_rules(None)])  # no content yet: the rules abstained
    patch = EventPatch(event.event_id, trace_id, span_id, "1",
                       {"output_messages": [{"role": "assistant", "content": "Paris."}]})
    [result] = storage.write([IngestOp(project.id, [], None, patches=[patch])], NOW + 5)
    assert result.ok
    with store.claim_detections(10, NOW + 10) as claim:
        [item] = claim.items
        assert item.rerun and item.stored.event.output == "Paris." and item.done == {("rules", "1")}


def test_with_detection_off_nothing_is_queued(tmp_path: Any) -> None:
    from phosphobs.storage.sqlite.store import SqliteStorage

    storage = SqliteStorage(tmp_path / "off.db", detect=False)
    try:
        storage.migrate()
        project = storage.create_project("off", "free", NOW)
        event = make_event()
        _ingest(storage, project, [event], [Evaluation("k", event.event_id, None, "x", 1.0, "pass", None, NOW)])
        store = cast(DetectionStore, storage)
        assert store.detection_lag(project.id).queued == 0
        keys = [(event.event_id, None, None, None)]
        assert [e.label for e in store.evaluations_for(project.id, keys)[event.event_id]] == ["pass"]
    finally:
        storage.close()

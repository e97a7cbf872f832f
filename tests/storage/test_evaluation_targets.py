"""Evaluations of other targets than an event, on every backend: a whole trace's (a Langfuse trace score)
applies to the trace's final call, whether it arrives before or after the trace's spans, and again when a later
call of the trace arrives; a span's known only by its id (a Phoenix annotation) to that span's call, or to its
trace's final call when the span is the app's; a human's is the user's flag."""

from __future__ import annotations

from typing import Any, cast

from phosphobs.storage.detection_records import Evaluation, Outcome
from phosphobs.storage.models import Event, SpanRecord
from phosphobs.storage.protocol import DetectionStore, IngestOp, Project, Storage

from tests.support.factories import BASE_US, make_event

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
NOW = BASE_US + 10_000_000


def _write(storage: Storage, project: Project, events: list[Event], evaluations: list[Evaluation] = ()) -> None:
    [result] = storage.write([IngestOp(project.id, events, None, evaluations=list(evaluations))], NOW)
    assert result.ok, result.error


def _settle(storage: Storage) -> None:
    store = cast(DetectionStore, storage)
    while True:
        with store.claim_detections(100, NOW + 1) as claim:
            if not claim.items:
                return
            claim.complete([Outcome(i.seq, i.stored.project_id, i.stored.event.event_id, []) for i in claim.items],
                           NOW + 2)


def _call(n: int, kind: str = "llm", trace: str = TRACE) -> Event:
    return make_event(trace_id=trace, span_id=f"{n:016x}", kind=kind, timestamp_us=BASE_US + n * 1_000_000,
                      session_id="s")


def _flags(storage: Storage, project: Project, events: list[Event]) -> list[tuple[Any, Any]]:
    got = [storage.get_event(project.id, e.event_id) for e in events]
    return [(g.flag, g.flag_source) if g else None for g in got]  # type: ignore[misc]


def _thumbs_down(trace: str = TRACE, key: str = "k1") -> Evaluation:
    return Evaluation(key, None, None, "user-feedback", 0.0, "false", "wrong city", NOW, "langfuse", trace)


def test_a_trace_score_sent_before_the_spans_flags_the_final_call(storage: Storage, project: Project) -> None:
    _write(storage, project, [], [_thumbs_down()])
    first, final, tool_after = _call(1), _call(2), _call(3, kind="tool")
    other_trace = _call(4, trace="0" * 31 + "1")
    _write(storage, project, [first, final, tool_after, other_trace])
    _settle(storage)
    assert _flags(storage, project, [first, final, tool_after, other_trace]) == [
        (None, None), ("failure", "otel"), (None, None), (None, None)]
    keys = [(e.event_id, None, e.trace_id, e.span_id) for e in (first, final, tool_after)]
    shown = cast(DetectionStore, storage).evaluations_for(project.id, keys)
    assert list(shown) == [final.event_id]
    [evaluation] = shown[final.event_id]
    assert (evaluation.name, evaluation.label, evaluation.trace_id, evaluation.event_id) == (
        "user-feedback", "false", TRACE, None)
    session = storage.get_session(project.id, "s")
    assert session is not None and session.failure_count == 1

    later = _call(5)  # the trace goes on: its final call is now this one
    _write(storage, project, [later])
    _settle(storage)
    assert _flags(storage, project, [final, later]) == [(None, None), ("failure", "otel")]
    session = storage.get_session(project.id, "s")
    assert session is not None and session.failure_count == 1


def test_a_trace_score_sent_after_the_spans_settles_them(storage: Storage, project: Project) -> None:
    first, final = _call(11), _call(12)
    _write(storage, project, [first, final])
    _settle(storage)
    _write(storage, project, [], [_thumbs_down(key="k2")])
    _write(storage, project, [], [_thumbs_down(key="k2")])  # a resend is the same score
    _settle(storage)
    assert _flags(storage, project, [first, final]) == [(None, None), ("failure", "otel")]
    [shown] = cast(DetectionStore, storage).evaluations_for(project.id, [(final.event_id, None, TRACE, None)]).values()
    assert len(shown) == 1


def test_a_trace_without_llm_calls_gives_the_score_to_its_last_event(storage: Storage, project: Project) -> None:
    early, last = _call(21, kind="tool"), _call(22, kind="tool")
    _write(storage, project, [early, last], [_thumbs_down(key="k3")])
    _settle(storage)
    assert _flags(storage, project, [early, last]) == [(None, None), ("failure", "otel")]


def test_a_score_sent_again_under_its_key_replaces_it(storage: Storage, project: Project) -> None:
    """Langfuse upserts a score by its id: a user who changes their thumbs changes the flag."""
    final = _call(31)
    _write(storage, project, [final], [_thumbs_down(key="k4")])
    _settle(storage)
    assert _flags(storage, project, [final]) == [("failure", "otel")]
    thumbs_up = Evaluation("k4", None, None, "user-feedback", 1.0, "true", None, NOW + 5, "langfuse", TRACE)
    _write(storage, project, [], [thumbs_up])
    _settle(storage)
    assert _flags(storage, project, [final]) == [("success", "otel")]
    [shown] = cast(DetectionStore, storage).evaluations_for(project.id, [(final.event_id, None, TRACE, None)]).values()
    assert [(e.score, e.label) for e in shown] == [(1.0, "true")]


def _annotation(span: str, label: str, *, human: bool = True, key: str = "a1") -> Evaluation:
    return Evaluation(key, None, None, "user feedback", None, label, None, NOW, "phoenix", None, span, human)


def test_a_human_annotation_of_a_call_span_is_the_user_s_flag(storage: Storage, project: Project) -> None:
    """Sent before the span arrives; a person's verdict counts as the user's flag (and teaches the judge)."""
    call, other = _call(41), _call(42)
    _write(storage, project, [], [_annotation(call.span_id or "", "thumbs-down")])
    _write(storage, project, [call, other])
    _settle(storage)
    assert _flags(storage, project, [call, other]) == [("failure", "user"), (None, None)]
    assert [example[2] for example in cast(DetectionStore, storage).judge_examples(project.id, 5)] == ["failure"]
    shown = cast(DetectionStore, storage).evaluations_for(project.id, [(call.event_id, None, TRACE, call.span_id)])
    [evaluation] = shown[call.event_id]
    assert (evaluation.source, evaluation.human, evaluation.trace_id) == ("phoenix", True, None)

    _write(storage, project, [], [_annotation(call.span_id or "", "thumbs-up")])  # same name and span: replaced
    _settle(storage)
    assert _flags(storage, project, [call]) == [("success", "user")]


def test_an_annotation_of_the_app_span_evaluates_its_trace_s_final_call(storage: Storage, project: Project) -> None:
    """Phoenix's feedback guide annotates the app's span around the calls (a span of the tree, no call)."""
    app_span = SpanRecord(TRACE, "a" * 16, None, "chat", "chain", BASE_US, BASE_US + 10_000_000)
    first, final = _call(51), _call(52)
    [result] = storage.write([IngestOp(project.id, [first, final], None, spans=[app_span])], NOW)
    assert result.ok, result.error
    _settle(storage)
    _write(storage, project, [], [_annotation("a" * 16, "incorrect", human=False, key="a2")])
    _settle(storage)
    assert _flags(storage, project, [first, final]) == [(None, None), ("failure", "otel")]
    keys = [(e.event_id, None, TRACE, e.span_id) for e in (first, final)]
    [evaluation] = cast(DetectionStore, storage).evaluations_for(project.id, keys)[final.event_id]
    assert (evaluation.label, evaluation.trace_id, evaluation.span_id) == ("incorrect", TRACE, "a" * 16)

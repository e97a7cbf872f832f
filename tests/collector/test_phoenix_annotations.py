"""Phoenix annotations read as evaluations: span and trace targets, human verdicts, Phoenix's upsert key, refusals."""

from __future__ import annotations

from phosphobs.collector.phoenix_annotations import to_evaluation, to_evaluations

NOW = 1_767_225_600_000_000


def test_a_human_span_annotation() -> None:
    got = to_evaluation({"name": "user feedback", "annotator_kind": "HUMAN", "span_id": "00F067AA0BA902B7",
                         "result": {"label": "thumbs-down", "score": 0, "explanation": "wrong city"},
                         "metadata": {"ignored": True}}, "span", NOW)
    assert (got.span_id, got.trace_id, got.event_id, got.human, got.source) == (
        "00f067aa0ba902b7", None, None, True, "phoenix")
    assert (got.name, got.label, got.score, got.explanation, got.ts_us) == (
        "user feedback", "thumbs-down", 0.0, "wrong city", NOW)


def test_a_trace_annotation_by_an_llm() -> None:
    got = to_evaluation({"name": "correctness", "annotator_kind": "LLM", "trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736",
                         "result": {"label": "correct"}}, "trace", NOW)
    assert (got.trace_id, got.span_id, got.human, got.score) == ("4bf92f3577b34da6a3ce929d0e0e4736", None, False, None)


def test_the_same_name_target_and_identifier_is_the_same_annotation() -> None:
    base = {"name": "n", "annotator_kind": "CODE", "span_id": "ab", "result": {"score": 1}}
    same = to_evaluation({**base, "result": {"score": 0}}, "span", NOW + 1)
    assert to_evaluation(base, "span", NOW).eval_key == same.eval_key
    assert to_evaluation({**base, "identifier": "run-2"}, "span", NOW).eval_key != same.eval_key
    assert to_evaluation({**base, "trace_id": "ab"}, "trace", NOW).eval_key != same.eval_key


def test_refusals() -> None:
    kept, refused = to_evaluations([
        {"name": "n", "annotator_kind": "HUMAN", "span_id": "ab"},  # no result at all
        {"name": "n", "annotator_kind": "ROBOT", "span_id": "ab", "result": {"label": "x"}},
        {"name": "n", "annotator_kind": "HUMAN", "span_id": "not hex", "result": {"label": "x"}},
        {"name": "n", "annotator_kind": "HUMAN", "trace_id": "ab", "result": {"label": "x"}},  # a span is asked
        {"name": "n", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"score": float("nan")}},
        {"name": "ok", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"label": "x"}},
    ], "span", NOW)
    assert [e.name for e in kept] == ["ok"]
    reasons = dict(refused)
    assert "at least one of label" in reasons[0] and reasons[1].startswith("annotator_kind")
    assert "hex id" in reasons[2] and "hex id" in reasons[3] and "finite" in reasons[4]

"""Langfuse scores read as evaluations: each data type, the ids that tie a score to a call, and refusals."""

from __future__ import annotations

import pytest
from phosphobs.collector.langfuse_scores import to_evaluation, to_evaluations
from phosphobs.storage.models import otlp_event_id

TRACE = "4BF92F3577B34DA6A3CE929D0E0E4736"
NOW = 1_767_225_600_000_000


@pytest.mark.parametrize(("value", "data_type", "expected"), [
    (1.0, "BOOLEAN", (1.0, "true", None)),
    (0, "BOOLEAN", (0.0, "false", None)),
    (0.87, "NUMERIC", (0.87, None, None)),
    (4, None, (4.0, None, None)),  # inferred NUMERIC: kept, never a flag
    ("incorrect", "CATEGORICAL", (None, "incorrect", None)),
    ("thumbs-down", None, (None, "thumbs-down", None)),  # inferred CATEGORICAL
    ("The answer ignores the question.", "TEXT", (None, None, "The answer ignores the question.")),
])
def test_each_data_type(value: object, data_type: str | None, expected: tuple) -> None:
    got = to_evaluation({"traceId": TRACE, "name": "n", "value": value, "dataType": data_type}, NOW)
    assert (got.score, got.label, got.explanation) == expected
    assert got.source == "langfuse" and got.ts_us == NOW


def test_a_trace_score_and_an_observation_score() -> None:
    whole = to_evaluation({"traceId": TRACE, "name": "user-feedback", "value": 1, "dataType": "BOOLEAN",
                           "comment": "great", "timestamp": "2026-01-01T00:00:01Z"}, NOW)
    assert (whole.trace_id, whole.event_id, whole.response_id) == (TRACE.lower(), None, None)
    assert (whole.explanation, whole.ts_us) == ("great", NOW + 1_000_000)
    one = to_evaluation({"traceId": TRACE, "observationId": "00F067AA0BA902B7", "name": "n", "value": 1}, NOW)
    assert one.event_id == otlp_event_id(TRACE, "00f067aa0ba902b7")  # the span's own event


def test_a_resend_is_the_same_record() -> None:
    score = {"id": "abc", "traceId": TRACE, "name": "n", "value": 1}
    assert to_evaluation(score, NOW).eval_key == to_evaluation({**score, "value": 0}, NOW + 5).eval_key
    anonymous = {"traceId": TRACE, "name": "n", "value": 1, "timestamp": "2026-01-01T00:00:00Z"}
    assert to_evaluation(anonymous, NOW).eval_key == to_evaluation(anonymous, NOW + 5).eval_key
    assert to_evaluation(anonymous, NOW).eval_key != to_evaluation({**anonymous, "value": 2}, NOW).eval_key


def test_refusals_name_the_reason_and_spare_the_rest() -> None:
    kept, refused = to_evaluations([
        {"sessionId": "s", "name": "n", "value": 1},
        {"traceId": TRACE, "name": "n", "value": 2, "dataType": "BOOLEAN"},
        {"traceId": TRACE, "name": "n", "value": "x", "dataType": "NUMERIC"},
        {"traceId": TRACE, "name": "n", "value": 1, "dataType": "CATEGORICAL"},
        {"traceId": TRACE, "value": 1},
        {"traceId": TRACE, "name": "fine", "value": 1},
    ], NOW)
    assert [e.name for e in kept] == ["fine"]
    reasons = dict(refused)
    assert "session score is not kept" in reasons[0] and "1 or 0" in reasons[1]
    assert "finite number" in reasons[2] and "must be a string" in reasons[3] and reasons[4].startswith("name")

"""Upgrading to `0008_trace_evaluations` loses nothing: evaluations written by the previous schema's code
still show on their events and keep their flags, and whole-trace evaluations work on the upgraded database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from phosphobs.storage.detection_records import Evaluation, Outcome
from phosphobs.storage.protocol import DetectionStore, IngestOp, Storage

from tests.storage.upgrade_support import open_before, raw
from tests.support.factories import BASE_US, make_event

STEP = "0008_evaluation_targets"
TRACE = "b" * 32


@pytest.fixture
def opener(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], Storage]]:
    yield from open_before(STEP, backend, tmp_path, monkeypatch)


def test_upgrade_keeps_evaluations_and_takes_trace_scores(opener: Any) -> None:
    old = opener(True)
    project = old.create_project("up", "free", BASE_US)
    judged, final = make_event(trace_id=TRACE, span_id="1" * 16, kind="llm", timestamp_us=BASE_US), make_event(
        trace_id=TRACE, span_id="2" * 16, kind="llm", timestamp_us=BASE_US + 1_000_000)
    [result] = old.write([IngestOp(project.id, [judged, final], None)], BASE_US)
    assert result.ok
    raw(old, "INSERT INTO evaluations (project_id, eval_key, event_id, response_id, name, score, label, explanation,"
             " source, ts_us, created_us) VALUES (?, 'old-key', ?, NULL, 'relevance', 1.0, 'pass', NULL, 'otel', ?, ?)",
        (project.id, judged.event_id, BASE_US, BASE_US))
    raw(old, "UPDATE events SET flag = 'success', flag_source = 'otel', eval_flag = 'success' WHERE event_id = ?",
        (judged.event_id,))
    old.close()

    new = opener(False)
    try:
        store = cast(DetectionStore, new)
        keys = [(judged.event_id, None, TRACE, None), (final.event_id, None, TRACE, None)]
        [kept] = store.evaluations_for(project.id, keys)[judged.event_id]
        assert (kept.name, kept.label, kept.trace_id) == ("relevance", "pass", None)
        score = Evaluation("trace-score", None, None, "user-feedback", 0.0, "false", None, BASE_US, "langfuse", TRACE)
        [result] = new.write([IngestOp(project.id, [], None, evaluations=[score])], BASE_US + 2)
        assert result.ok, result.error
        with store.claim_detections(100, BASE_US + 3) as claim:
            claim.complete([Outcome(i.seq, i.stored.project_id, i.stored.event.event_id, []) for i in claim.items],
                           BASE_US + 4)
        flags = [new.get_event(project.id, e.event_id) for e in (judged, final)]
        assert [(f.flag, f.flag_source) for f in flags if f] == [("success", "otel"), ("failure", "otel")]
        assert [e.name for e in store.evaluations_for(project.id, keys)[final.event_id]] == ["user-feedback"]
    finally:
        new.close()

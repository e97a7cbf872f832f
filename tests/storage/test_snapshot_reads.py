"""Reads that must agree see one committed state (`Storage.snapshot`), on every backend.

Without it each statement saw the latest commit: an event read just before the detection worker
committed, and its detections read just after, were shown together with a flag that did not follow
from them (a CI failure of the judge end-to-end test)."""

from __future__ import annotations

from typing import cast

import pytest
from phosphobs.storage.detection_records import Detection, Outcome
from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import DetectionStore, FeedbackOp, IngestOp, Project, Storage

from tests.support.factories import BASE_US, make_event

NOW = BASE_US + 10_000_000


def _judge_success(store: DetectionStore) -> None:
    with store.claim_detections(100, NOW + 1) as claim:
        claim.complete([Outcome(i.seq, i.stored.project_id, i.stored.event.event_id,
                                [Detection("judge", "1:j", "success", 0.9, "fine", None, created_us=NOW)])
                        for i in claim.items], NOW + 2)


def test_reads_in_a_snapshot_see_the_state_of_its_first_read(storage: Storage, project: Project) -> None:
    event = make_event()
    [ok] = storage.write([IngestOp(project.id, [event], None)], NOW)
    assert ok.ok, ok.error
    detection = cast(DetectionStore, storage)

    def read_around_commits(store: Storage) -> tuple[object, ...]:
        before = store.get_event(project.id, event.event_id)
        _judge_success(detection)  # the worker commits between two reads of one page
        [fed] = storage.write([FeedbackOp(project.id, Feedback(event.event_id, "failure"))], NOW + 3)
        assert fed.ok, fed.error
        after = store.get_event(project.id, event.event_id)
        return (before, after, cast(DetectionStore, store).detections_for(project.id, [event.event_id]),
                store.list_feedback(project.id, event.event_id))

    before, after, detections, feedback = storage.snapshot(read_around_commits)
    assert before == after and after is not None and after.flag is None  # type: ignore[union-attr]
    assert detections == {} and feedback == []

    now = storage.get_event(project.id, event.event_id)  # the snapshot ended with the call
    assert now is not None and (now.flag, now.flag_source, now.detected_flag) == ("failure", "user", "success")
    assert [d.detector for d in detection.detections_for(project.id, [event.event_id])[event.event_id]] == ["judge"]


def test_a_snapshot_only_reads_and_ends_on_error(storage: Storage, project: Project) -> None:
    with pytest.raises(TypeError, match="only reads"):
        storage.snapshot(lambda store: store.create_project("inside", "free", NOW))
    assert [p.name for p in storage.list_projects()] == [project.name]

    with pytest.raises(ZeroDivisionError):
        storage.snapshot(lambda store: (store.list_projects(), 1 / 0))
    storage.create_project("after", "free", NOW)  # the failed snapshot holds nothing back
    assert sorted(p.name for p in storage.list_projects()) == sorted([project.name, "after"])

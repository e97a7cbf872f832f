"""Upgrading to the detection schema (0006_detection) loses nothing: a database written with the previous schema
keeps every event, and its flags gain their source (feedback → user, an error span's own flag → detector)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from phosphobs.storage.protocol import DetectionStore, IngestOp, Storage

from tests.storage.upgrade_support import open_before, raw
from tests.support.factories import BASE_US, make_event

STEP = "0006_detection"


@pytest.fixture
def opener(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], Storage]]:
    yield from open_before(STEP, backend, tmp_path, monkeypatch)


def test_upgrade_keeps_events_and_gives_flags_a_source(opener: Any) -> None:
    old = opener(True)
    project = old.create_project("up", "free", BASE_US)
    plain, flagged, failed = make_event(session_id="s"), make_event(session_id="s"), make_event(
        session_id="s", status="error", error_type="Timeout", flag="failure")
    [result] = old.write([IngestOp(project.id, [plain, flagged, failed], None)], BASE_US)
    assert result.ok
    # feedback as the previous code wrote it
    raw(old, "INSERT INTO feedback (project_id, event_id, flag, comment, source, created_us)"
              " VALUES (?, ?, 'success', NULL, 'user', ?)", (project.id, flagged.event_id, BASE_US))
    raw(old, "UPDATE events SET flag = 'success' WHERE event_id = ?", (flagged.event_id,))
    old.close()

    new = opener(False)
    try:
        got = {e: new.get_event(project.id, e) for e in (plain.event_id, flagged.event_id, failed.event_id)}
        assert all(v is not None for v in got.values())
        assert (got[flagged.event_id].flag, got[flagged.event_id].flag_source) == ("success", "user")  # type: ignore[union-attr]
        assert (got[failed.event_id].flag, got[failed.event_id].flag_source) == ("failure", "detector")  # type: ignore[union-attr]
        assert (got[plain.event_id].flag, got[plain.event_id].flag_source) == (None, None)  # type: ignore[union-attr]
        session = new.get_session(project.id, "s")
        assert session is not None and (session.event_count, session.failure_count) == (3, 1)
        store = cast(DetectionStore, new)
        assert store.detection_lag(project.id).queued == 0  # history is not queued (no surprise judge bill)
        assert store.human_rates(project.id, ["s"]) == {"s": (1, 1)}
        later = make_event(session_id="s")
        new.write([IngestOp(project.id, [later], None)], BASE_US + 1)
        assert store.detection_lag(project.id).queued == 1
    finally:
        new.close()

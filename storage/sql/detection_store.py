"""`DetectionMethods`: the `DetectionStore` role (`storage/protocol.py`) over the shared queries of
`storage/sql/detection.py`, forwarded once. `SqlStorage` supplies `_det_read(fn, *args)` (a reader) and
`_det_write(fn, *args)` (a short write transaction); a backend adds `claim_detections`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from phosphobs.storage.detection_records import (
    AgreementCounts,
    Detection,
    DetectionLag,
    Disagreement,
    Evaluation,
)
from phosphobs.storage.sql import detection as q

T = TypeVar("T")


class DetectionMethods:
    """The forwarding half of `DetectionStore`, written once."""

    def _det_read(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    def _det_write(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    def judge_examples(self, project_id: str, limit: int) -> list[tuple[str, str, str]]:
        return self._det_read(q.judge_examples, project_id, limit)

    def session_neighbours(self, project_id: str, session_id: str, ts_us: int, seq: int,
                           before: int) -> tuple[list[Any], Any | None]:
        return self._det_read(q.session_neighbours, project_id, session_id, ts_us, seq, before)

    def judge_enabled(self, project_id: str) -> bool:
        return self._det_read(q.judge_enabled, project_id)

    def set_judge_enabled(self, project_id: str, enabled: bool) -> None:
        self._det_write(q.set_judge_enabled, project_id, enabled)

    def detections_for(self, project_id: str, event_ids: list[str]) -> dict[str, list[Detection]]:
        return self._det_read(q.detections_for, project_id, event_ids)

    def evaluations_for(self, project_id: str, keys: list[tuple[str, str | None]]) -> dict[str, list[Evaluation]]:
        return self._det_read(q.evaluations_for, project_id, keys)

    def human_rates(self, project_id: str, session_ids: list[str]) -> dict[str, tuple[int, int]]:
        return self._det_read(q.human_rates, project_id, session_ids)

    def quality(self, project_id: str, since_us: int, until_us: int) -> list[AgreementCounts]:
        return self._det_read(q.quality, project_id, since_us, until_us)

    def disagreements(self, project_id: str, since_us: int, until_us: int, limit: int) -> list[Disagreement]:
        return self._det_read(q.disagreements, project_id, since_us, until_us, limit)

    def rerun_detection(self, project_id: str, since_us: int, until_us: int, now_us: int, limit: int) -> int:
        return self._det_write(q.rerun, project_id, since_us, until_us, now_us, limit)

    def human_totals(self, project_id: str, since_us: int, until_us: int) -> tuple[int, int]:
        return self._det_read(q.human_totals, project_id, since_us, until_us)

    def detection_lag(self, project_id: str | None = None) -> DetectionLag:
        return self._det_read(q.lag, project_id)

"""GET /api/quality (detector-vs-human agreement), GET /api/quality/disagreements, POST /api/detection/rerun."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query
from phosphobs.api.deps import PrincipalDep, StorageDep, run_in_threadpool
from phosphobs.api.detection.agreement import agreement_json
from phosphobs.api.enrich import read_together
from phosphobs.api.routes.events import time_bound
from phosphobs.api.serialize import iso
from phosphobs.collector.errors import INVALID, ApiError
from phosphobs.collector.responses import json_response
from phosphobs.storage.protocol import DetectionStore
from starlette.responses import Response

router = APIRouter(tags=["quality"])
DEFAULT_RANGE_US = 7 * 24 * 3600 * 1_000_000
RERUN_LIMIT = 100_000

From = Annotated[datetime | None, Query(alias="from", description="start of the range (default: 7 days ago)")]
To = Annotated[datetime | None, Query(alias="to", description="end of the range, exclusive (default: now)")]


def _range(since: datetime | None, until: datetime | None) -> tuple[int, int]:
    end = time_bound(until) or time.time_ns() // 1000
    start = time_bound(since)
    start = end - DEFAULT_RANGE_US if start is None else start
    if start >= end:
        raise ApiError(INVALID, "`from` must be before `to`")
    return start, end


def quality_report(store: DetectionStore, project_id: str, since_us: int, until_us: int) -> dict[str, Any]:
    humans, human_ok = store.human_totals(project_id, since_us, until_us)
    lag = store.detection_lag(project_id)
    oldest = lag.oldest_enqueued_us
    return {
        "from": iso(since_us),
        "to": iso(until_us),
        "detectors": [agreement_json(c) for c in store.quality(project_id, since_us, until_us)],
        "human": {"flagged": humans, "success": human_ok, "success_rate": human_ok / humans if humans else None},
        "queue": {"queued": lag.queued,
                  "lag_seconds": 0.0 if oldest is None else max(0.0, (time.time_ns() // 1000 - oldest) / 1e6)},
    }


@router.get("/api/quality")
async def quality(storage: StorageDep, principal: PrincipalDep, since: From = None, until: To = None) -> Response:
    start, end = _range(since, until)
    project_id = principal.project_id
    report = await read_together(storage, lambda store: quality_report(cast(DetectionStore, store), project_id,
                                                                       start, end))
    return json_response(report)


@router.get("/api/quality/disagreements")
async def disagreements(storage: StorageDep, principal: PrincipalDep, since: From = None, until: To = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    start, end = _range(since, until)
    rows = await run_in_threadpool(cast(DetectionStore, storage).disagreements, principal.project_id, start, end,
                                   limit)
    return json_response({"data": [
        {"event_id": d.event_id, "timestamp": iso(d.ts_us), "detector": d.detector, "detector_flag": d.detector_flag,
         "human_flag": d.human_flag, "score": d.score, "reason": d.reason, "input": d.input, "output": d.output}
        for d in rows]})


@router.post("/api/detection/rerun")
async def rerun(storage: StorageDep, principal: PrincipalDep, since: From = None, until: To = None) -> Response:
    """Detect the range's events again (new judge prompt or examples); at most 100,000 per call, newest first."""
    start, end = _range(since, until)
    queued = await run_in_threadpool(cast(DetectionStore, storage).rerun_detection, principal.project_id, start, end,
                                     time.time_ns() // 1000, RERUN_LIMIT)
    return json_response({"queued": queued}, status=202)

"""Overview's quality card (detected vs human success rate, agreement, disagreements), the "re-run
detection" action, and the per-project judge switch of the settings page."""

from __future__ import annotations

import time
from typing import Any, cast

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.common import PageError, ProjectDep
from phosphobs.api.dashboard.render import SECURITY_HEADERS
from phosphobs.api.routes.quality import RERUN_LIMIT, quality_report
from phosphobs.api.web_auth import checked_form
from phosphobs.storage.protocol import DetectionStore, Storage
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)
DISAGREEMENTS = 20


def quality_context(store: Storage, project_id: str, since_us: int, until_us: int) -> dict[str, Any]:
    """What the overview's quality card shows for [since, until); called inside the overview's snapshot."""
    detection = cast(DetectionStore, store)
    return {"quality": quality_report(detection, project_id, since_us, until_us),
            "disagreements": detection.disagreements(project_id, since_us, until_us, DISAGREEMENTS)}


def _ranges() -> dict[str, int]:
    from phosphobs.api.dashboard.pages_overview import RANGES

    return {name: span for name, (span, _) in RANGES.items()}


@router.post("/p/{project}/detection/rerun")
async def rerun(request: Request, ctx: ProjectDep) -> Response:
    form = await checked_form(request, ctx.session)
    name = form.get("range")
    spans = _ranges()
    if name not in spans:
        raise PageError(400, "unknown range")
    now = time.time_ns() // 1000
    queued = await run_in_threadpool(cast(DetectionStore, ctx.storage).rerun_detection, ctx.project.id,
                                     now - spans[name], now + 1, now, RERUN_LIMIT)
    return RedirectResponse(f"/p/{ctx.project.id}/overview?range={name}&rerun={queued}", status_code=303,
                            headers=SECURITY_HEADERS)


@router.post("/p/{project}/settings/judge")
async def judge_switch(request: Request, ctx: ProjectDep) -> Response:
    form = await checked_form(request, ctx.session)
    state = form.get("judge")
    if state not in ("on", "off"):
        raise PageError(400, "judge must be on or off")
    await run_in_threadpool(cast(DetectionStore, ctx.storage).set_judge_enabled, ctx.project.id, state == "on")
    return RedirectResponse(f"/p/{ctx.project.id}/settings", status_code=303, headers=SECURITY_HEADERS)

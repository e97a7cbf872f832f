"""Settings: API keys (created with the full key shown once, listed, revoked) and the project's plan."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter, Request
from phosphobs.api.bootstrap import create_key
from phosphobs.api.dashboard.common import PageError, ProjectDep, clean, page
from phosphobs.api.dashboard.render import SECURITY_HEADERS
from phosphobs.api.settings import PLANS
from phosphobs.api.web_auth import checked_form, now_us
from phosphobs.storage.protocol import DetectionStore
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)


async def _settings_page(request: Request, ctx: ProjectDep, **extra: object) -> Response:
    keys = await run_in_threadpool(ctx.storage.list_keys, ctx.project.id)
    settings = request.app.state.settings
    limit = settings.rate_limit_for(ctx.project.plan, ctx.project.rate_limit_per_min)
    judge_on = await run_in_threadpool(cast(DetectionStore, ctx.storage).judge_enabled, ctx.project.id)
    return page(request, ctx, "settings.html", "settings", keys=sorted(keys, key=lambda k: -k.created_us),
                rate_limit=limit, plans=PLANS, judge_on=judge_on,
                judge_configured=bool(settings.judge_base_url and settings.judge_model),
                judge_model=settings.judge_model, **extra)


@router.get("/p/{project}/settings")
async def settings_page(request: Request, ctx: ProjectDep) -> Response:
    return await _settings_page(request, ctx)


@router.post("/p/{project}/settings/keys")
async def new_key(request: Request, ctx: ProjectDep) -> Response:
    form = await checked_form(request, ctx.session)
    name = clean(form.get("name"), 100)
    if name is None:
        return await _settings_page(request, ctx, error="Give the key a name.")
    key, record = await run_in_threadpool(create_key, ctx.storage, ctx.project, name)
    # Answered directly, never redirected: the full key must not land in a URL, a cookie or the database.
    return await _settings_page(request, ctx, new_key=key, new_key_record=record)


@router.post("/p/{project}/settings/keys/{key_id}/revoke")
async def revoke(request: Request, ctx: ProjectDep, key_id: str) -> Response:
    await checked_form(request, ctx.session)
    keys = await run_in_threadpool(ctx.storage.list_keys, ctx.project.id)
    if key_id not in {k.id for k in keys}:
        raise PageError(404, "no such key in this project")
    await run_in_threadpool(ctx.storage.revoke_key, key_id, now_us())
    request.app.state.authenticate.forget_cached()  # this process stops accepting it now, not after the cache TTL
    return RedirectResponse(f"/p/{ctx.project.id}/settings", status_code=303, headers=SECURITY_HEADERS)


@router.post("/p/{project}/settings/plan")
async def set_plan(request: Request, ctx: ProjectDep) -> Response:
    form = await checked_form(request, ctx.session)
    plan = form.get("plan")
    if plan not in PLANS:
        raise PageError(400, "plan must be one of " + ", ".join(PLANS))
    raw = form.get("rate_limit").strip()
    if raw and not raw.isdigit():
        return await _settings_page(request, ctx, error="The rate limit is a whole number of events per minute.")
    await run_in_threadpool(ctx.storage.set_project_plan, ctx.project.id, plan, int(raw) if raw else None)
    request.app.state.authenticate.forget_cached()
    return RedirectResponse(f"/p/{ctx.project.id}/settings", status_code=303, headers=SECURITY_HEADERS)

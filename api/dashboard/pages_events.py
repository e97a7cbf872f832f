"""Events: search and filters (the API's indexed query), event detail, and marking success/failure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.common import PageError, ProjectDep, clean, page, page_cursor, parse_time
from phosphobs.api.dashboard.content import timeline_item
from phosphobs.api.dashboard.render import SECURITY_HEADERS
from phosphobs.api.enrich import events_json, read_together
from phosphobs.api.pagination import encode_cursor
from phosphobs.api.web_auth import checked_form, safe_next
from phosphobs.collector.errors import ApiError
from phosphobs.collector.submit import submit_feedback
from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import EventQuery, FeedbackRecord, Storage, StoredEvent
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

FILTERS = ("q", "model", "user", "tag", "flag", "kind", "session", "since", "until")


@router.get("/p/{project}/events")
async def events(request: Request, ctx: ProjectDep) -> Response:
    params = {name: request.query_params.get(name, "") for name in FILTERS}
    after = page_cursor(request, ("int", "int"))
    query = EventQuery(
        session_id=clean(params["session"]), user_id=clean(params["user"]), model=clean(params["model"]),
        tag=clean(params["tag"]), flag=params["flag"] if params["flag"] in ("success", "failure") else None,  # type: ignore[arg-type]
        kind=params["kind"] if params["kind"] in ("llm", "embedding", "tool", "event") else None,
        since_us=parse_time(params["since"]), until_us=parse_time(params["until"]), text=clean(params["q"], 1000),
        after=after,  # type: ignore[arg-type]
        limit=50,
    )
    result = await run_in_threadpool(ctx.storage.list_events, ctx.project.id, query)
    kept = {k: v for k, v in params.items() if v}
    return page(request, ctx, "events.html", "events", events=result.items, params=params, kept=kept,
                next_cursor=encode_cursor(result.next_after), first_page=query.after is None)


@router.get("/p/{project}/events/{event_id}")
async def event_detail(request: Request, ctx: ProjectDep, event_id: str) -> Response:
    project_id = ctx.project.id

    def detail(store: Storage) -> tuple[StoredEvent, list[FeedbackRecord], dict[str, Any]] | None:
        stored = store.get_event(project_id, event_id)
        if stored is None:
            return None
        (shown,) = events_json(store, project_id, [stored])
        return stored, store.list_feedback(project_id, event_id), shown

    found = await read_together(ctx.storage, detail)
    if found is None:
        raise PageError(404, f"no event {event_id!r}")
    stored, feedback, shown = found
    return page(request, ctx, "event.html", "events", item=timeline_item(stored), feedback=feedback,
                here=request.url.path, quality=shown)


@router.post("/p/{project}/events/{event_id}/feedback")
async def mark(request: Request, ctx: ProjectDep, event_id: str) -> Response:
    form = await checked_form(request, ctx.session)
    flag = form.get("flag")
    if flag not in ("success", "failure"):
        raise PageError(400, "flag must be success or failure")
    comment = clean(form.get("comment"), 10_000)
    feedback = Feedback(event_id, flag, comment, f"dashboard:{ctx.session.username}")  # type: ignore[arg-type]
    try:
        await submit_feedback(request.app.state.pipeline.submit, ctx.project.id, feedback)
    except ApiError as exc:  # the API's refusal, shown as a page
        raise PageError(exc.kind.status, f"feedback not stored: {exc.message}; try again") from exc
    target = safe_next(form.get("next")) if form.get("next") else f"/p/{ctx.project.id}/events/{event_id}"
    return RedirectResponse(target + f"#event-{event_id}", status_code=303, headers=SECURITY_HEADERS)

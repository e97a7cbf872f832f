"""GET /api/events (filters, full-text search, cursor pages) and GET /api/events/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from phosphobs.api.deps import PrincipalDep, StorageDep, run_in_threadpool
from phosphobs.api.enrich import events_json
from phosphobs.api.pagination import decode_cursor, page_body
from phosphobs.api.serialize import feedback_json
from phosphobs.collector.errors import NOT_FOUND, ApiError
from phosphobs.collector.native import to_timestamp_us
from phosphobs.collector.responses import json_response
from phosphobs.storage.protocol import EventQuery
from starlette.responses import Response

router = APIRouter(tags=["events"])

Text = Annotated[str | None, Query(max_length=512)]
FlagSourceParam = Annotated[Literal["user", "detector", "otel", "none"] | None,
                            Query(description="where the final flag came from; none: no flag")]
DetectedFlagParam = Annotated[Literal["success", "failure"] | None, Query(description="the detectors' flag")]


def time_bound(value: datetime | None) -> int | None:
    return None if value is None else to_timestamp_us(value, 0)


@router.get("/api/events")
async def list_events(
    storage: StorageDep,
    principal: PrincipalDep,
    session_id: Text = None,
    user_id: Text = None,
    model: Text = None,
    provider: Text = None,
    tag: Text = None,
    flag: Literal["success", "failure"] | None = None,
    kind: Literal["llm", "embedding", "tool", "event"] | None = None,
    flag_source: FlagSourceParam = None,
    detected_flag: DetectedFlagParam = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=1000, description="full-text search over input and output")] = None,
    cursor: Text = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    query = EventQuery(
        session_id=session_id, user_id=user_id, model=model, provider=provider, tag=tag, flag=flag, kind=kind,
        flag_source=flag_source, detected_flag=detected_flag, since_us=time_bound(since),
        until_us=time_bound(until), text=q,
        after=decode_cursor(cursor, ("int", "int")), limit=limit,  # type: ignore[arg-type]
    )
    page = await run_in_threadpool(storage.list_events, principal.project_id, query)
    return json_response(page_body(await events_json(storage, principal.project_id, page.items), page.next_after))


@router.get("/api/events/{event_id}")
async def get_event(event_id: Annotated[str, Path(max_length=256)], storage: StorageDep,
                    principal: PrincipalDep) -> Response:
    stored = await run_in_threadpool(storage.get_event, principal.project_id, event_id)
    if stored is None:
        raise ApiError(NOT_FOUND, f"no event {event_id!r} in this project")
    feedback = await run_in_threadpool(storage.list_feedback, principal.project_id, event_id)
    (body,) = await events_json(storage, principal.project_id, [stored])
    return json_response({**body, "feedback": [feedback_json(f) for f in feedback]})

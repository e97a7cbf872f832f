"""GET /api/events (filters, full-text search, cursor pages) and GET /api/events/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from phosphobs.api.deps import PrincipalDep, StorageDep
from phosphobs.api.enrich import events_json, read_together
from phosphobs.api.pagination import decode_cursor, page_body
from phosphobs.api.serialize import feedback_json
from phosphobs.collector.errors import NOT_FOUND, ApiError
from phosphobs.collector.native import to_timestamp_us
from phosphobs.collector.responses import json_response
from phosphobs.storage.protocol import EventQuery, Storage
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
    project_id = principal.project_id

    def listed(store: Storage) -> dict[str, Any]:
        page = store.list_events(project_id, query)
        return page_body(events_json(store, project_id, page.items), page.next_after)

    return json_response(await read_together(storage, listed))


@router.get("/api/events/{event_id}")
async def get_event(event_id: Annotated[str, Path(max_length=256)], storage: StorageDep,
                    principal: PrincipalDep) -> Response:
    project_id = principal.project_id

    def detail(store: Storage) -> dict[str, Any] | None:
        stored = store.get_event(project_id, event_id)
        if stored is None:
            return None
        (body,) = events_json(store, project_id, [stored])
        return {**body, "feedback": [feedback_json(f) for f in store.list_feedback(project_id, event_id)]}

    body = await read_together(storage, detail)
    if body is None:
        raise ApiError(NOT_FOUND, f"no event {event_id!r} in this project")
    return json_response(body)

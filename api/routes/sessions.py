"""GET /api/sessions (filters, newest activity first, cursor pages) and GET /api/sessions/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from phosphobs.api.deps import PrincipalDep, StorageDep
from phosphobs.api.enrich import events_json, read_together, sessions_json
from phosphobs.api.pagination import decode_cursor, page_body
from phosphobs.api.routes.events import DetectedFlagParam, FlagSourceParam, Text, time_bound
from phosphobs.collector.errors import NOT_FOUND, ApiError
from phosphobs.collector.responses import json_response
from phosphobs.storage.protocol import SessionQuery, Storage
from starlette.responses import Response

router = APIRouter(tags=["sessions"])


@router.get("/api/sessions")
async def list_sessions(
    storage: StorageDep,
    principal: PrincipalDep,
    user_id: Text = None,
    model: Text = None,
    tag: Text = None,
    has_failures: bool | None = None,
    flag_source: FlagSourceParam = None,
    detected_flag: DetectedFlagParam = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Text = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    query = SessionQuery(
        user_id=user_id, model=model, tag=tag, has_failures=has_failures, flag_source=flag_source,
        detected_flag=detected_flag, since_us=time_bound(since),
        until_us=time_bound(until), after=decode_cursor(cursor, ("int", "str")), limit=limit,  # type: ignore[arg-type]
    )
    project_id = principal.project_id

    def listed(store: Storage) -> dict[str, Any]:
        page = store.list_sessions(project_id, query)
        return page_body(sessions_json(store, project_id, page.items), page.next_after)

    return json_response(await read_together(storage, listed))


@router.get("/api/sessions/{session_id}")
async def get_session(
    session_id: Annotated[str, Path(max_length=512)],
    storage: StorageDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=5000, description="events to include, oldest first")] = 1000,
) -> Response:
    project_id = principal.project_id

    def detail(store: Storage) -> dict[str, Any] | None:
        record = store.get_session(project_id, session_id)
        if record is None:
            return None
        (body,) = sessions_json(store, project_id, [record])
        events = store.session_events(project_id, session_id, limit)
        return {**body, "traces": store.session_traces(project_id, session_id),
                "events": events_json(store, project_id, events)}

    body = await read_together(storage, detail)
    if body is None:
        raise ApiError(NOT_FOUND, f"no session {session_id!r} in this project")
    return json_response(body)

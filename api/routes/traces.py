"""GET /api/traces (filters, newest activity first, cursor pages) and GET /api/traces/{id} (the span tree)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from phosphobs.api.deps import PrincipalDep, StorageDep, run_in_threadpool
from phosphobs.api.pagination import decode_cursor, page_body
from phosphobs.api.routes.events import Text, time_bound
from phosphobs.api.serialize import trace_json, trace_summary_json
from phosphobs.collector.errors import NOT_FOUND, ApiError
from phosphobs.collector.responses import json_response
from phosphobs.storage.trace_records import TraceQuery
from starlette.responses import Response

router = APIRouter(tags=["traces"])


@router.get("/api/traces")
async def list_traces(
    storage: StorageDep,
    principal: PrincipalDep,
    session_id: Text = None,
    user_id: Text = None,
    has_errors: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Text = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Traces by their latest call, newest first. A page may be short (each request reads a bounded
    number of events); follow `next_cursor` until it is null."""
    query = TraceQuery(
        session_id=session_id, user_id=user_id, has_errors=has_errors, since_us=time_bound(since),
        until_us=time_bound(until), after=decode_cursor(cursor, ("int", "int")), limit=limit,  # type: ignore[arg-type]
    )
    page = await run_in_threadpool(storage.list_traces, principal.project_id, query)
    return json_response(page_body([trace_summary_json(t) for t in page.items], page.next_after))


@router.get("/api/traces/{trace_id}")
async def get_trace(trace_id: Annotated[str, Path(max_length=64)], storage: StorageDep,
                    principal: PrincipalDep) -> Response:
    record = await run_in_threadpool(storage.get_trace, principal.project_id, trace_id.lower())
    if record is None:
        raise ApiError(NOT_FOUND, f"no trace {trace_id!r} in this project")
    return json_response(trace_json(record))

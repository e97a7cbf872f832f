"""HTTP receiver for the native JSON API: POST /api/ingest and /api/ingest/batch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from phosphobs.collector.errors import BAD_REQUEST, FORBIDDEN, INVALID, UNSUPPORTED_MEDIA, ApiError
from phosphobs.collector.http_body import read_body
from phosphobs.collector.native import (
    IngestEvent,
    InvalidPayload,
    MalformedJson,
    parse_batch,
    parse_event,
    to_event,
)
from phosphobs.collector.principal import Authenticate, Principal
from phosphobs.collector.responses import json_response
from phosphobs.collector.submit import Submit, submit_ingest
from phosphobs.storage.clock import now_us
from starlette.responses import Response


def require_json(request: Request) -> None:
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(UNSUPPORTED_MEDIA, f"content type {media!r} is not supported: send application/json")


def decode_json(parse, body: bytes):
    try:
        return parse(body)
    except MalformedJson as exc:
        raise ApiError(BAD_REQUEST, f"request body is not valid JSON: {exc}") from exc
    except InvalidPayload as exc:
        raise ApiError(INVALID, "request body failed validation", details=exc.details) from exc


def _check_project(principal: Principal, items: list[IngestEvent]) -> None:
    for index, item in enumerate(items):
        if item.project_id is not None and item.project_id not in (principal.project_id, principal.project_name):
            raise ApiError(
                FORBIDDEN,
                f"event {index} names project {item.project_id!r}, but this API key belongs to project"
                f" {principal.project_name!r}; nothing was stored",
            )


def native_router(submit: Submit, authenticate: Authenticate, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["ingest"])

    @router.post("/api/ingest", status_code=201)
    async def ingest(request: Request) -> Response:
        principal = await authenticate(request)
        require_json(request)
        item = decode_json(parse_event, await read_body(request, max_body_bytes))
        _check_project(principal, [item])
        event = to_event(item, now_us())
        result, headers = await submit_ingest(submit, principal, [event])
        status = result.statuses[0]
        return json_response(
            {"event_id": event.event_id, "status": status}, 201 if status == "created" else 200, headers
        )

    @router.post("/api/ingest/batch", status_code=201)
    async def ingest_batch(request: Request) -> Response:
        principal = await authenticate(request)
        require_json(request)
        items = decode_json(parse_batch, await read_body(request, max_body_bytes))
        _check_project(principal, items)
        received = now_us()
        events = [to_event(item, received) for item in items]
        result, headers = await submit_ingest(submit, principal, events)
        results = [{"event_id": e.event_id, "status": s} for e, s in zip(events, result.statuses, strict=True)]
        created = sum(1 for s in result.statuses if s == "created")
        body = {"results": results, "created": created, "duplicates": len(results) - created}
        return json_response(body, 201 if created else 200, headers)

    return router

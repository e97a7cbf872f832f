"""HTTP receiver for the native JSON API: POST /api/ingest and /api/ingest/batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from phosphobs.collector.admission import admitted, declared_length, grow
from phosphobs.collector.errors import BAD_REQUEST, FORBIDDEN, INVALID, UNSUPPORTED_MEDIA, ApiError
from phosphobs.collector.http_body import read_body
from phosphobs.collector.native import (
    IngestEvent,
    InvalidPayload,
    MalformedJson,
    parse_batch,
    parse_event,
    parse_with,
    to_event,
)
from phosphobs.collector.principal import Authenticate, Principal
from phosphobs.collector.responses import json_response
from phosphobs.collector.submit import Intake, check_rate_gate, prepare, submit_ingest
from phosphobs.storage.clock import now_us
from phosphobs.storage.models import Event
from pydantic import TypeAdapter
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


_ANY_JSON = TypeAdapter(Any)


def json_document(body: bytes) -> Any:
    """Any JSON document, read as leniently as events are (400 when it is not JSON); the caller checks its shape."""
    return decode_json(lambda raw: parse_with(_ANY_JSON, raw), body)


async def json_request(request: Request, authenticate: Authenticate, max_body_bytes: int) -> tuple[Principal, Any]:
    """The caller and the JSON document of a keyed request to another tool's API (Langfuse's, Phoenix's)."""
    principal = await authenticate(request)
    require_json(request)
    return principal, json_document(await read_body(request, max_body_bytes))


def _check_project(principal: Principal, items: list[IngestEvent]) -> None:
    for index, item in enumerate(items):
        if item.project_id is not None and item.project_id not in (principal.project_id, principal.project_name):
            raise ApiError(
                FORBIDDEN,
                f"event {index} names project {item.project_id!r}, but this API key belongs to project"
                f" {principal.project_name!r}; nothing was stored",
            )


def _events(parse: Callable[[bytes], IngestEvent | list[IngestEvent]], body: bytes,
            principal: Principal) -> list[Event]:
    """Parse, check and prepare a body's events (CPU work: runs in a worker thread)."""
    parsed = decode_json(parse, body)
    items = parsed if isinstance(parsed, list) else [parsed]
    _check_project(principal, items)
    received = now_us()
    events = [to_event(item, received) for item in items]
    prepare(events, [], [])
    return events


def native_router(intake: Intake, authenticate: Authenticate, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["ingest"])

    async def receive(request: Request, parse: Callable[[bytes], IngestEvent | list[IngestEvent]]
                      ) -> tuple[list[Event], list[str], dict[str, str]]:
        principal = await authenticate(request)
        require_json(request)
        async with admitted(intake, declared_length(request, max_body_bytes)) as reservation:
            body = await read_body(request, max_body_bytes)
            grow(intake, reservation, len(body))
            events = await intake.offload(_events, parse, body, principal)
            check_rate_gate(intake.rate_gate, principal, len(events))
            result, headers = await submit_ingest(intake.submit, principal, events, prepared=True)
        return events, list(result.statuses), headers

    @router.post("/api/ingest", status_code=201)
    async def ingest(request: Request) -> Response:
        events, statuses, headers = await receive(request, parse_event)
        status = statuses[0]
        return json_response(
            {"event_id": events[0].event_id, "status": status}, 201 if status == "created" else 200, headers
        )

    @router.post("/api/ingest/batch", status_code=201)
    async def ingest_batch(request: Request) -> Response:
        events, statuses, headers = await receive(request, parse_batch)
        results = [{"event_id": e.event_id, "status": s} for e, s in zip(events, statuses, strict=True)]
        created = sum(1 for s in statuses if s == "created")
        body = {"results": results, "created": created, "duplicates": len(results) - created}
        return json_response(body, 201 if created else 200, headers)

    return router

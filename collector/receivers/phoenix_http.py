"""The annotation routes of Arize Phoenix's REST API, for apps switched from Phoenix (its client's
`base_url` at phosphobs, `api_key` a phosphobs key, sent as Bearer):

- `POST /v1/span_annotations` and `POST /v1/trace_annotations`: `{"data": [annotations]}`, kept as evaluations
  (`collector/phoenix_annotations.py`); `?sync=true` answers each annotation's id, as Phoenix does.
- `POST /v1/session_annotations`: refused (422): phosphobs keeps evaluations of calls and traces only.

As in Phoenix, a request with an invalid annotation is refused whole (422) and stores nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from phosphobs.collector.errors import INVALID, ApiError
from phosphobs.collector.phoenix_annotations import Target, to_evaluations
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.receivers.native_http import json_request
from phosphobs.collector.responses import json_response
from phosphobs.collector.submit import Submit, submit_evaluations
from phosphobs.storage.clock import now_us
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response


def phoenix_router(submit: Submit, authenticate: Authenticate, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["phoenix"])

    async def annotate(request: Request, target: Target) -> Response:
        principal, document = await json_request(request, authenticate, max_body_bytes)
        items = document.get("data") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise ApiError(INVALID, 'send {"data": [annotations]}')
        kept, refused = await run_in_threadpool(to_evaluations, items, target, now_us())
        if refused:
            raise ApiError(INVALID, "; ".join(f"annotation {index}: {reason}" for index, reason in refused[:20]))
        await submit_evaluations(submit, principal, kept)
        sync = request.query_params.get("sync", "false").lower() == "true"
        return json_response({"data": [{"id": e.eval_key} for e in kept] if sync else []})

    @router.post("/v1/span_annotations")
    async def span_annotations(request: Request) -> Response:
        return await annotate(request, "span")

    @router.post("/v1/trace_annotations")
    async def trace_annotations(request: Request) -> Response:
        return await annotate(request, "trace")

    @router.post("/v1/session_annotations")
    async def session_annotations(request: Request) -> Response:
        await authenticate(request)
        raise ApiError(INVALID, "session annotations are not kept: phosphobs keeps annotations of spans and traces"
                                " (annotate the session's last trace instead)")

    return router

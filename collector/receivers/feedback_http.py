"""POST /api/feedback: success/failure flags on events, kept even when the event is not in yet."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from phosphobs.collector.http_body import read_body
from phosphobs.collector.native import NoNul, parse_with
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.receivers.native_http import decode_json, require_json
from phosphobs.collector.responses import json_response
from phosphobs.collector.storable import storable_text
from phosphobs.collector.submit import Submit, submit_feedback
from phosphobs.storage.models import Feedback
from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter
from starlette.responses import Response


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID
    flag: Literal["success", "failure"]
    comment: Annotated[StrictStr, Field(max_length=10_000), NoNul] | None = None
    source: Annotated[StrictStr, Field(min_length=1, max_length=64), NoNul] | None = None


_FEEDBACK = TypeAdapter(FeedbackIn)


def parse_feedback(body: bytes) -> FeedbackIn:
    return parse_with(_FEEDBACK, body)


def feedback_router(submit: Submit, authenticate: Authenticate, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post("/api/feedback", status_code=201)
    async def post_feedback(request: Request) -> Response:
        principal = await authenticate(request)
        require_json(request)
        item: FeedbackIn = decode_json(parse_feedback, await read_body(request, max_body_bytes))
        comment = storable_text(item.comment) if item.comment is not None else None  # lone surrogates
        feedback = Feedback(str(item.event_id), item.flag, comment, storable_text(item.source or "user"))
        await submit_feedback(submit, principal.project_id, feedback)
        return json_response({"event_id": feedback.event_id, "flag": feedback.flag, "status": "recorded"}, 201)

    return router

"""The calls of Langfuse's public API a switched app makes besides exporting spans (which go to the OTLP
receiver at `/api/public/otel`): `auth_check()` at start-up, and its scores.

- `GET /api/public/projects`: Langfuse's `auth_check()` (in its quickstart) reads the projects of the key pair
  and raises on a 404, so without it an app switched to phosphobs would stop before sending anything. It
  answers with the key's project, in Langfuse's shape; one phosphobs server is one organization.
- `POST /api/public/scores`: a list of scores (the SDK's batches: 202, or 207 with what was refused), or one
  score (Langfuse's REST API: 200 with its id). Scores become evaluations (`collector/langfuse_scores.py`).
- `POST /api/public/ingestion`: older SDKs send scores as `score-create` events of a batch (207 per event).
  Only scores are kept there: phosphobs takes traces over OTLP, so other events are answered as errors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from phosphobs.collector.errors import INVALID, TOO_LARGE, ApiError
from phosphobs.collector.external_evaluations import MAX_ITEMS
from phosphobs.collector.langfuse_scores import to_evaluations
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.receivers.native_http import json_request
from phosphobs.collector.responses import json_response
from phosphobs.collector.submit import Submit, submit_evaluations
from phosphobs.storage.clock import now_us
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

ORGANIZATION = {"id": "phosphobs", "name": "phosphobs"}
NOT_A_SCORE = ("phosphobs keeps only scores here: send traces over OTLP to /api/public/otel (Langfuse's current"
               " SDKs do)")


def _echo_id(value: Any, fallback: int) -> str:
    return value[:256] if isinstance(value, str) and value else str(fallback)


def langfuse_router(submit: Submit, authenticate: Authenticate, max_body_bytes: int) -> APIRouter:
    router = APIRouter(tags=["langfuse"])

    @router.get("/api/public/projects")
    async def projects(request: Request) -> Response:
        principal = await authenticate(request)
        project = {"id": principal.project_id, "name": principal.project_name, "organization": ORGANIZATION,
                   "metadata": {}}
        return json_response({"data": [project]})

    @router.post("/api/public/scores")
    async def scores(request: Request) -> Response:
        principal, document = await json_request(request, authenticate, max_body_bytes)
        if not isinstance(document, (list, dict)):
            raise ApiError(INVALID, "send one score (an object) or a list of scores")
        items = document if isinstance(document, list) else [document]
        kept, refused = await run_in_threadpool(to_evaluations, items, now_us())
        if isinstance(document, dict):
            if refused:
                raise ApiError(INVALID, refused[0][1])
            await submit_evaluations(submit, principal, kept)
            score_id = document.get("id")  # a string when given: validated with the score
            return json_response({"id": score_id if isinstance(score_id, str) else kept[0].eval_key})
        await submit_evaluations(submit, principal, kept)
        if refused:
            return json_response({"accepted": len(kept), "rejected": len(refused),
                                  "errors": [{"message": f"score {index}: {reason}"} for index, reason in refused]},
                                 207)
        return json_response({"message": "Accepted"}, 202)

    @router.post("/api/public/ingestion")
    async def ingestion(request: Request) -> Response:
        principal, document = await json_request(request, authenticate, max_body_bytes)
        batch = document.get("batch") if isinstance(document, dict) else None
        if not isinstance(batch, list):
            raise ApiError(INVALID, 'send {"batch": [events]}')
        if len(batch) > MAX_ITEMS:
            raise ApiError(TOO_LARGE, f"{len(batch):,} events in one batch; send at most {MAX_ITEMS:,} at a time")
        ids = [_echo_id(e.get("id") if isinstance(e, dict) else None, n) for n, e in enumerate(batch)]
        is_score = [isinstance(e, dict) and e.get("type") == "score-create" for e in batch]
        positions = [n for n, score in enumerate(is_score) if score]
        kept, refused = await run_in_threadpool(to_evaluations, [batch[n].get("body") for n in positions], now_us())
        await submit_evaluations(submit, principal, kept)
        reasons = {positions[index]: reason for index, reason in refused}
        reasons.update({n: NOT_A_SCORE for n, score in enumerate(is_score) if not score})
        return json_response({
            "successes": [{"id": ids[n], "status": 201} for n in positions if n not in reasons],
            "errors": [{"id": ids[n], "status": 400, "message": reason, "error": reason}
                       for n, reason in sorted(reasons.items())],
        }, 207)

    return router

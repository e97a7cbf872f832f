"""Liveness for load balancers and tests."""

from __future__ import annotations

from fastapi import APIRouter
from phosphobs.collector.responses import json_response
from starlette.responses import Response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})

"""`GET /api/public/projects`: the one call of Langfuse's public API a switched app makes at start-up.

Langfuse's `auth_check()` (in its quickstart) reads the projects of the key pair and raises on a 404, so
without this route an app switched to phosphobs (host and secret key changed, spans exported to
`/api/public/otel`) would stop before sending anything. It answers with the key's project, in Langfuse's
shape; one phosphobs server is one organization.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.responses import json_response
from starlette.responses import Response

ORGANIZATION = {"id": "phosphobs", "name": "phosphobs"}


def langfuse_router(authenticate: Authenticate) -> APIRouter:
    router = APIRouter(tags=["langfuse"])

    @router.get("/api/public/projects")
    async def projects(request: Request) -> Response:
        principal = await authenticate(request)
        project = {"id": principal.project_id, "name": principal.project_name, "organization": ORGANIZATION,
                   "metadata": {}}
        return json_response({"data": [project]})

    return router

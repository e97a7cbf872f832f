"""OTLP/HTTP receiver: POST /v1/traces, /v1/logs, /v1/metrics (protobuf or JSON, gzip or plain).

Errors are `google.rpc.Status` in the request's encoding, with the status codes the OTLP spec makes
retryable (429/503 + Retry-After) only where a retry can succeed.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from google.protobuf.json_format import MessageToDict
from google.rpc import status_pb2
from phosphobs.collector.errors import BAD_REQUEST, TOO_LARGE, UNSUPPORTED_MEDIA, ApiError, ErrorClass
from phosphobs.collector.http_body import read_body
from phosphobs.collector.otlp.decode import JSON, PROTOBUF, OtlpDecodeError, encode_response, media_type
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.receivers.otlp_ingest import SIGNALS, ingest_request
from phosphobs.collector.submit import Submit
from starlette.responses import Response

_GRPC_CODES = {"INVALID_ARGUMENT": 3, "UNAUTHENTICATED": 16, "PERMISSION_DENIED": 7, "NOT_FOUND": 5,
               "RESOURCE_EXHAUSTED": 8, "UNAVAILABLE": 14}
_DECODE_ERRORS: dict[int, ErrorClass] = {400: BAD_REQUEST, 413: TOO_LARGE, 415: UNSUPPORTED_MEDIA}


def status_response(error: ApiError, content_type: str | None) -> Response:
    status = status_pb2.Status(code=_GRPC_CODES.get(error.kind.grpc, 2), message=error.message)
    try:
        encoding = media_type(content_type)
    except OtlpDecodeError:
        encoding = JSON
    if encoding == JSON:
        body = json.dumps(MessageToDict(status), separators=(",", ":")).encode()
    else:
        body = status.SerializeToString()
    return Response(body, error.kind.status, headers=error.headers, media_type=encoding)


def otlp_router(submit: Submit, authenticate: Authenticate, max_body_bytes: int,
                max_decompressed_bytes: int) -> APIRouter:
    router = APIRouter(tags=["otlp"])

    async def receive(request: Request, signal: str) -> Response:
        content_type = request.headers.get("content-type")
        try:
            principal = await authenticate(request)
            kind = SIGNALS[signal]  # type: ignore[index]
            body = await read_body(request, max_body_bytes)
            try:
                decoded = kind.decode(body, content_type or "", request.headers.get("content-encoding"),
                                      max_decompressed_bytes)
            except OtlpDecodeError as exc:
                raise ApiError(_DECODE_ERRORS.get(exc.status, BAD_REQUEST), str(exc)) from exc
            outcome = await ingest_request(submit, principal, kind, decoded)
        except ApiError as error:
            return status_response(error, content_type)
        encoding = media_type(content_type)
        body = encode_response(kind.name, outcome.rejected, outcome.message, encoding)
        return Response(body, 200, headers=outcome.headers, media_type=encoding if encoding == JSON else PROTOBUF)

    @router.post("/v1/traces")
    async def traces(request: Request) -> Response:
        return await receive(request, "traces")

    @router.post("/v1/logs")
    async def logs(request: Request) -> Response:
        return await receive(request, "logs")

    @router.post("/v1/metrics")
    async def metrics(request: Request) -> Response:
        return await receive(request, "metrics")

    return router

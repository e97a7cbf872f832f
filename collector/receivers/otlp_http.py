"""OTLP/HTTP receiver: POST /v1/traces, /v1/logs, /v1/metrics (protobuf or JSON, gzip or plain).

The same receiver answers under `/api/public/otel` (`LANGFUSE_OTLP_PREFIX`), where Langfuse's SDKs and
"Langfuse OTel exporter" set-ups send: the SDKs post `{host}/api/public/otel/v1/traces`, and apps that set
`OTEL_EXPORTER_OTLP_ENDPOINT={host}/api/public/otel` get `/v1/logs` and `/v1/metrics` appended by their
OpenTelemetry SDK too. Pointing such an app's host at phosphobs is then the whole switch.

Errors are `google.rpc.Status` in the request's encoding, with the status codes the OTLP spec makes
retryable (429/503 + Retry-After) only where a retry can succeed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from google.protobuf.json_format import MessageToDict
from google.rpc import status_pb2
from phosphobs.collector.admission import admitted, declared_length, grow
from phosphobs.collector.errors import BAD_REQUEST, TOO_LARGE, UNSUPPORTED_MEDIA, ApiError, ErrorClass
from phosphobs.collector.http_body import read_body
from phosphobs.collector.otlp.decode import (
    JSON,
    PROTOBUF,
    OtlpDecodeError,
    decompress,
    encode_response,
    media_type,
)
from phosphobs.collector.otlp.item_count import items_over
from phosphobs.collector.principal import Authenticate
from phosphobs.collector.receivers.otlp_ingest import SIGNALS, RequestLimits, SignalKind, ingest_request, too_many
from phosphobs.collector.submit import Intake
from starlette.responses import Response

LANGFUSE_OTLP_PREFIX = "/api/public/otel"
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


def _decode(kind: SignalKind, body: bytes, content_type: str, content_encoding: str | None,
            limits: RequestLimits) -> tuple[Any, int]:
    """The decoded request and its decoded size (CPU work: runs in a worker thread). A body over the
    per-request item limit is refused from its bytes, before parsing allocates anything per item."""
    try:
        encoding = media_type(content_type)  # first: a wrong type is 415 whatever the body
        data = decompress(body, content_encoding, limits.max_decompressed_bytes)
        cap = limits.max_items(kind.name)
        over = items_over(data, kind.name, encoding == JSON, cap) if cap is not None else None
        if over is not None and cap is not None:
            raise too_many(kind, over, cap, at_least=True)
        decoded = kind.decode(data, content_type, None, limits.max_decompressed_bytes)
    except OtlpDecodeError as exc:
        raise ApiError(_DECODE_ERRORS.get(exc.status, BAD_REQUEST), str(exc)) from exc
    return decoded, len(data)


def otlp_router(intake: Intake, authenticate: Authenticate, limits: RequestLimits) -> APIRouter:
    router = APIRouter(tags=["otlp"])

    async def receive(request: Request, signal: str) -> Response:
        content_type = request.headers.get("content-type")
        try:
            principal = await authenticate(request)
            kind = SIGNALS[signal]  # type: ignore[index]
            declared = declared_length(request, limits.max_body_bytes)
            async with admitted(intake, declared) as reservation:  # shed before reading, not after
                body = await read_body(request, limits.max_body_bytes)
                grow(intake, reservation, len(body))
                decoded, size = await intake.offload(_decode, kind, body, content_type or "",
                                                       request.headers.get("content-encoding"), limits)
                del body
                grow(intake, reservation, size)
                outcome = await ingest_request(intake, principal, kind, decoded, limits)
        except ApiError as error:
            return status_response(error, content_type)
        encoding = media_type(content_type)
        body = encode_response(kind.name, outcome.rejected, outcome.message, encoding)
        return Response(body, 200, headers=outcome.headers, media_type=encoding if encoding == JSON else PROTOBUF)

    for prefix in ("", LANGFUSE_OTLP_PREFIX):
        for signal in SIGNALS:
            # The aliases stay out of the OpenAPI document: the same operation, described once (api/openapi.py).
            router.add_api_route(f"{prefix}/v1/{signal}", _endpoint(receive, signal), methods=["POST"],
                                 name=f"otlp_{signal}" if not prefix else f"langfuse_otlp_{signal}",
                                 include_in_schema=not prefix)
    return router


def _endpoint(receive: Callable[[Request, str], Awaitable[Response]],
              signal: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await receive(request, signal)

    return endpoint

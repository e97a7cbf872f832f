"""Sending recorded export requests to a real server, and reading a project's events back."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import grpc
import httpx
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.exporters.live import Backend
from tests.interop.captures import Request
from tests.interop.truth import Truth, problems

SETTLE_LIMIT_S = 20.0
STABLE_READS = 4  # unchanged reads, 0.25 s apart, after which the project counts as settled


def replay(base_url: str, api_key: str, requests: list[Request]) -> None:
    """Each request exactly as recorded (body, content type, encoding), one after the other."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for request in requests:
            headers = {"authorization": f"Bearer {api_key}", "content-type": request.content_type}
            if request.content_encoding:
                headers["content-encoding"] = request.content_encoding
            response = client.post(f"/v1/{request.signal}", content=request.body, headers=headers)
            assert response.status_code < 300, (response.status_code, response.text)


GRPC_METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}


MESSAGES: dict[str, type[Message]] = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
                                      "metrics": ExportMetricsServiceRequest}
_ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def _hex_ids_as_base64(node: Any) -> Any:
    """OTLP/JSON writes ids as hex; proto3 JSON reads `bytes` fields as base64."""
    if isinstance(node, dict):
        return {key: base64.b64encode(bytes.fromhex(value)).decode() if key in _ID_FIELDS and isinstance(value, str)
                else _hex_ids_as_base64(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_hex_ids_as_base64(item) for item in node]
    return node


def protobuf_body(request: Request) -> bytes:
    """The request as gRPC carries it: uncompressed protobuf (an OTLP/JSON body transcoded, field for field)."""
    body = gzip.decompress(request.body) if request.content_encoding == "gzip" else request.body
    if "protobuf" in request.content_type:
        return body
    message = MESSAGES[request.signal]()
    ParseDict(_hex_ids_as_base64(json.loads(body)), message)
    return message.SerializeToString()


def replay_alternating(base_url: str, grpc_port: int, api_key: str, requests: list[Request]) -> None:
    """Every other request over OTLP/gRPC (the same export as protobuf), the rest over HTTP: one app, two
    transports."""
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        for n, request in enumerate(requests):
            if n % 2 == 0:
                replay(base_url, api_key, [request])
                continue
            body = protobuf_body(request)
            export = channel.unary_unary(GRPC_METHODS[request.signal])
            export(body, metadata=[("authorization", f"Bearer {api_key}")], timeout=60)


def settled_problems(base_url: str, api_key: str, truth: Truth) -> list[str]:
    """The differences once the project's events match or stop changing (exports are durable at their 2xx,
    but a server may apply joins of late content after answering)."""
    deadline = time.monotonic() + SETTLE_LIMIT_S
    previous: list[dict[str, Any]] | None = None
    unchanged = 0
    while True:
        events = Backend(base_url, api_key, timeout=30).events()
        found = problems(truth, events)
        unchanged = unchanged + 1 if events == previous else 0
        if not found or unchanged >= STABLE_READS or time.monotonic() > deadline:
            return found
        previous = events
        time.sleep(0.25)

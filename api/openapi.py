"""The served OpenAPI document, completed for the endpoints that read their bodies themselves.

The ingest receivers parse raw bytes (size caps, protobuf, gzip), so FastAPI cannot see their bodies. This
adds, in one place, the request bodies (from the same pydantic models the receivers validate with),
success answers and every error answer, plus the key's security schemes (Bearer, or Basic), so generated
clients and schema-driven testers (schemathesis) see the real contract.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from phosphobs.collector.native import IngestBatch, IngestEvent
from phosphobs.collector.receivers.feedback_http import FeedbackIn
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "examples": ["validation_error"]},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object"},
                    "description": "for 422: one entry per invalid field, with its path in `loc`"},
    }}},
}
RPC_STATUS = {  # google.rpc.Status, the OTLP/HTTP error body (JSON, or protobuf when the request was protobuf)
    "type": "object",
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"},
                   "details": {"type": "array", "items": {"type": "object"}}},
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
RATE_HEADERS = {name: {"schema": {"type": "integer"}} for name in
                ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")}
ERRORS = {
    "400": "malformed body (not JSON / not decodable protobuf, bad gzip)",
    "401": "missing, unknown or revoked API key",
    "403": "the body names another project than the key's",
    "413": "body over the size limit",
    "415": "unsupported content type or encoding",
    "422": "invalid fields (each with its path)",
    "429": "over the project's rate limit (retry after Retry-After)",
    "503": "overloaded or storage unavailable (retry after Retry-After)",
}
OTLP_SIGNALS = {
    "/v1/traces": ("resourceSpans", "ExportTraceServiceResponse", "rejectedSpans"),
    "/v1/logs": ("resourceLogs", "ExportLogsServiceResponse", "rejectedLogRecords"),
    "/v1/metrics": ("resourceMetrics", "ExportMetricsServiceResponse", "rejectedDataPoints"),
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(content: dict[str, Any], codes: tuple[str, ...] = tuple(ERRORS)) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for code in codes:
        answers[code] = {"description": ERRORS[code], "content": content}
        if code in ("429", "503"):
            answers[code]["headers"] = RETRY_AFTER
    return answers


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _native(schema: dict[str, Any]) -> None:
    paths, error = schema["paths"], _json(_ref("Error"))
    created = {"type": "object", "required": ["event_id", "status"], "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["created", "duplicate"]}}}
    batch = {"type": "object", "required": ["results", "created", "duplicates"], "properties": {
        "results": {"type": "array", "items": created}, "created": {"type": "integer"},
        "duplicates": {"type": "integer"}}}
    recorded = {"type": "object", "properties": {"event_id": {"type": "string"}, "flag": {"type": "string"},
                                                 "status": {"type": "string", "enum": ["recorded"]}}}
    for path, body, answer, ok_codes in (
        ("/api/ingest", "IngestEvent", created, {"201": "stored", "200": "a duplicate of a stored event_id"}),
        ("/api/ingest/batch", "IngestBatch", batch, {"201": "at least one event stored", "200": "all duplicates"}),
        ("/api/feedback", "FeedbackIn", recorded, {"201": "recorded (even before its event arrives)"}),
    ):
        operation = paths[path]["post"]
        operation["requestBody"] = {"required": True, "content": _json(_ref(body))}
        operation["responses"] = {
            **{code: {"description": text, "content": _json(answer), "headers": RATE_HEADERS}
               for code, text in ok_codes.items()},
            **_errors(error),
        }


def _otlp(schema: dict[str, Any]) -> None:
    error = {"application/json": {"schema": _ref("RpcStatus")},
             "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}}
    for path, (field, response, rejected) in OTLP_SIGNALS.items():
        json_body = {"type": "object", "description": f"OTLP/JSON Export request ({field})",
                     "properties": {field: {"type": "array", "items": {"type": "object"}}}}
        answer = {"type": "object", "properties": {"partialSuccess": {"type": "object", "properties": {
            rejected: {"type": "string", "description": "int64 as a string (OTLP/JSON)"},
            "errorMessage": {"type": "string"}}}}}
        operation = schema["paths"][path]["post"]
        operation["description"] = ("OTLP/HTTP export: protobuf or JSON, optionally `Content-Encoding: gzip`. "
                                    "Records that cannot be used are counted in partialSuccess. Also served "
                                    f"at `/api/public/otel{path}`, where Langfuse SDKs and exporters send.")
        operation["parameters"] = [{"name": "Content-Encoding", "in": "header", "required": False,
                                    "schema": {"type": "string", "enum": ["gzip", "identity"]}}]
        request = response.replace("Response", "Request")
        operation["requestBody"] = {"required": True, "content": {
            "application/x-protobuf": {"schema": {"type": "string", "format": "binary",
                                                  "description": f"serialized {request}"}},
            "application/json": {"schema": json_body},
        }}
        operation["responses"] = {
            "200": {"description": f"accepted ({response}; partialSuccess when some records were rejected)",
                    "content": {"application/json": {"schema": answer},
                                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(error, ("400", "401", "403", "413", "415", "429", "503")),
        }


def _reads_and_security(schema: dict[str, Any]) -> None:
    error = _json(_ref("Error"))
    for path, item in schema["paths"].items():
        if not path.startswith(("/api/", "/v1/")):
            continue
        for method, operation in item.items():
            operation["security"] = [{"apiKey": []}, {"basicKey": []}]
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": ERRORS["401"], "content": error})
            if method == "get":
                responses["422"] = {"description": "invalid query parameter or cursor (each with its path)",
                                    "content": error}
                if "{" in path:
                    responses.setdefault("404", {"description": "not found in this project", "content": error})


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _, models = models_json_schema([(IngestEvent, "validation"), (IngestBatch, "validation"),
                                    (FeedbackIn, "validation")], ref_template=REF)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update({**models["$defs"], "Error": ERROR, "RpcStatus": RPC_STATUS})
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "a project API key, ph_…"},
        "basicKey": {"type": "http", "scheme": "basic",
                     "description": "any user name and the project API key as the password (what Langfuse-style "
                                    "exporters send as public and secret key)"},
    }
    _reads_and_security(schema)
    _native(schema)
    _otlp(schema)
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

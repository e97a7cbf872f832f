"""OTLP/HTTP request bodies to protobuf messages, and responses back in the request's encoding.

Pure functions. Accepts `application/x-protobuf` and OTLP/JSON, identity/gzip/deflate, and caps the
size *after* decompression (incrementally, so a gzip bomb costs at most the cap in memory).
OTLP/JSON is not stock proto3 JSON: ids are hex, so they are rewritten before `ParseDict`.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any, Literal, TypeVar

from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from phosphobs.collector.otlp.surrogates import without_lone_surrogates

Signal = Literal["traces", "logs", "metrics"]
M = TypeVar("M", bound=Message)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = {PROTOBUF, "application/protobuf", "application/vnd.google.protobuf"}
_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
_CHUNK = 64 * 1024


class OtlpDecodeError(Exception):
    """Base of the decode errors; `status` is the HTTP status a receiver should answer."""

    status = 400


class UnsupportedMediaType(OtlpDecodeError):
    """Content-Type or Content-Encoding we do not speak (415)."""

    status = 415


class PayloadTooLarge(OtlpDecodeError):
    """Body larger than the cap once decompressed (413)."""

    status = 413


class UndecodablePayload(OtlpDecodeError):
    """Body that does not parse as the declared format (400, not retried)."""

    status = 400


def media_type(content_type: str | None) -> str:
    """`application/json` or `application/x-protobuf`; raises UnsupportedMediaType otherwise."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in _PROTOBUF_TYPES:
        return PROTOBUF
    if base == JSON or (base.startswith("application/") and base.endswith("+json")):
        return JSON
    shown = content_type or "none"
    raise UnsupportedMediaType(f"unsupported Content-Type {shown!r}; send {PROTOBUF} or {JSON}")


def decompress(body: bytes, content_encoding: str | None, max_decompressed: int) -> bytes | bytearray:
    """The body without Content-Encoding, refusing to produce more than `max_decompressed` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("identity", ""):
        data = body
    elif encoding in ("gzip", "x-gzip"):
        data = _inflate(body, zlib.MAX_WBITS | 16, max_decompressed)
    elif encoding == "deflate":
        try:
            data = _inflate(body, zlib.MAX_WBITS, max_decompressed)
        except UndecodablePayload:  # some clients send raw deflate without the zlib header
            data = _inflate(body, -zlib.MAX_WBITS, max_decompressed)
    else:
        raise UnsupportedMediaType(f"unsupported Content-Encoding {content_encoding!r}; send gzip, deflate or none")
    if len(data) > max_decompressed:
        raise PayloadTooLarge(f"request body is larger than the limit of {max_decompressed} bytes")
    return data


def _inflate(body: bytes, wbits: int, cap: int) -> bytearray:
    out = bytearray()
    pending = body
    try:
        while pending:  # gzip allows several concatenated members
            inflater = zlib.decompressobj(wbits)
            chunk = pending
            while chunk:
                out += inflater.decompress(chunk, cap + 1 - len(out))
                if len(out) > cap:
                    raise PayloadTooLarge(f"decompressed request body exceeds the limit of {cap} bytes")
                chunk = inflater.unconsumed_tail
            out += inflater.flush(cap + 1 - len(out))
            if len(out) > cap:
                raise PayloadTooLarge(f"decompressed request body exceeds the limit of {cap} bytes")
            if not inflater.eof:
                raise UndecodablePayload("compressed request body is truncated")
            pending = inflater.unused_data if wbits & 16 else b""
    except zlib.error as exc:
        raise UndecodablePayload(
            f"request body is not valid {'gzip' if wbits & 16 else 'deflate'} data: {exc}"
        ) from exc
    return out  # not copied into bytes: the parsers read a bytearray, and it may be tens of MB


def decode_traces(
    body: bytes, content_type: str, content_encoding: str | None, max_decompressed: int
) -> ExportTraceServiceRequest:
    """A `/v1/traces` body as an ExportTraceServiceRequest."""
    return _decode(ExportTraceServiceRequest(), body, content_type, content_encoding, max_decompressed)


def decode_logs(
    body: bytes, content_type: str, content_encoding: str | None, max_decompressed: int
) -> ExportLogsServiceRequest:
    """A `/v1/logs` body as an ExportLogsServiceRequest."""
    return _decode(ExportLogsServiceRequest(), body, content_type, content_encoding, max_decompressed)


def decode_metrics(
    body: bytes, content_type: str, content_encoding: str | None, max_decompressed: int
) -> ExportMetricsServiceRequest:
    """A `/v1/metrics` body as an ExportMetricsServiceRequest (we only count its points)."""
    return _decode(ExportMetricsServiceRequest(), body, content_type, content_encoding, max_decompressed)


def _decode(message: M, body: bytes, content_type: str, content_encoding: str | None, cap: int) -> M:
    kind = media_type(content_type)  # checked first: a wrong type is 415 whatever the body
    data = decompress(body, content_encoding, cap)
    name = type(message).__name__
    if kind == PROTOBUF:
        try:
            message.ParseFromString(data)
        except (DecodeError, ValueError, RuntimeError) as exc:
            raise UndecodablePayload(f"request body is not a valid protobuf {name}: {exc}") from exc
        return message
    try:
        document = json.loads(data) if data.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UndecodablePayload(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UndecodablePayload(f"OTLP/JSON body must be an object ({name}), got {type(document).__name__}")
    try:
        ParseDict(_hex_ids_to_base64(document), message, ignore_unknown_fields=True)
    except (ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise UndecodablePayload(f"request body is not a valid OTLP/JSON {name}: {exc}") from exc
    return message


def _hex_ids_to_base64(node: Any) -> Any:
    """Rewrite OTLP/JSON hex ids into the base64 that proto3 JSON expects for `bytes` fields.

    Attribute keys never appear as JSON object keys (they are `{"key": ...}` entries), so only real
    id fields match. An id that is not hex keeps its raw bytes; the normalizer rejects it by length.
    Lone surrogates in strings (valid JSON escapes that protobuf refuses) become U+FFFD on the way, and
    an `intValue` beyond int64 becomes its `stringValue`, so one odd attribute never costs the request.
    """
    if isinstance(node, str):
        return without_lone_surrogates(node)
    if isinstance(node, list):
        return [_hex_ids_to_base64(item) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and _out_of_int64(node.get("intValue", node.get("int_value"))):
        return {"stringValue": str(next(iter(node.values())))}  # kept, digit for digit, not refused
    out: dict[str, Any] = {}
    for key, value in node.items():
        key = without_lone_surrogates(key)
        if key in _ID_KEYS and isinstance(value, str):
            out[key] = base64.b64encode(_id_bytes(value)).decode("ascii")
        else:
            out[key] = _hex_ids_to_base64(value)
    return out


def _out_of_int64(value: Any) -> bool:
    """An AnyValue `intValue` that int64 cannot hold (proto3 JSON sends int64 as a string or a number)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        number = int(value) if isinstance(value, int | str) else int(float(value))
    except (ValueError, OverflowError):
        return False  # not a number at all: the parser says so
    return not -(2**63) <= number < 2**63


def _id_bytes(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:  # lenient: a sender using stock proto3 JSON (base64 ids)
        raw = base64.b64decode(text, validate=True)
        if len(raw) in (8, 16):
            return raw
    except (binascii.Error, ValueError):
        pass
    return text.encode("utf-8", "replace")


def count_spans(request: ExportTraceServiceRequest) -> int:
    """Spans in a request, for partial-success accounting."""
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def count_log_records(request: ExportLogsServiceRequest) -> int:
    """Log records in a request."""
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def count_data_points(request: ExportMetricsServiceRequest) -> int:
    """Metric data points in a request, whatever the metric type."""
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                which = metric.WhichOneof("data")
                if which is not None:
                    total += len(getattr(metric, which).data_points)
    return total


_RESPONSES: dict[str, tuple[type[Message], type[Message], str]] = {
    "traces": (ExportTraceServiceResponse, ExportTracePartialSuccess, "rejected_spans"),
    "logs": (ExportLogsServiceResponse, ExportLogsPartialSuccess, "rejected_log_records"),
    "metrics": (ExportMetricsServiceResponse, ExportMetricsPartialSuccess, "rejected_data_points"),
}


def encode_response(kind: Signal, partial_success_rejected: int, error_message: str, content_type: str) -> bytes:
    """An Export*ServiceResponse in the request's encoding; partial_success left unset on full success."""
    response_cls, partial_cls, field_name = _RESPONSES[kind]
    response = response_cls()
    if partial_success_rejected or error_message:
        partial = partial_cls(**{field_name: partial_success_rejected, "error_message": error_message})
        response.partial_success.CopyFrom(partial)
    if media_type(content_type) == JSON:
        return json.dumps(MessageToDict(response), separators=(",", ":")).encode("utf-8")
    return response.SerializeToString()

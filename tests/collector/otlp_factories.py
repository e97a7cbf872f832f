"""Builders for synthetic OTLP requests (real opentelemetry-proto messages) for dialects without fixtures."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
_ids = itertools.count(1)


def new_trace_id() -> bytes:
    return os.urandom(8) + next(_ids).to_bytes(8, "big")


def new_span_id() -> bytes:
    return next(_ids).to_bytes(8, "big")


def any_value(value: Any) -> AnyValue:
    """A Python value as AnyValue (None → the empty AnyValue that means null)."""
    if value is None:
        return AnyValue()
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Mapping):
        out = AnyValue()
        out.kvlist_value.values.extend(key_values(value))
        return out
    out = AnyValue()
    out.array_value.values.extend(any_value(item) for item in value)
    return out


def key_values(attrs: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attrs.items()]


def make_span(
    name: str,
    attrs: Mapping[str, Any] | None = None,
    *,
    trace_id: bytes | None = None,
    span_id: bytes | None = None,
    parent: Span | None = None,
    start_ns: int = BASE_NS,
    duration_ms: float = 100.0,
    error: str | None = None,
    events: Sequence[tuple[str, Mapping[str, Any]]] = (),
    kind: int = Span.SPAN_KIND_CLIENT,
) -> Span:
    """A span; `parent` puts it in the parent's trace under the parent span."""
    span = Span(
        trace_id=trace_id or (parent.trace_id if parent else new_trace_id()),
        span_id=span_id if span_id is not None else new_span_id(),
        parent_span_id=parent.span_id if parent else b"",
        name=name,
        kind=kind,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=start_ns + int(duration_ms * 1_000_000),
    )
    span.attributes.extend(key_values(attrs or {}))
    for offset, (event_name, event_attrs) in enumerate(events):
        event = span.events.add(name=event_name, time_unix_nano=start_ns + offset + 1)
        event.attributes.extend(key_values(event_attrs))
    if error is not None:
        span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=error))
    return span


def traces_request(
    spans: Sequence[Span],
    *,
    resource: Mapping[str, Any] | None = None,
    scope: tuple[str, str] = ("test.instrumentation", "1.0"),
) -> ExportTraceServiceRequest:
    res = Resource()
    res.attributes.extend(key_values(resource or {"service.name": "synthetic"}))
    scope_spans = ScopeSpans(scope=InstrumentationScope(name=scope[0], version=scope[1]), spans=list(spans))
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=res, scope_spans=[scope_spans])])


def make_log(
    span: Span,
    event_name: str,
    body: Any = None,
    attrs: Mapping[str, Any] | None = None,
    *,
    time_ns: int = 0,
    observed_ns: int = 0,
    name_as_attribute: bool = False,
) -> LogRecord:
    """A log record joined to `span`; the event name goes in the field or in `event.name`."""
    record = LogRecord(
        trace_id=span.trace_id,
        span_id=span.span_id,
        time_unix_nano=time_ns,
        observed_time_unix_nano=observed_ns,
        event_name="" if name_as_attribute else event_name,
    )
    all_attrs = dict(attrs or {})
    if name_as_attribute:
        all_attrs["event.name"] = event_name
    record.attributes.extend(key_values(all_attrs))
    if body is not None:
        record.body.CopyFrom(any_value(body))
    return record


def logs_request(records: Sequence[LogRecord]) -> ExportLogsServiceRequest:
    scope_logs = ScopeLogs(scope=InstrumentationScope(name="test.logs"), log_records=list(records))
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=Resource(), scope_logs=[scope_logs])])

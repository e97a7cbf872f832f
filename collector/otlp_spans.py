"""One OTLP span to its normalized Event (when it is a call) and its TraceHint (when it names a session/user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from phosphobs.collector import otlp_fields as fields
from phosphobs.collector.otlp_attributes import Attrs, SpanAttrs, key_values, parse_json
from phosphobs.collector.otlp_content import SpanContent, embedding_content, llm_content, tool_content
from phosphobs.collector.otlp_content_events import content_fields, event_name, order_key
from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import Event, EventPatch, Kind, TraceHint, otlp_event_id

_SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
# Custom metadata that users attach through their SDK; the prefix is dropped (doc §1 metadata row).
_CUSTOM_PREFIXES = (
    "langfuse.trace.metadata", "langfuse.observation.metadata", "ai.telemetry.metadata",
    "traceloop.association.properties", "metadata",
)  # fmt: skip


@dataclass(slots=True)
class SpanIds:
    trace_id: str
    span_id: str
    parent_span_id: str | None


@dataclass(slots=True)
class ConvertedSpan:
    """A span after normalization: maybe an event, maybe a hint, always its ids (for nesting)."""

    ids: SpanIds
    event: Event | None
    hint: TraceHint | None


def convert_span(span: Span, ids: SpanIds, resource: Attrs, scope: InstrumentationScope, now_us: int) -> ConvertedSpan:
    """Normalize one span that already passed id validation."""
    a = SpanAttrs(key_values(span.attributes), resource)
    start_us = _start_us(span, now_us)
    session, user = fields.session_id(a), fields.user_id(a)
    hint = TraceHint(ids.trace_id, start_us, session, user) if session or user else None
    kind = fields.classify(span.name, a)
    if kind is None or fields.is_pending_duplicate(a):
        return ConvertedSpan(ids, None, hint)
    event = _event(span, ids, kind, a, scope, start_us)
    event.session_id, event.user_id = session, user
    return ConvertedSpan(ids, _with_span_events(event, span), hint)


def _start_us(span: Span, now_us: int) -> int:
    nanos = span.start_time_unix_nano or span.end_time_unix_nano
    return nanos // 1000 if nanos else now_us


def _event(span: Span, ids: SpanIds, kind: Kind, a: SpanAttrs, scope: InstrumentationScope, start_us: int) -> Event:
    content: SpanContent
    if kind == "tool":
        content = tool_content(a)
    elif kind == "embedding":
        content = embedding_content(a)
    else:
        content = llm_content(a)
    model, request_model, response_model = fields.models(a)
    tokens_in, tokens_out = fields.tokens(a)
    cost = fields.cost_cents(a)
    error = _error(span, a)
    event = Event(
        event_id=otlp_event_id(ids.trace_id, ids.span_id),
        input=content.input or "",
        output=content.output or "",
        timestamp_us=start_us,
        model=model if kind != "tool" else None,
        provider=fields.provider(a),
        latency_ms=_latency_ms(span, a),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_cents=cost,
        cost_source="reported" if cost is not None else None,
        tags=fields.tags(a),
        source="otlp",
        kind=kind,
        status="error" if error else "ok",
        error_type=error.get("type") if error else None,
        flag="failure" if error else None,
        trace_id=ids.trace_id,
        span_id=ids.span_id,
        parent_span_id=ids.parent_span_id,
    )
    event.metadata = _metadata(span, a, scope, content, request_model, response_model, error, kind)
    return event


def _latency_ms(span: Span, a: SpanAttrs) -> float | None:
    if span.start_time_unix_nano and span.end_time_unix_nano >= span.start_time_unix_nano:
        return (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
    finish = a.attrs.get("ai.response.msToFinish")
    return float(finish) if isinstance(finish, int | float) and not isinstance(finish, bool) else None


def _error(span: Span, a: SpanAttrs) -> dict[str, Any] | None:
    """Type and message of a failed call (status ERROR), from error.type or the exception event."""
    if span.status.code != Status.STATUS_CODE_ERROR:
        return None
    exception = next((key_values(e.attributes) for e in span.events if e.name == "exception"), {})
    error_type = a.get("error.type") or exception.get("exception.type") or "error"
    message = span.status.message or exception.get("exception.message")
    error_type = str(error_type)
    if error_type.startswith("<class '") and error_type.endswith("'>"):  # str(type(exc)) sent verbatim
        error_type = error_type[len("<class '") : -len("'>")]
    return {k: v for k, v in {"type": error_type, "message": message}.items() if v}


def _metadata(
    span: Span,
    a: SpanAttrs,
    scope: InstrumentationScope,
    content: SpanContent,
    request_model: str | None,
    response_model: str | None,
    error: dict[str, Any] | None,
    kind: Kind,
) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if content.input_messages:
        meta["input_messages"] = content.input_messages
    if content.output_messages:
        meta["output_messages"] = content.output_messages
    if content.system:
        meta["system"] = content.system
    if content.tool_calls:
        meta["tool_calls"] = content.tool_calls
    request = dict(a.prefixed("gen_ai.request"))
    invocation = parse_json(a.get("llm.invocation_parameters"))
    for key, value in (invocation if isinstance(invocation, dict) else {}).items():
        request.setdefault(key, value)
    if request_model:
        request["model"] = request_model
    response = {
        "model": response_model,
        "id": a.first("gen_ai.response.id", "ai.response.id"),
        "finish_reasons": parse_json(
            a.first("gen_ai.response.finish_reasons", "llm.finish_reason", "ai.response.finishReason")
        ),
    }
    section = {"request": request, "response": response, "usage": fields.usage_extras(a), "error": error}
    if kind == "tool":
        section["tool"] = {
            "name": a.first("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "traceloop.entity.name"),
            "call_id": a.first("gen_ai.tool.call.id", "ai.toolCall.id"),
            "type": a.get("gen_ai.tool.type"),
            "description": a.first("gen_ai.tool.description", "tool.description"),
        }
    for key, value in section.items():
        cleaned = {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
        if cleaned:
            meta[key] = cleaned
    environment = fields.environment(a)
    if environment:
        meta["environment"] = environment
    meta["span"] = {"name": span.name, "kind": _SPAN_KINDS.get(span.kind, str(span.kind))}
    if span.status.message and not error:
        meta["span"]["status_message"] = span.status.message
    meta["scope"] = {k: v for k, v in {"name": scope.name, "version": scope.version}.items() if v}
    meta["resource"] = a.resource
    custom = _custom(a)
    if custom:  # nested: top-level `user_id`-like keys mean something else for native events
        meta["custom"] = custom
    meta["attributes"] = a.unmapped()
    return meta


def _custom(a: SpanAttrs) -> dict[str, Any]:
    found: dict[str, Any] = {}
    oi_metadata = parse_json(a.get("metadata"))
    if isinstance(oi_metadata, dict):
        found.update(oi_metadata)
    for prefix in _CUSTOM_PREFIXES:
        for key, value in a.prefixed(prefix).items():
            found.setdefault(key, parse_json(value))
    return found


def _with_span_events(event: Event, span: Span) -> Event:
    """Content carried as span events (G0 `gen_ai.content.*`, G2-style, Logfire `events`) fills gaps."""
    patches: list[EventPatch] = []
    items: list[tuple[int, str, Attrs, Any]] = [
        (e.time_unix_nano, e.name, key_values(e.attributes), None) for e in span.events
    ]
    for legacy_key in ("events", "all_messages_events"):  # older Logfire/pydantic-ai: G2 events as a JSON attribute
        listed = parse_json(event.metadata.get("attributes", {}).get(legacy_key))
        for position, item in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(item, dict):
                items.append((span.start_time_unix_nano + position, str(item.get("event.name", "")), {}, item))
    for time_nanos, name, attrs, body in items:
        found = content_fields(event_name(name, attrs), attrs, body)
        if found:
            key = order_key(time_nanos, name, found)
            patches.append(EventPatch(event.event_id, event.trace_id or "", event.span_id or "", key, found))
    return apply_patches(event, patches) if patches else event

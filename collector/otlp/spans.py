"""One OTLP span to its normalized Event (when it is a call) and its TraceHint (when it names a session/user)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from phosphobs.collector.otlp import fields, litellm_raw
from phosphobs.collector.otlp.attributes import Attrs, KeyShape, SpanAttrs, key_values, parse_json
from phosphobs.collector.otlp.content import SpanContent, embedding_content, llm_content, tool_content
from phosphobs.collector.otlp.content_events import content_fields, event_name, order_key
from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import (
    OTLP_EVENT_NAMESPACE,
    Event,
    EventPatch,
    Kind,
    SpanKind,
    TraceHint,
    otlp_event_id,
)

_SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
# Custom metadata that users attach through their SDK; the prefix is dropped (doc §1 metadata row).
_CUSTOM_PREFIXES = (
    "langfuse.trace.metadata", "langfuse.observation.metadata", "ai.telemetry.metadata",
    "traceloop.association.properties", "metadata",
)  # fmt: skip
_FINISH_REASONS = ("gen_ai.response.finish_reasons", "llm.finish_reason", "ai.response.finishReason")
_RESPONSE_IDS = ("gen_ai.response.id", "ai.response.id")
_INVOCATION = "llm.invocation_parameters"
_LEGACY_EVENTS = ("events", "all_messages_events")


@dataclass(slots=True)
class ConvertedSpan:
    """A span's ids (for nesting) and what normalization made of it: maybe an event, maybe a hint.

    The caller creates it with the ids and `convert_span` fills it in: one object a span, not two.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    event: Event | None = None
    hint: TraceHint | None = None
    # Spans that are no call keep what the span tree (`otlp/tree.py`) needs to make a record of them:
    span: Span | None = None
    attrs: SpanAttrs | None = None
    kind: SpanKind | None = None  # agent, workflow, …; None for a plain (HTTP, DB, …) span
    placeholder: bool = False  # Logfire's pending span: neither an event nor part of the tree
    history: Any = None  # a failed agent span's message history, raw: its failed call's input may be only there


def convert_span(span: Span, out: ConvertedSpan, resource: Attrs, scope: Attrs, now_us: int) -> ConvertedSpan:
    """Normalize one span that already passed id validation into `out` (holding its ids), and return it.

    `scope` is `scope_metadata` of the span's scope.
    """
    a = SpanAttrs(key_values(span.attributes), resource)
    plan: _Plan = a.shape.plan(_Plan, _Plan)
    start_ns, end_ns = span.start_time_unix_nano, span.end_time_unix_nano
    nanos = start_ns or end_ns
    start_us = nanos // 1000 if nanos else now_us
    session, user = fields.session_id(a), fields.user_id(a)
    if session or user:
        out.hint = TraceHint(out.trace_id, start_us, session, user)
    kind = fields.classify(span.name, a)
    named = None
    if kind is None and span.status.code == Status.STATUS_CODE_ERROR:
        named = fields.bare_failed_call(span.name, a, str(scope.get("name") or ""))
        if named is not None:
            a = SpanAttrs({**a.attrs, **named}, resource)
            plan = a.shape.plan(_Plan, _Plan)
            kind = fields.classify(span.name, a)
    if kind == "llm" and span.status.code != Status.STATUS_CODE_ERROR and fields.is_openinference_helper_step(a):
        kind = None  # an LLM object's helper method, not a request: a node of the tree, no event
    if kind is None or fields.is_pending_duplicate(a):
        if fields.is_pending_duplicate(a):
            out.placeholder = True
            return out
        history = a.attrs.get("pydantic_ai.all_messages")
        if history is not None and span.status.code == Status.STATUS_CODE_ERROR:  # a run a failed call ended
            out.history = history
        out.span, out.attrs, out.kind = span, a, fields.wrapper_kind(span.name, a)
        return out
    polluted = litellm_raw.CALL_ID in a.attrs and litellm_raw.wrote_onto_app_span(a.attrs, scope, span.name)
    if polluted and not litellm_raw.last_call_failed(a.attrs):
        out.span, out.attrs, out.kind = span, a, "other"  # no event, but part of the tree
        return out  # an app span LiteLLM wrote its last call onto: that call is the span's raw child
    latency_ms = (end_ns - start_ns) / 1e6 if start_ns and end_ns >= start_ns else _reported_latency_ms(a)
    event = _event(span, out, kind, a, plan, scope, start_us, latency_ms)
    if polluted:
        event = litellm_raw.as_failed_call(event, a.attrs)
        out.span, out.attrs, out.kind = span, a, "other"  # the app span stays in the tree, over its call
    event.session_id = None if session is not None and fields.session_is_library_default(a) else session
    event.user_id = user
    if plan.legacy_events or span.events:  # the usual span carries no content beside its attributes
        event = _with_span_events(event, span)
    if span.name == litellm_raw.SPAN_NAME:
        litellm_raw.fill_from_raw(event, a.attrs)
    if named is not None:
        event.metadata["from_span_name"] = named  # not sent as attributes: read from the span's name
    out.event = event
    return out


class _Plan:
    """Which optional readers spans of one key shape need, worked out once per KeyShape.

    A reader none of whose keys a span has would return its empty default and mark nothing as
    mapped, so skipping it changes nothing; most spans lack most dialects' optional keys.
    """

    __slots__ = ("cost", "custom", "finish_reasons", "invocation", "legacy_events", "response_id", "tags", "usage")

    def __init__(self, shape: KeyShape) -> None:
        keys = frozenset(shape.keys)
        self.cost = not keys.isdisjoint(fields.COST_KEYS)
        self.tags = fields.has_tags(shape)
        self.usage = not keys.isdisjoint(fields.USAGE_EXTRA_KEYS)
        self.custom = "metadata" in keys or any(shape.under(prefix) for prefix in _CUSTOM_PREFIXES)
        self.invocation = _INVOCATION in keys
        self.response_id = bool(shape.present(_RESPONSE_IDS))
        self.finish_reasons = bool(shape.present(_FINISH_REASONS))
        self.legacy_events = not keys.isdisjoint(_LEGACY_EVENTS)  # never mapped: present means unmapped


def scope_metadata(scope: InstrumentationScope) -> Attrs:
    """The `scope` metadata section, computed once per ScopeSpans (each event gets a copy)."""
    return {key: value for key, value in {"name": scope.name, "version": scope.version}.items() if value}


def _uuid5_event_id(trace_id: str, span_id: str) -> str:
    """`otlp_event_id` (a UUID5) without building a `uuid.UUID`, which costs more than the hashing.

    The version and variant bits are set on the hex text: digit 12 becomes `5`, digit 16 one of `89ab`.
    """
    text = _sha1(_NAMESPACE + f"{trace_id}:{span_id}".lower().encode()).hexdigest()
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


_NAMESPACE = OTLP_EVENT_NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}  # RFC 4122: top bits 10
_sha1 = hashlib.sha1
_PROBE = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
# Storage owns the id scheme: should it ever change, follow it rather than diverge from log patches.
event_id = _uuid5_event_id if _uuid5_event_id(*_PROBE) == otlp_event_id(*_PROBE) else otlp_event_id


def _event(
    span: Span,
    ids: ConvertedSpan,
    kind: Kind,
    a: SpanAttrs,
    plan: _Plan,
    scope: Attrs,
    start_us: int,
    latency_ms: float | None,
) -> Event:
    content: SpanContent
    if kind == "tool":
        content = tool_content(a)
    elif kind == "embedding":
        content = embedding_content(a)
    else:
        content = llm_content(a)
    model, request_model, response_model = fields.models(a)
    tokens_in, tokens_out = fields.tokens(a)
    cost = fields.cost_cents(a) if plan.cost else None
    if cost == 0 and (tokens_in or tokens_out):
        cost = None  # OpenLIT reports 0 for any model it has no price for: unknown, so estimated instead
    status = span.status  # read once: each access of a protobuf sub-message builds a wrapper
    error = _error(span, status, a) if fields.failed(status.code, a) else None
    model, provider = fields.model_and_provider(model, fields.provider(a, model))
    tags = fields.tags(a) if plan.tags else []
    # After every other reader: metadata keeps the attributes that none of them mapped.
    meta = _metadata(span, status, a, plan, scope, content, request_model, response_model, error, kind)
    return _new_event(  # by position, in `_EVENT_FIELDS` order
        event_id(ids.trace_id, ids.span_id),
        content.input or "",  # input
        content.output or "",  # output
        start_us,  # timestamp_us
        None,  # session_id: set by the caller
        None,  # user_id
        model if kind != "tool" else None,
        provider,
        latency_ms,
        tokens_in,
        tokens_out,
        cost,  # cost_cents
        "reported" if cost is not None else None,  # cost_source
        tags,
        meta,  # metadata
        "otlp",  # source
        kind,
        "error" if error else "ok",  # status
        error.get("type") if error else None,  # error_type
        "failure" if error else None,  # flag
        ids.trace_id,
        ids.span_id,
        ids.parent_span_id,
    )


# Event(**fields) costs about 2.5x a positional call (keyword matching over all its fields), once a span.
# Storage owns the model: should its fields no longer be these, in this order, events are built by name.
_EVENT_FIELDS = (
    "event_id", "input", "output", "timestamp_us", "session_id", "user_id", "model", "provider", "latency_ms",
    "tokens_in", "tokens_out", "cost_cents", "cost_source", "tags", "metadata", "source", "kind", "status",
    "error_type", "flag", "trace_id", "span_id", "parent_span_id",
)  # fmt: skip


def _event_by_name(*values: Any) -> Event:
    return Event(**dict(zip(_EVENT_FIELDS, values, strict=True)))


_new_event: Callable[..., Event] = (
    Event if tuple(f.name for f in dataclass_fields(Event)) == _EVENT_FIELDS else _event_by_name
)


def _reported_latency_ms(a: SpanAttrs) -> float | None:
    """Vercel's own duration, for spans without usable timestamps."""
    finish = a.attrs.get("ai.response.msToFinish")
    return float(finish) if isinstance(finish, (int, float)) and not isinstance(finish, bool) else None


def _error(span: Span, status: Status, a: SpanAttrs) -> dict[str, Any]:
    """Type and message of a failed call, from error.type or the exception event (or Langfuse's status message)."""
    exception = next((key_values(e.attributes) for e in span.events if e.name == "exception"), {})
    error_type = a.get("error.type") or exception.get("exception.type") or "error"
    message = status.message or exception.get("exception.message") or a.get(fields.LANGFUSE_STATUS_MESSAGE)
    error_type = str(error_type)
    if error_type.startswith("<class '") and error_type.endswith("'>"):  # str(type(exc)) sent verbatim
        error_type = error_type[len("<class '") : -len("'>")]
    return {k: v for k, v in {"type": error_type, "message": message}.items() if v}


def _metadata(
    span: Span,
    status: Status,
    a: SpanAttrs,
    plan: _Plan,
    scope: Attrs,
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
    request = a.prefixed("gen_ai.request")  # a fresh dict
    if plan.invocation:
        invocation = parse_json(a.get(_INVOCATION))
        for key, value in (invocation if isinstance(invocation, dict) else {}).items():
            request.setdefault(key, value)
    if request_model:
        request["model"] = request_model
    if None in request.values():  # an attribute sent as an empty AnyValue
        request = {key: value for key, value in request.items() if value is not None}
    if request:
        meta["request"] = request
    response = _response(a, plan, response_model)
    if response:
        meta["response"] = response
    if plan.usage:
        _put(meta, "usage", fields.usage_extras(a))
    if error:
        _put(meta, "error", error)
    if kind == "tool":
        tool = {
            "name": a.first("gen_ai.tool.name", "tool.name", "ai.toolCall.name", "traceloop.entity.name"),
            "call_id": a.first("gen_ai.tool.call.id", "ai.toolCall.id"),
            "type": a.get("gen_ai.tool.type"),
            "description": a.first("gen_ai.tool.description", "tool.description"),
        }
        _put(meta, "tool", tool)
    environment = fields.environment(a)
    if environment:
        meta["environment"] = environment
    span_kind = span.kind
    meta["span"] = {"name": span.name, "kind": _SPAN_KINDS.get(span_kind) or str(span_kind)}
    if not error and (status_message := status.message):
        meta["span"]["status_message"] = status_message
    meta["scope"] = dict(scope)
    meta["resource"] = dict(a.resource)  # per event: the resource's dict is shared by its spans
    custom = _custom(a) if plan.custom else None
    if custom:  # nested: top-level `user_id`-like keys mean something else for native events
        meta["custom"] = custom
    meta["attributes"] = a.unmapped()
    return meta


def _put(meta: dict[str, Any], name: str, section: dict[str, Any]) -> None:
    """`meta[name]` = `section` without its None values, unless nothing is left."""
    cleaned = {}
    for key, value in section.items():
        if value is not None:
            cleaned[key] = value
    if cleaned:
        meta[name] = cleaned


def _response(a: SpanAttrs, plan: _Plan, model: str | None) -> dict[str, Any]:
    """The `response` section: model, id and finish reasons, each only when the span has it."""
    response: dict[str, Any] = {} if model is None else {"model": model}
    if plan.response_id and (response_id := a.first(*_RESPONSE_IDS)) is not None:
        response["id"] = response_id
    if plan.finish_reasons and (reasons := parse_json(a.first(*_FINISH_REASONS))) is not None:
        response["finish_reasons"] = reasons
    return response


def _custom(a: SpanAttrs) -> dict[str, Any]:
    """User metadata under the custom prefixes (and OpenInference's `metadata` JSON), prefixes dropped."""
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
    unmapped = event.metadata.get("attributes", {})
    if not span.events and "events" not in unmapped and "all_messages_events" not in unmapped:
        return event  # the usual case: no content travels beside the attributes
    if event.kind == "tool":
        return _tool_span_events(event, span)
    patches: list[EventPatch] = []
    items: list[tuple[int, str, Attrs, Any]] = [
        (e.time_unix_nano, e.name, key_values(e.attributes), None) for e in span.events
    ]
    for legacy_key in _LEGACY_EVENTS:  # older Logfire/pydantic-ai: G2 events as a JSON attribute
        listed = parse_json(unmapped.get(legacy_key))
        for position, item in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(item, dict):
                items.append((span.start_time_unix_nano + position, str(item.get("event.name", "")), {}, item))
    for time_nanos, name, attrs, body in items:
        found = content_fields(event_name(name, attrs), attrs, body)
        if found:
            key = order_key(time_nanos, name, found)
            patches.append(EventPatch(event.event_id, event.trace_id or "", event.span_id or "", key, found))
    return apply_patches(event, patches, fresh=True) if patches else event  # both just built here


def _tool_span_events(event: Event, span: Span) -> Event:
    """A tool run's G2 span events (Strands' `execute_tool`): `gen_ai.tool.message` holds the arguments the
    tool was called with, `gen_ai.choice` what it returned. Read as a conversation they would make the
    arguments a "tool result" and lose the result, so they fill the tool's input and output directly."""
    for span_event in span.events:
        name = event_name(span_event.name, {})
        if name not in ("gen_ai.tool.message", "gen_ai.choice"):
            continue
        found = content_fields(name, key_values(span_event.attributes), None) or {}
        message = found.get("input_message") or (found.get("choice") or {}).get("message") or {}
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str):
            continue
        if name == "gen_ai.tool.message" and not event.input:
            event.input = text
        elif name == "gen_ai.choice" and not event.output:
            event.output = text
    return event

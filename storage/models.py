"""The one internal currency: a normalized `Event`, plus the other records storage writes.

Both ingestion paths (native JSON, OTLP) produce these; everything downstream knows only them.
Times are integer microseconds since the Unix epoch (UTC) so ordering and windows are exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Flag = Literal["success", "failure"]
Source = Literal["api", "otlp"]
Kind = Literal["llm", "embedding", "tool", "event"]
SpanKind = Literal["llm", "embedding", "tool", "agent", "workflow", "retrieval", "other"]
CostSource = Literal["reported", "estimated"]

# Namespace for ids derived from OTLP (trace_id, span_id): retries map to the same event_id.
OTLP_EVENT_NAMESPACE = uuid.UUID("6f0c1d4e-3b8a-4d36-9a57-2f1b8c0e7d11")


def otlp_event_id(trace_id: str, span_id: str) -> str:
    """Deterministic event id for a span, so exporter retries never duplicate."""
    return str(uuid.uuid5(OTLP_EVENT_NAMESPACE, f"{trace_id.lower()}:{span_id.lower()}"))


@dataclass(slots=True)
class Event:
    """One LLM interaction (or tool/embedding step), whatever wire format it came in."""

    event_id: str
    input: str
    output: str
    timestamp_us: int
    session_id: str | None = None  # explicit session id as sent by the client
    user_id: str | None = None
    model: str | None = None
    provider: str | None = None
    latency_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_cents: float | None = None
    cost_source: CostSource | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # custom keys verbatim
    source: Source = "api"
    kind: Kind = "llm"
    status: Literal["ok", "error"] = "ok"
    error_type: str | None = None
    flag: Flag | None = None  # flag the event carries itself (e.g. failure for an error span)
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None


@dataclass(slots=True, frozen=True)
class Feedback:
    """A success/failure judgement on an event; it may arrive before the event does."""

    event_id: str
    flag: Flag
    comment: str | None = None
    source: str | None = None


@dataclass(slots=True, frozen=True)
class EventPatch:
    """Content for a span's event that travels separately (an OTLP log record).

    Stored until its event exists; the stored event is always `apply_patches(base, all patches)`,
    so the result does not depend on whether the span or the log arrived first.
    """

    event_id: str  # otlp_event_id(trace_id, span_id)
    trace_id: str
    span_id: str
    order_key: str  # deterministic sort key among one event's patches
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class TraceHint:
    """Session/user found on any span of a trace (often a wrapper span); applies to the whole trace."""

    trace_id: str
    start_us: int  # the span's start; the earliest hint of a trace wins, so arrival order is moot
    session_id: str | None = None
    user_id: str | None = None


@dataclass(slots=True, frozen=True)
class Evaluation:
    """An evaluation result: over OTel (`gen_ai.evaluation.result`) or a Langfuse score (`source`)."""

    eval_key: str  # stable per record, so exporter retries never duplicate
    event_id: str | None  # the evaluated span's event, when parented to it
    response_id: str | None  # `gen_ai.response.id`, to match when there is no parent
    name: str | None
    score: float | None
    label: str | None
    explanation: str | None
    ts_us: int
    source: str = "otel"
    # A whole trace's evaluation (neither event nor response): it applies to the trace's final call
    trace_id: str | None = None
    span_id: str | None = None  # a span known only by its id (a Phoenix span annotation), without event_id
    human: bool = False  # a person's verdict: its pass/fail label is the user's flag, as feedback is
@dataclass(slots=True)
class SpanRecord:
    """A span of a trace's GenAI tree that is not itself an event (agent, workflow, retrieval, a nested
    duplicate call, or a plain ancestor that connects the tree), or a `pending` plain span.

    Spans that became events are not stored twice: the event row holds their ids, times and facts.
    `pending` marks a plain (non-GenAI) span kept only in case a GenAI descendant arrives in a later
    request; it is promoted (pending False) once one does, and never served while pending.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: SpanKind
    start_us: int
    end_us: int
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    event_id: str | None = None  # the event this span was merged into (a nested duplicate call)
    agent_name: str | None = None
    tool_name: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_cents: float | None = None
    attributes: str = "{}"  # compact JSON text: long values cut (`collector/otlp/tree.py`)
    pending: bool = False


def span_of_event(event: Event, event_id: str | None, attributes: str) -> SpanRecord:
    """The record of a call span whose event was folded into another span's (`event_id`): same facts."""
    meta = event.metadata if isinstance(event.metadata, dict) else {}
    start = event.timestamp_us
    error = None
    if event.status == "error":
        error = (meta.get("error") or {}).get("message") or event.error_type or "error"
    return SpanRecord(
        trace_id=event.trace_id or "", span_id=event.span_id or "", parent_span_id=event.parent_span_id,
        name=str((meta.get("span") or {}).get("name") or event.kind), kind=event.kind if event.kind != "event"
        else "other", start_us=start, end_us=start + int((event.latency_ms or 0) * 1000), status=event.status,
        error=error, event_id=event_id, tool_name=(meta.get("tool") or {}).get("name"), model=event.model,
        tokens_in=event.tokens_in, tokens_out=event.tokens_out, cost_cents=event.cost_cents, attributes=attributes,
    )

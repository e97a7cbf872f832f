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
    """An evaluation result that arrived over OTel (`gen_ai.evaluation.result`)."""

    eval_key: str  # stable per record, so exporter retries never duplicate
    event_id: str | None  # the evaluated span's event, when parented to it
    response_id: str | None  # `gen_ai.response.id`, to match when there is no parent
    name: str | None
    score: float | None
    label: str | None
    explanation: str | None
    ts_us: int
    source: str = "otel"

"""One path for every OTLP signal and transport: decoded request → normalized records → submit.

HTTP and gRPC receivers differ only in how they read the request and render the outcome. The work a
request may cost is bounded before it is done: items per request (413, never a partial accept an
exporter would not resend), the project's spent rate-limit window (429 right after decoding), and
normalizing runs in a worker thread so health checks and other requests keep being answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phosphobs.collector.errors import TOO_LARGE, ApiError
from phosphobs.collector.otlp.decode import (
    Signal,
    count_data_points,
    count_log_records,
    count_spans,
    decode_logs,
    decode_metrics,
    decode_traces,
)
from phosphobs.collector.otlp.normalize import NormalizedBatch, normalize_logs, normalize_traces
from phosphobs.collector.principal import Principal
from phosphobs.collector.storable import storable_span
from phosphobs.collector.submit import Intake, check_rate_gate, prepare, submit_ingest
from phosphobs.storage.clock import now_us


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """What one OTLP request may cost (from Settings)."""

    max_body_bytes: int = 5 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    max_spans: int = 10_000
    max_log_records: int = 10_000

    def max_items(self, signal: Signal) -> int | None:
        return {"traces": self.max_spans, "logs": self.max_log_records}.get(signal)


@dataclass(frozen=True, slots=True)
class SignalKind:
    name: Signal
    decode: Callable[..., Any]
    count: Callable[[Any], int]
    noun: str
    normalize: Callable[[Any, int], NormalizedBatch] | None  # None: acknowledged, not stored


SIGNALS: dict[Signal, SignalKind] = {
    "traces": SignalKind("traces", decode_traces, count_spans, "spans", normalize_traces),
    "logs": SignalKind("logs", decode_logs, count_log_records, "log records", normalize_logs),
    "metrics": SignalKind("metrics", decode_metrics, count_data_points, "data points", None),
}


def too_many(kind: SignalKind, items: int, cap: int, *, at_least: bool = False) -> ApiError:
    """413 (INVALID_ARGUMENT on gRPC): permanent, the whole request is refused, nothing is stored."""
    count = f"at least {items}" if at_least else str(items)
    return ApiError(TOO_LARGE, f"request has {count} {kind.noun}; the limit is {cap} per request: export smaller"
                               " batches (e.g. the SDK's max_export_batch_size); nothing was stored")


@dataclass(slots=True)
class OtlpOutcome:
    rejected: int
    message: str
    headers: dict[str, str]
    stored: int


def _normalized(kind: SignalKind, request: Any) -> NormalizedBatch:
    """Normalize and make storable (CPU work: runs in a worker thread)."""
    assert kind.normalize is not None
    batch = kind.normalize(request, now_us())
    batch.patches, batch.trace_hints = prepare(batch.events, batch.patches, batch.trace_hints)
    batch.spans = [storable_span(s) for s in batch.spans]
    return batch


async def ingest_request(intake: Intake, principal: Principal, kind: SignalKind, request: Any,
                         limits: RequestLimits) -> OtlpOutcome:
    """Normalize and commit one decoded Export*ServiceRequest; raises ApiError to refuse it whole."""
    items = kind.count(request)
    cap = limits.max_items(kind.name)
    if cap is not None and items > cap:
        raise too_many(kind, items, cap)
    if kind.normalize is None:
        return OtlpOutcome(0, "", {}, 0)
    check_rate_gate(intake.rate_gate, principal, 1 if items else 0)  # a spent window refuses before any work
    batch = await intake.offload(_normalized, kind, request)
    if not (batch.events or batch.patches or batch.trace_hints or batch.spans or batch.evaluations):
        return OtlpOutcome(batch.rejected, batch.error_message(), {}, 0)
    check_rate_gate(intake.rate_gate, principal, len(batch.events) + len(batch.patches))
    _, headers = await submit_ingest(intake.submit, principal, batch.events, batch.patches, batch.trace_hints,
                                     batch.spans, evaluations=batch.evaluations, prepared=True)
    return OtlpOutcome(batch.rejected, batch.error_message(), headers, len(batch.events) + len(batch.patches))

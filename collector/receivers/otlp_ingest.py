"""One path for every OTLP signal and transport: decoded request → normalized records → submit.

HTTP and gRPC receivers differ only in how they read the request and render the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phosphobs.collector.otlp.decode import (
    Signal,
    count_data_points,
    decode_logs,
    decode_metrics,
    decode_traces,
)
from phosphobs.collector.otlp.normalize import NormalizedBatch, normalize_logs, normalize_traces
from phosphobs.collector.principal import Principal
from phosphobs.collector.submit import Submit, submit_ingest
from phosphobs.storage.clock import now_us


@dataclass(frozen=True, slots=True)
class SignalKind:
    name: Signal
    decode: Callable[..., Any]
    normalize: Callable[[Any, int], NormalizedBatch] | None  # None: acknowledged, not stored


SIGNALS: dict[Signal, SignalKind] = {
    "traces": SignalKind("traces", decode_traces, normalize_traces),
    "logs": SignalKind("logs", decode_logs, normalize_logs),
    "metrics": SignalKind("metrics", decode_metrics, None),
}


@dataclass(slots=True)
class OtlpOutcome:
    rejected: int
    message: str
    headers: dict[str, str]
    stored: int


async def ingest_request(submit: Submit, principal: Principal, kind: SignalKind,
                         request: Any) -> OtlpOutcome:
    """Normalize and commit one decoded Export*ServiceRequest; raises ApiError to refuse it whole."""
    if kind.normalize is None:
        count_data_points(request)
        return OtlpOutcome(0, "", {}, 0)
    batch = kind.normalize(request, now_us())
    if not (batch.events or batch.patches or batch.trace_hints or batch.evaluations):
        return OtlpOutcome(batch.rejected, batch.error_message(), {}, 0)
    _, headers = await submit_ingest(submit, principal, batch.events, batch.patches, batch.trace_hints,
                                     batch.evaluations)
    return OtlpOutcome(batch.rejected, batch.error_message(), headers, len(batch.events) + len(batch.patches))

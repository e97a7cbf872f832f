"""Decoded OTLP requests to what storage writes: events, content patches, trace-wide session hints.

Pure: a request and the current time in, a `NormalizedBatch` out. A malformed span or log record is
counted in `rejected` (for OTLP partial success) with a reason; it never fails the whole request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from phosphobs.collector.otlp.agent_context import fill_failed_inputs
from phosphobs.collector.otlp.attributes import any_value, key_values
from phosphobs.collector.otlp.content_events import content_fields, event_name, is_content_event, order_key
from phosphobs.collector.otlp.evaluations import EVALUATION_EVENT, evaluation
from phosphobs.collector.otlp.nesting import collapse_nested
from phosphobs.collector.otlp.siblings import merge_siblings
from phosphobs.collector.otlp.spans import ConvertedSpan, convert_span, scope_metadata
from phosphobs.collector.otlp.tree import span_records
from phosphobs.storage.models import Evaluation, Event, EventPatch, SpanRecord, TraceHint, otlp_event_id

MAX_REASONS = 20  # enough to diagnose, small enough for a partial-success error_message


@dataclass(slots=True)
class NormalizedBatch:
    """Everything one OTLP request contributes; `rejected` items are in none of the lists."""

    events: list[Event] = field(default_factory=list)
    patches: list[EventPatch] = field(default_factory=list)
    trace_hints: list[TraceHint] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    spans: list[SpanRecord] = field(default_factory=list)  # tree spans that are not events (`otlp/tree.py`)
    rejected: int = 0
    rejection_reasons: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if len(self.rejection_reasons) < MAX_REASONS:
            self.rejection_reasons.append(reason)

    def error_message(self) -> str:
        """A partial-success message: the count and the first reasons."""
        if not self.rejected:
            return ""
        return f"rejected {self.rejected}: " + "; ".join(self.rejection_reasons)


def normalize_traces(req: ExportTraceServiceRequest, now_us: int) -> NormalizedBatch:
    """Spans to events (LLM, embedding and tool calls) and trace hints (any span naming a session/user)."""
    batch = NormalizedBatch()
    converted: list[ConvertedSpan] = []
    for resource_spans in req.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_metadata(scope_spans.scope)
            for span in scope_spans.spans:
                trace_raw, span_raw = span.trace_id, span.span_id
                if len(trace_raw) != 16 or len(span_raw) != 8 or not any(trace_raw) or not any(span_raw):
                    batch.reject(_invalid_ids(span))  # _hex_id's test, inline for the usual valid span
                    continue
                trace_id, span_id = trace_raw.hex(), span_raw.hex()
                item = ConvertedSpan(trace_id, span_id, _hex_id(span.parent_span_id, 8))
                try:
                    converted.append(convert_span(span, item, resource, scope, now_us))
                except Exception as exc:  # a surprise in one span must not cost the others
                    batch.reject(f"span {span.name!r} ({span_id}): {type(exc).__name__}: {exc}")
                    continue
                if span.events:
                    _span_evaluations(span, item, batch)
    batch.events = merge_siblings(collapse_nested(converted))
    batch.patches = fill_failed_inputs(batch.events, converted)
    batch.spans = span_records(converted, batch.events)
    batch.trace_hints = [item.hint for item in converted if item.hint is not None]
    return batch


def normalize_logs(req: ExportLogsServiceRequest, now_us: int) -> NormalizedBatch:
    """GenAI content log records to patches of their span's event; other log records are ignored.

    `now_us` is unused today (patch order must not depend on the clock); kept for a uniform API.
    """
    batch = NormalizedBatch()
    for resource_logs in req.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attrs = key_values(record.attributes)
                name = event_name(record.event_name, attrs)
                if name == EVALUATION_EVENT:
                    _log_evaluation(record, attrs, batch)
                    continue
                if not is_content_event(name):
                    continue
                try:
                    patch, reason = _patch(record, name, attrs)
                except Exception as exc:
                    patch, reason = None, f"log record {name!r}: {type(exc).__name__}: {exc}"
                if reason:
                    batch.reject(reason)
                elif patch is not None:
                    batch.patches.append(patch)
    return batch


def _span_evaluations(span: Span, item: ConvertedSpan, batch: NormalizedBatch) -> None:
    """Evaluation span events: they evaluate the span they are on when it is a call, else its parent."""
    target = item.span_id if item.event is not None else item.parent_span_id
    for span_event in span.events:
        if span_event.name != EVALUATION_EVENT:
            continue
        found, reason = evaluation(key_values(span_event.attributes), item.trace_id, target,
                                   span_event.time_unix_nano)
        if found is not None:
            batch.evaluations.append(found)
        elif reason:
            batch.reject(reason)


def _log_evaluation(record: LogRecord, attrs: dict[str, Any], batch: NormalizedBatch) -> None:
    try:
        body = any_value(record.body) if record.HasField("body") else None
        found, reason = evaluation(attrs, _hex_id(record.trace_id, 16), _hex_id(record.span_id, 8),
                                   record.time_unix_nano or record.observed_time_unix_nano, body)
    except Exception as exc:  # one odd record must not cost the others
        found, reason = None, f"log record {EVALUATION_EVENT!r}: {type(exc).__name__}: {exc}"
    if found is not None:
        batch.evaluations.append(found)
    elif reason:
        batch.reject(reason)


def _patch(record: LogRecord, name: str, attrs: dict[str, Any]) -> tuple[EventPatch | None, str | None]:
    trace_id, span_id = _hex_id(record.trace_id, 16), _hex_id(record.span_id, 8)
    if trace_id is None or span_id is None:
        return None, f"log record {name!r} has no valid trace_id/span_id to join its span"
    body = any_value(record.body) if record.HasField("body") else None
    found = content_fields(name, attrs, body)
    if not found:
        return None, None  # e.g. G2 events without content capture: nothing to add
    # Rule 5: time_unix_nano is often 0 on GenAI events; the observed time still orders them.
    # No clock fallback: a retried record must get the same order_key.
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    key = order_key(nanos, name, found)
    return EventPatch(otlp_event_id(trace_id, span_id), trace_id, span_id, key, found), None


def _hex_id(raw: bytes, size: int) -> str | None:
    """Lowercase hex of a well-formed id; None when empty, the wrong length or all zeros."""
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def _invalid_ids(span: Span) -> str:
    """The rejection reason of a span whose trace or span id is malformed."""
    which, raw = ("trace_id", span.trace_id) if _hex_id(span.trace_id, 16) is None else ("span_id", span.span_id)
    return f"span {span.name!r}: invalid {which} {_show(raw)}"


def _show(raw: bytes) -> str:
    return f"({len(raw)} bytes)" if raw else "(empty)"

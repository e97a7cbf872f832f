"""Shared helpers for the synthetic-dialect tests."""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span
from phosphobs.collector.otlp.normalize import NormalizedBatch, normalize_traces
from phosphobs.storage.models import Event

from tests.collector.otlp_factories import traces_request

INTERNAL = Span.SPAN_KIND_INTERNAL
CHAT = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Capital of Peru?"},
]


def normalize(*spans: Span) -> NormalizedBatch:
    batch = normalize_traces(traces_request(list(spans)), now_us=0)
    assert batch.rejected == 0, batch.rejection_reasons
    return batch


def only_event(batch: NormalizedBatch) -> Event:
    assert len(batch.events) == 1, [e.metadata["span"]["name"] for e in batch.events]
    return batch.events[0]

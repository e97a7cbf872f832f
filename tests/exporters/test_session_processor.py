"""Stamping the current session onto spans (real SDK TracerProvider, SDK in-memory exporter)."""

from __future__ import annotations

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from phosphobs.exporters.session_context import session
from phosphobs.exporters.session_processor import SessionSpanProcessor


@pytest.fixture
def traced() -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider()
    provider.add_span_processor(SessionSpanProcessor())
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_every_span_started_inside_a_session_carries_it(traced) -> None:
    provider, exporter = traced
    tracer = provider.get_tracer("test")
    with session("s-1", user_id="u-42"), tracer.start_as_current_span("parent"), tracer.start_as_current_span("child"):
        pass
    with tracer.start_as_current_span("outside"):
        pass
    spans = {s.name: dict(s.attributes or {}) for s in exporter.get_finished_spans()}
    for name in ("parent", "child"):
        assert spans[name]["session.id"] == "s-1"
        assert spans[name]["gen_ai.conversation.id"] == "s-1"
        assert spans[name]["traceloop.association.properties.user_id"] == "u-42"
    assert "session.id" not in spans["outside"]


def test_attributes_the_instrumentation_set_are_kept(traced) -> None:
    provider, exporter = traced
    with session("ours"), provider.get_tracer("t").start_as_current_span("s", attributes={"session.id": "theirs"}):
        pass
    attributes = exporter.get_finished_spans()[0].attributes
    assert attributes["session.id"] == "theirs"
    assert attributes["langfuse.session.id"] == "ours"


def test_a_session_arriving_as_baggage_from_upstream_is_applied(traced) -> None:
    provider, exporter = traced
    token = otel_context.attach(baggage.set_baggage("session.id", "from-upstream"))
    try:
        with provider.get_tracer("t").start_as_current_span("handler"):
            pass
    finally:
        otel_context.detach(token)
    assert exporter.get_finished_spans()[0].attributes["session.id"] == "from-upstream"


def test_it_remembers_what_it_stamped_only_when_asked() -> None:
    remembering, forgetful = SessionSpanProcessor(remember=True), SessionSpanProcessor()
    provider = TracerProvider()
    provider.add_span_processor(remembering)
    provider.add_span_processor(forgetful)
    with session("s"), provider.get_tracer("t").start_as_current_span("x") as span:
        pass
    assert remembering.pop_stamped(span) is True
    assert remembering.pop_stamped(span) is False
    assert forgetful.pop_stamped(span) is False

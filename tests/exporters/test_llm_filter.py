"""`llm_only`: which spans and log records are forwarded."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from phosphobs.exporters.llm_filter import (
    LLMOnlyLogProcessor,
    LLMOnlySpanProcessor,
    is_llm_log_record,
    is_llm_span,
)
from phosphobs.exporters.session_context import session
from phosphobs.exporters.session_processor import SessionSpanProcessor


@pytest.mark.parametrize("attributes", [
    {"gen_ai.operation.name": "chat"},                       # OTel GenAI
    {"openinference.span.kind": "LLM"},                      # OpenInference
    {"llm.token_count.prompt": 3},                           # OpenInference / Traceloop era A
    {"traceloop.span.kind": "workflow"},                     # Traceloop
    {"ai.operationId": "ai.generateText.doGenerate"},        # Vercel AI SDK
    {"langfuse.observation.type": "generation"},             # Langfuse
])
def test_spans_with_llm_attributes_are_llm_spans(attributes: dict[str, Any]) -> None:
    assert is_llm_span("anything", attributes)


@pytest.mark.parametrize("attributes", [
    {"http.method": "GET"},
    {"session.id": "s"},
    {"gen_ai.conversation.id": "s", "traceloop.association.properties.user_id": "u"},
])
def test_plain_and_session_only_spans_are_not_llm_spans(attributes: dict[str, Any]) -> None:
    assert not is_llm_span("GET /", attributes)


def test_litellm_spans_are_recognised_by_name() -> None:
    assert is_llm_span("raw_gen_ai_request", {})


def forwarded(stamper: SessionSpanProcessor | None, body) -> set[str]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    if stamper is not None:
        provider.add_span_processor(stamper)
    provider.add_span_processor(LLMOnlySpanProcessor(SimpleSpanProcessor(exporter), stamper=stamper))
    body(provider.get_tracer("t"))
    return {span.name for span in exporter.get_finished_spans()}


def test_only_llm_spans_and_spans_the_app_gave_a_session_are_forwarded() -> None:
    def body(tracer) -> None:
        with tracer.start_as_current_span("root", attributes={"langfuse.session.id": "s"}):
            with tracer.start_as_current_span("GET /weather", attributes={"http.method": "GET"}):
                pass
            with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}):
                pass

    assert forwarded(None, body) == {"root", "chat gpt-4o"}


def test_session_attributes_stamped_by_our_session_do_not_make_a_span_worth_sending() -> None:
    def body(tracer) -> None:
        with session("s-1", user_id="u"), tracer.start_as_current_span("handler"):
            with tracer.start_as_current_span("db query"):
                pass
            with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}):
                pass

    assert forwarded(SessionSpanProcessor(remember=True), body) == {"chat gpt-4o"}


def test_genai_log_events_pass_and_app_logs_do_not() -> None:
    assert is_llm_log_record("gen_ai.user.message", {})
    assert is_llm_log_record(None, {"event.name": "gen_ai.choice"})
    assert is_llm_log_record(None, {"gen_ai.system": "openai"})
    assert not is_llm_log_record(None, {"code.function": "handler"})

    provider = LoggerProvider()
    exporter = InMemoryLogRecordExporter()
    provider.add_log_record_processor(LLMOnlyLogProcessor(SimpleLogRecordProcessor(exporter)))
    logger = provider.get_logger("t")
    logger.emit(LogRecord(event_name="gen_ai.choice", body={"index": 0}))
    logger.emit(LogRecord(body="GET /healthz 200"))
    assert [r.log_record.event_name for r in exporter.get_finished_logs()] == ["gen_ai.choice"]

"""`llm_only=True`: forward LLM spans and log events, plus spans that carry a session or user, and nothing else.

Spans carrying a session are kept even when they are not LLM calls because the collector applies a
session found anywhere in a trace to the whole trace (e.g. Langfuse's `update_trace` on the root span).
Session attributes our own `session()` stamped are not reasons to keep a span: the LLM spans carry them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from phosphobs.exporters.session_processor import SessionSpanProcessor

# gen_ai.* (OTel GenAI, OpenLIT, Logfire, LiteLLM), llm.* (OpenInference, Traceloop era A),
# openinference.*, traceloop.*, ai.* (Vercel AI SDK), langfuse.*, litellm.*
LLM_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.", "ai.", "langfuse.", "litellm.")
SESSION_KEYS = frozenset({
    "session.id",
    "user.id",
    "enduser.id",
    "gen_ai.conversation.id",
    "langfuse.session.id",
    "langfuse.user.id",
})
SESSION_PREFIXES = ("traceloop.association.properties.",)
LLM_SPAN_NAMES = frozenset({"raw_gen_ai_request", "litellm_request"})


def is_session_key(key: str) -> bool:
    return key in SESSION_KEYS or key.startswith(SESSION_PREFIXES)


def has_llm_attributes(keys: Iterable[str]) -> bool:
    return any(key.startswith(LLM_PREFIXES) and not is_session_key(key) for key in keys)


def has_session_attributes(keys: Iterable[str]) -> bool:
    return any(is_session_key(key) for key in keys)


def is_llm_span(name: str, attributes: Mapping[str, Any] | None) -> bool:
    return name in LLM_SPAN_NAMES or has_llm_attributes(attributes or {})


class LLMOnlySpanProcessor(SpanProcessor):
    """Wraps the exporting processor and passes it only the spans worth sending."""

    def __init__(self, inner: SpanProcessor, stamper: SessionSpanProcessor | None = None) -> None:
        self.inner = inner
        self._stamper = stamper

    def wants(self, span: ReadableSpan) -> bool:
        stamped_by_us = self._stamper.pop_stamped(span) if self._stamper else False
        attributes = span.attributes or {}
        if is_llm_span(span.name, attributes):
            return True
        return not stamped_by_us and has_session_attributes(attributes)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.wants(span):
            self.inner.on_end(span)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def is_llm_log_record(event_name: str | None, attributes: Mapping[str, Any] | None) -> bool:
    """GenAI events (`gen_ai.user.message`, `gen_ai.choice`, …) and records with LLM attributes."""
    if event_name and event_name.startswith(("gen_ai.", "llm.")):
        return True
    attributes = attributes or {}
    legacy_name = attributes.get("event.name") or attributes.get("event_name")  # SDK < 1.31, LiteLLM
    if isinstance(legacy_name, str) and legacy_name.startswith(("gen_ai.", "llm.")):
        return True
    return has_llm_attributes(attributes)


class LLMOnlyLogProcessor(LogRecordProcessor):
    """Log-record counterpart; speaks both processor APIs (`on_emit` in newer SDKs, `emit` in older ones)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @staticmethod
    def _wanted(item: Any) -> bool:
        record = getattr(item, "log_record", item)
        return is_llm_log_record(getattr(record, "event_name", None), getattr(record, "attributes", None))

    def on_emit(self, log_record: Any) -> None:
        if self._wanted(log_record):
            self.inner.on_emit(log_record)

    def emit(self, log_data: Any) -> None:
        if self._wanted(log_data):
            self.inner.emit(log_data)

    def enabled(self, **kwargs: Any) -> bool:
        inner_enabled = getattr(self.inner, "enabled", None)
        return True if inner_enabled is None else inner_enabled(**kwargs)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

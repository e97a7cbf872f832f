"""Stamps the current session and user onto every span as it starts.

Spans are stamped at start because attributes are read-only once a span ends. Attributes an
instrumentation already set win: they are the more specific statement.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from phosphobs.exporters.session_context import current_session, session_from_baggage


class SessionSpanProcessor(SpanProcessor):
    """With `remember=True` it records which spans it stamped, so the LLM-only filter can tell our
    stamps from session attributes the app set itself."""

    def __init__(self, remember: bool = False) -> None:
        self._stamped: set[int] | None = set() if remember else None

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        info = current_session() or session_from_baggage(parent_context)
        if info is None:
            return
        existing = span.attributes or {}
        stamped = False
        for key, value in info.span_attributes().items():
            if key not in existing:
                span.set_attribute(key, value)
                stamped = True
        if stamped and self._stamped is not None:
            self._stamped.add(span.context.span_id)

    def pop_stamped(self, span: ReadableSpan) -> bool:
        """True (once) if this processor put the session attributes on `span`."""
        if self._stamped is None or span.context is None:
            return False
        span_id = span.context.span_id
        if span_id in self._stamped:
            self._stamped.discard(span_id)
            return True
        return False

    def on_end(self, span: ReadableSpan) -> None:
        pass

    def shutdown(self) -> None:
        if self._stamped is not None:
            self._stamped.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

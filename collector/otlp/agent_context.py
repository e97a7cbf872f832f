"""A failed LLM call whose input only its agent span recorded (pydantic-ai: the `chat` span of a call
that raised has no messages; the `invoke_agent` span's `pydantic_ai.all_messages` ends with them).

The agent stops at the failure, so its history ends with the failed call's input: the call gets that
history as its input messages. Only for failed calls without input, under their direct parent.
"""

from __future__ import annotations

from phosphobs.collector.otlp.messages import messages
from phosphobs.collector.otlp.spans import ConvertedSpan
from phosphobs.storage.enrichment import input_text
from phosphobs.storage.models import Event


def fill_failed_inputs(events: list[Event], spans: list[ConvertedSpan]) -> None:
    """Give failed calls without input the history of their parent agent span (in place)."""
    bare = [e for e in events if e.status == "error" and not e.input and e.parent_span_id and e.kind == "llm"]
    if not bare:
        return
    histories = {(s.trace_id, s.span_id): s.history for s in spans if s.history is not None}
    for event in bare:
        raw = histories.get((event.trace_id or "", event.parent_span_id or ""))
        found = messages(raw) if raw is not None else None
        if not found:
            continue
        event.metadata.setdefault("input_messages", found)
        event.input = input_text(found) or ""

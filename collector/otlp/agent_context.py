"""A failed LLM call whose input only its agent span recorded (pydantic-ai: the `chat` span of a call
that raised has no messages; the failed `invoke_agent` span's `pydantic_ai.all_messages` ends with them).

The agent stops at the failure, so its history ends with the failed call's input. A failed call in the
same request gets it here; otherwise the history travels as a patch of the agent span's id, which
storage hands to the failed call under that span that has no input, whichever arrives first
(`storage/call_links.py`).
"""

from __future__ import annotations

from phosphobs.collector.otlp.messages import messages
from phosphobs.collector.otlp.spans import ConvertedSpan
from phosphobs.storage.enrichment import input_text
from phosphobs.storage.models import Event, EventPatch, otlp_event_id


def fill_failed_inputs(events: list[Event], spans: list[ConvertedSpan]) -> list[EventPatch]:
    """Give failed calls without input the history of their failed parent agent span (in place); the
    histories no call here took, as patches for storage to place."""
    agents = [s for s in spans if s.history is not None]
    if not agents:
        return []
    histories = {(s.trace_id, s.span_id): messages(s.history) for s in agents}
    used: set[tuple[str, str]] = set()
    for event in events:
        if event.status != "error" or event.input or event.kind != "llm" or not event.parent_span_id:
            continue
        key = (event.trace_id or "", event.parent_span_id)
        found = histories.get(key)
        if found:
            event.metadata.setdefault("input_messages", found)
            event.input = input_text(found) or ""
            used.add(key)
    return [EventPatch(otlp_event_id(trace, span), trace, span, f"{0:020d}:agent-history", {"input_messages": found})
            for (trace, span), found in histories.items() if found and (trace, span) not in used]

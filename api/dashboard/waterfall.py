"""A trace as waterfall rows: its span tree depth first, each bar placed on the trace's time axis.

Returns data (numbers and records), never markup: the template draws bars as SVG attributes (the CSP
forbids inline styles) and escapes every text.
"""

from __future__ import annotations

from dataclasses import dataclass

from phosphobs.api.dashboard.content import TimelineItem, timeline_item
from phosphobs.storage.trace_records import TraceRecord, TraceSpan

SCALE = 1000  # bar coordinates run over 0..SCALE of the trace's duration
MIN_WIDTH = 3  # a zero-length span still shows as a sliver
MAX_INDENT = 24
KIND_LABELS = {"llm": "LLM", "embedding": "embedding", "tool": "tool", "agent": "agent", "workflow": "workflow",
               "retrieval": "retrieval", "other": "span"}


@dataclass(slots=True, frozen=True)
class Row:
    span: TraceSpan
    depth: int
    indent: range  # for the template's indentation spacers
    x: int
    width: int
    label: str
    item: TimelineItem | None  # the event of a call span, with its messages as turns


def rows(trace: TraceRecord) -> list[Row]:
    """Depth-first, children by start; spans whose parent is not stored are shown as roots."""
    ids = {s.span_id for s in trace.spans}
    children: dict[str | None, list[TraceSpan]] = {}
    for span in trace.spans:  # already ordered by start
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    total = max(trace.end_us - trace.start_us, 1)
    out: list[Row] = []
    seen: set[str] = set()
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a malformed trace may loop
            continue
        seen.add(span.span_id)
        x = round(SCALE * (span.start_us - trace.start_us) / total)
        width = max(MIN_WIDTH, round(SCALE * (span.end_us - span.start_us) / total))
        x = min(x, SCALE - MIN_WIDTH)
        out.append(Row(span, depth, range(min(depth, MAX_INDENT)), x, min(width, SCALE - x),
                       KIND_LABELS.get(span.kind, span.kind), timeline_item(span.event) if span.event else None))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    for span in trace.spans:  # cycles with no way in from a root: still shown, flat
        if span.span_id not in seen:
            seen.add(span.span_id)
            out.append(Row(span, 0, range(0), 0, MIN_WIDTH, KIND_LABELS.get(span.kind, span.kind),
                           timeline_item(span.event) if span.event else None))
    return out

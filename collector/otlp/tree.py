"""Which spans of one OTLP request join the stored GenAI span tree, as `SpanRecord`s.

Spans that became events need no record (the event row holds their ids, times and facts). Recorded:
- GenAI spans that are no call (agent, workflow/chain, retrieval, guardrail, …);
- call spans merged into another span's event (nested duplicates), pointing at that event;
- plain spans that are ancestors, in this request, of a GenAI span: they connect the tree;
- other plain spans as `pending`: an ancestor may arrive before its GenAI descendant (in another
  request), so it is kept aside, unserved, until storage promotes it (`storage/sql/span_tree.py`).
Plain children of an LLM or embedding call in the same request (the HTTP request under a chat
completion) are dropped outright: they are transport, and every LLM call has one.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from phosphobs.collector.otlp import fields
from phosphobs.collector.otlp.attributes import SpanAttrs
from phosphobs.collector.otlp.spans import ConvertedSpan
from phosphobs.collector.otlp.surrogates import without_lone_surrogates
from phosphobs.storage.models import Event, SpanRecord, span_of_event

MAX_VALUE_CHARS = 4096  # one attribute value kept in a span record; longer text is cut with an ellipsis
MAX_DEPTH = 256  # ancestor walks stop here, whatever a malformed trace claims
_TRANSPORT_PARENTS = ("llm", "embedding")

Key = tuple[str, str]


def span_records(converted: list[ConvertedSpan], events: list[Event]) -> list[SpanRecord]:
    """The records of `converted` (one request's spans) given the `events` normalization kept."""
    merged_into: dict[Key, str] = {}
    calls = moved = 0
    for c in converted:
        if c.event is not None:
            calls += 1
            moved += c.event.span_id != c.span_id  # its call became a child span of its own (LiteLLM)
    if calls != len(events):  # some calls were merged
        emitted = {e.event_id for e in events}
        for event in events:
            for donor in event.metadata.get("merged_spans", ()):
                merged_into[(event.trace_id or "", str(donor.get("span_id")))] = event.event_id
        for c in converted:
            if c.event is not None and c.event.event_id not in emitted:
                merged_into.setdefault((c.trace_id, c.span_id), "")
    others = [c for c in converted if (c.event is None and not c.placeholder)]
    if not others and not merged_into and not moved:
        return []  # the usual request: every span is a call and became its own event
    by_key = {(c.trace_id, c.span_id): c for c in converted if not c.placeholder}
    kept: set[Key] = set()
    for c in by_key.values():
        if c.event is None and c.kind is None:
            continue
        parent, depth = c.parent_span_id, 0
        while parent and depth < MAX_DEPTH:  # plain ancestors of a GenAI span connect it to the root
            above = by_key.get((c.trace_id, parent))
            if above is None or above.event is not None or above.kind is not None:
                break  # not here, or GenAI: its own walk goes on from there
            if (above.trace_id, above.span_id) in kept:
                break
            kept.add((above.trace_id, above.span_id))
            parent, depth = above.parent_span_id, depth + 1
    records: list[SpanRecord] = []
    for key, c in by_key.items():
        if c.event is not None:
            if key in merged_into:
                records.append(_merged_record(c.event, merged_into[key] or None))
            elif c.event.span_id != c.span_id and c.span is not None:
                records.append(_record(c, False))  # the span itself, parent of the call it recorded
            continue
        pending = c.kind is None and key not in kept
        if pending and _is_transport(c, by_key):
            continue
        records.append(_record(c, pending))
    return records


def _is_transport(c: ConvertedSpan, by_key: dict[Key, ConvertedSpan]) -> bool:
    parent = by_key.get((c.trace_id, c.parent_span_id or ""))
    return parent is not None and parent.event is not None and parent.event.kind in _TRANSPORT_PARENTS


def _record(c: ConvertedSpan, pending: bool) -> SpanRecord:
    span, a = c.span, c.attrs
    assert span is not None and a is not None
    start_ns, end_ns = span.start_time_unix_nano, span.end_time_unix_nano
    start_us = (start_ns or end_ns) // 1000
    end_us = max(end_ns // 1000, start_us)
    failed = fields.failed(span.status.code, a)
    kind = c.kind or "other"
    tokens_in, tokens_out = fields.tokens(a) if c.kind else (None, None)
    return SpanRecord(
        trace_id=c.trace_id, span_id=c.span_id, parent_span_id=c.parent_span_id, name=span.name, kind=kind,
        start_us=start_us, end_us=end_us, status="error" if failed else "ok",
        error=_error_message(span, a) if failed else None,
        agent_name=(fields.agent_name(a) or (span.name if kind == "agent" else None)) if c.kind else None,
        tool_name=fields.tool_name(a) if c.kind else None,
        model=fields.models(a)[0] if c.kind else None, tokens_in=tokens_in, tokens_out=tokens_out,
        cost_cents=fields.cost_cents(a) if c.kind else None, attributes=compact(a.attrs), pending=pending,
    )


def _error_message(span: Any, a: SpanAttrs) -> str:
    if span.status.message:
        return str(span.status.message)
    for e in span.events:
        if e.name == "exception":
            for item in e.attributes:
                if item.key == "exception.message":
                    return item.value.string_value or "error"
    return str(a.get(fields.LANGFUSE_STATUS_MESSAGE) or a.get("error.type") or "error")


def _merged_record(event: Event, into: str | None) -> SpanRecord:
    """A call span whose event was folded into another span's event (a nested duplicate)."""
    return span_of_event(event, into, compact(event.metadata.get("attributes") or {}))


def compact(attrs: dict[str, Any]) -> str:
    """Attributes as compact JSON that every backend stores: long text cut to MAX_VALUE_CHARS (a record is
    a summary), integers beyond 64 bits as text, NaN and infinities as null, lone surrogates replaced."""
    try:
        return orjson.dumps({key: _cut(value) for key, value in attrs.items()}).decode()
    except orjson.JSONEncodeError:  # nested deeper than JSON encoders go: keep the summary's keys only
        return orjson.dumps({key: "…" for key in attrs}).decode()


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        text = value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
        return text if text.isascii() else without_lone_surrogates(text)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _cut(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cut(item) for item in value]
    return str(value)

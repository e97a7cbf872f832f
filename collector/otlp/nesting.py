"""One event per real call when two instrumentations both wrap it (doc rule 1 and §8).

LangChain over OpenAI, LiteLLM's `litellm_request` over `raw_gen_ai_request`, a Langfuse generation
over an SDK span: each pair is one call, so only one event may count its tokens. In a chain of nested
same-kind call spans we keep the innermost span that reports usage and fill its gaps from the others
(nearest first). When an outer call span has several inner calls, each inner call is kept and only
identity fields are copied down. Works within one export request, which holds both spans in practice
(a parent ends right after its child, so the batch processor exports them together).
"""

from __future__ import annotations

from dataclasses import replace

from phosphobs.collector.otlp.spans import ConvertedSpan
from phosphobs.storage.calls import fill_section, provider_rank
from phosphobs.storage.models import Event

_IDENTITY = ("model", "provider", "session_id", "user_id")
_CONTENT = ("tokens_in", "tokens_out", "cost_cents", "cost_source")
# `error` too: the failure's message may be only on the outer span (OpenInference's over the Anthropic SDK's).
_METADATA = ("input_messages", "output_messages", "system", "tool_calls", "request", "response", "usage", "custom",
             "error")

Key = tuple[str, str]


def collapse_nested(spans: list[ConvertedSpan]) -> list[Event]:
    """The events of `spans`, with nested duplicates of one call merged into a single event."""
    by_key: dict[Key, ConvertedSpan] = {(s.trace_id, s.span_id): s for s in spans}
    outer: dict[Key, Key] = {}
    for key, item in by_key.items():
        if item.event is not None and item.parent_span_id:
            found = _nearest_same_kind(item, by_key)
            if found is not None:
                outer[key] = found
    if not outer:  # the usual case: no call span nested in another
        return [item.event for item in spans if item.event is not None]
    children: dict[Key, list[Key]] = {}
    for inner, parent in outer.items():
        children.setdefault(parent, []).append(inner)
    events: list[Event] = []
    for item in spans:
        key = (item.trace_id, item.span_id)
        if item.event is None or key in outer:
            continue
        if key not in children:
            events.append(item.event)
        else:
            events.extend(_merge_group(key, by_key, children))
    return events


def _nearest_same_kind(item: ConvertedSpan, by_key: dict[Key, ConvertedSpan]) -> Key | None:
    assert item.event is not None
    seen: set[str] = {item.span_id}
    parent = item.parent_span_id
    while parent and parent not in seen:  # `seen` guards against malformed parent cycles
        seen.add(parent)
        above = by_key.get((item.trace_id, parent))
        if above is None:
            return None
        if above.event is not None and above.event.kind == item.event.kind and above.event.span_id == parent:
            return (item.trace_id, parent)
        parent = above.parent_span_id
    return None


def _merge_group(root: Key, by_key: dict[Key, ConvertedSpan], children: dict[Key, list[Key]]) -> list[Event]:
    paths = _leaf_paths([root], children)
    if len(paths) == 1:
        chain = [_event(k, by_key) for k in paths[0]]  # outer → inner
        with_usage = [i for i in range(len(chain) - 1, -1, -1) if _has_usage(chain[i])]  # innermost first
        # nearest the provider: its own SDK's span, else the innermost span that reports usage
        chosen = min(with_usage, key=lambda i: provider_rank(chain[i]) != 0) if with_usage else len(chain) - 1
        donors = sorted((i for i in range(len(chain)) if i != chosen), key=lambda i: (abs(i - chosen), -i))
        return [_fill(chain[chosen], [chain[i] for i in donors], full=True)]
    merged: list[Event] = []
    for path in paths:  # an outer call fanned out (retries, fallbacks): keep every inner call
        chain = [_event(k, by_key) for k in path]
        merged.append(_fill(chain[-1], list(reversed(chain[:-1])), full=False))
    return merged


def _leaf_paths(path: list[Key], children: dict[Key, list[Key]]) -> list[list[Key]]:
    below = children.get(path[-1])
    if not below:
        return [path]
    return [leaf for child in sorted(below) for leaf in _leaf_paths([*path, child], children)]


def _event(key: Key, by_key: dict[Key, ConvertedSpan]) -> Event:
    event = by_key[key].event
    assert event is not None
    return event


def _has_usage(event: Event) -> bool:
    return event.tokens_in is not None or event.tokens_out is not None


def _fill(chosen: Event, donors: list[Event], *, full: bool) -> Event:
    event = replace(chosen, metadata=dict(chosen.metadata), tags=list(chosen.tags))
    names = _IDENTITY + _CONTENT if full else _IDENTITY
    for donor in donors:
        for name in names:
            if getattr(event, name) is None and getattr(donor, name) is not None:
                setattr(event, name, getattr(donor, name))
        if full:
            event.input = event.input or donor.input
            event.output = event.output or donor.output
            for key in _METADATA:
                if key in donor.metadata:
                    fill_section(event.metadata, key, donor.metadata[key])
        event.tags = event.tags or list(donor.tags)
    event.metadata["merged_spans"] = [
        {
            "span_id": d.span_id,
            "name": d.metadata.get("span", {}).get("name"),
            "scope": d.metadata.get("scope", {}).get("name"),
        }
        for d in donors
    ]
    return event

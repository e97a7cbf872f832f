"""One event per real call when its spans are siblings, not nested (issue 13, items 1 and 2).

Two shapes of the same class: two instrumentations each wrap the call beside the other (the Anthropic
SDK's own `anthropic.messages.create` next to `opentelemetry-instrumentation-anthropic`'s
`anthropic.chat`), or one library splits a streamed call in two (Logfire: a request span without
output or usage, then a zero-length "streaming response from …" span that has them). Either way the
spans share a trace and a parent, and only one event may count the call's tokens.

What identifies a call: equal `gen_ai.response.id`s (different ones are different calls, always);
without ids, the same request model, the same outcome (ok / error), no conflicting text, and
overlapping time. A split stream pairs a request-only span with the nearest later span that starts
once it has ended (or is a zero-length log) and brings output or usage. The merged event keeps the
span nearest the provider (its numbers win: a provider SDK's own span over an instrumentation
library's, then whichever reports usage) and takes the others' facts where it has none.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from phosphobs.storage.models import Event

_CALL_KINDS = ("llm", "embedding")
# A provider SDK reporting its own calls: `com.anthropic.sdk.python`, and the same pattern for others.
_PROVIDER_SDK_SCOPE = re.compile(r"^(com\.[a-z0-9_-]+\.sdk(\.|$)|[a-z0-9_-]+\.sdk\.(python|node|js|java|go)$)")
_LIBRARY_HINT = "instrumentation"


def merge_siblings(events: list[Event]) -> list[Event]:
    """`events` with sibling spans of one call merged into one event (nested ones are already merged)."""
    if len(events) < 2:
        return events
    groups: dict[tuple[str, str | None, str], list[int]] = {}
    shared = False
    for index, event in enumerate(events):
        if event.kind in _CALL_KINDS and event.trace_id:
            members = groups.setdefault((event.trace_id, event.parent_span_id, event.kind), [])
            members.append(index)
            shared = shared or len(members) > 1
    if not shared:  # the usual request: no two call spans under one parent
        return events
    replaced: dict[int, Event | None] = {}
    for members in groups.values():
        if len(members) > 1:
            for merged, indexes in _calls([events[i] for i in members], members):
                replaced[indexes[0]] = merged
                for other in indexes[1:]:
                    replaced[other] = None
    out: list[Event] = []
    for index, event in enumerate(events):
        if index in replaced:
            kept = replaced[index]
            if kept is not None:
                out.append(kept)
        else:
            out.append(event)
    return out


def _calls(group: list[Event], indexes: list[int]) -> list[tuple[Event, list[int]]]:
    """The group's events clustered into calls; only clusters of two or more spans are returned."""
    order = sorted(range(len(group)), key=lambda i: (group[i].timestamp_us, group[i].span_id or ""))
    clusters = _Clusters(group)
    for n, i in enumerate(order):
        end = _end_us(group[i])
        for j in order[n + 1 :]:
            if group[j].timestamp_us > end:
                break  # sorted by start: no later span overlaps this one
            if clusters.root(i) != clusters.root(j) and same_call(group[i], group[j]):
                clusters.join(i, j)
    _pair_split_streams(group, order, clusters)
    found = []
    for members in clusters.groups(order):
        merged = merge_call([group[i] for i in members], stretch=clusters.root(members[0]) in clusters.split)
        found.append((merged, [indexes[i] for i in members]))
    return found


class _Clusters:
    """Union-find over a group's spans, with each cluster's size and response ids."""

    def __init__(self, group: list[Event]) -> None:
        self.parent = list(range(len(group)))
        self.sizes = [1] * len(group)
        self.split: set[int] = set()  # roots of clusters that are one stream over several spans
        self.ids = [{found} if (found := response_id(e)) is not None else set() for e in group]

    def root(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def size(self, i: int) -> int:
        return self.sizes[self.root(i)]

    def join(self, i: int, j: int) -> None:
        """Merge the clusters of `i` and `j`, unless that would put two response ids in one call."""
        a, b = self.root(i), self.root(j)
        if a != b and len(self.ids[a] | self.ids[b]) <= 1:
            self.parent[b] = a
            self.sizes[a] += self.sizes[b]
            self.ids[a] |= self.ids[b]

    def groups(self, order: list[int]) -> list[list[int]]:
        found: dict[int, list[int]] = {}
        for i in order:
            found.setdefault(self.root(i), []).append(i)
        return [members for members in found.values() if len(members) > 1]


def _pair_split_streams(group: list[Event], order: list[int], clusters: _Clusters) -> None:
    """Each request-only span with the nearest later span that carries its stream's output or usage."""
    for n, i in enumerate(order):
        request = group[i]
        if not _request_only(request) or clusters.size(i) > 1:
            continue
        for j in order[n + 1 :]:
            if clusters.size(j) > 1:
                continue
            other = group[j]
            if _request_only(other) and _compatible(request, other):
                break  # a later request of the same model comes first: the stream is not this one's
            if _continues(request, other):
                clusters.join(i, j)
                clusters.split.add(clusters.root(i))
                break


def same_call(a: Event, b: Event) -> bool:
    """Two spans (same trace, same parent, same kind) that report one provider call."""
    id_a, id_b = response_id(a), response_id(b)
    if id_a is not None and id_b is not None:
        return id_a == id_b
    if (a.status == "error") != (b.status == "error") or not _compatible(a, b):
        return False
    if _differ(a.input, b.input) or _differ(a.output, b.output):
        return False
    return a.timestamp_us <= _end_us(b) and b.timestamp_us <= _end_us(a)


def _continues(request: Event, other: Event) -> bool:
    """`other` brings the output of `request`'s stream: later, same model, with output or usage."""
    if other.status == "error" or not (other.output or _has_usage(other)) or not _compatible(request, other):
        return False
    if response_id(request) is not None and response_id(other) not in (None, response_id(request)):
        return False
    zero_length = not other.latency_ms
    return other.timestamp_us >= _end_us(request) or (zero_length and other.timestamp_us >= request.timestamp_us)


def _request_only(event: Event) -> bool:
    return event.status != "error" and not event.output and not _has_usage(event) and response_id(event) is None


def _compatible(a: Event, b: Event) -> bool:
    model_a, model_b = request_model(a), request_model(b)
    if model_a is None or model_b is None:
        return True
    if model_a == model_b:
        return True
    short, long = sorted((model_a, model_b), key=len)
    rest = long[len(short) :]  # a dated release of the same model: `gpt-4o` and `gpt-4o-2024-08-06`
    return long.startswith(short) and rest[:1] in ("-", "@") and rest[1:2].isdigit() and len(rest) >= 5


def _differ(a: str, b: str) -> bool:
    return bool(a) and bool(b) and a.strip() != b.strip()


def response_id(event: Event) -> str | None:
    response = event.metadata.get("response")
    value = response.get("id") if isinstance(response, dict) else None
    return str(value) if value not in (None, "") else None


def request_model(event: Event) -> str | None:
    request = event.metadata.get("request")
    model = request.get("model") if isinstance(request, dict) else None
    return str(model) if model else event.model


def _end_us(event: Event) -> int:
    return event.timestamp_us + int((event.latency_ms or 0) * 1000)


def _has_usage(event: Event) -> bool:
    return event.tokens_in is not None or event.tokens_out is not None


def provider_rank(event: Event) -> int:
    """0 for a provider SDK's own span, 1 for an unknown reporter, 2 for an instrumentation library's."""
    scope = event.metadata.get("scope")
    name = str(scope.get("name") or "") if isinstance(scope, dict) else ""
    if _PROVIDER_SDK_SCOPE.match(name.lower()):
        return 0
    return 2 if _LIBRARY_HINT in name.lower() else 1


def merge_call(members: list[Event], *, stretch: bool = False) -> Event:
    """One event from spans of one call: numbers from the span nearest the provider, gaps from the rest.

    `stretch`: the spans are successive parts of one call (a split stream), so the call runs from the
    first start to the last end; otherwise the chosen span's own timing is the call's.
    Deterministic in the set of members, so arrival order cannot change the result.
    """
    ranked = sorted(members, key=_rank)
    chosen, donors = ranked[0], ranked[1:]
    event = replace(chosen, metadata=dict(chosen.metadata), tags=list(chosen.tags))
    for donor in donors:
        for name in ("model", "provider", "tokens_in", "tokens_out", "cost_cents", "cost_source",
                     "session_id", "user_id"):
            if getattr(event, name) is None and getattr(donor, name) is not None:
                setattr(event, name, getattr(donor, name))
        event.input = event.input or donor.input
        event.output = event.output or donor.output
        for key, value in donor.metadata.items():
            if key not in ("merged_spans", "span", "scope", "attributes", "resource"):
                _fill_section(event.metadata, key, value)
        event.tags = event.tags or list(donor.tags)
    if stretch:
        start = min(m.timestamp_us for m in members)
        end = max(_end_us(m) for m in members)
        event.timestamp_us = start
        event.latency_ms = (end - start) / 1000
    merged = list(event.metadata.get("merged_spans") or [])
    for donor in donors:
        merged.append({"span_id": donor.span_id, "name": donor.metadata.get("span", {}).get("name"),
                       "scope": donor.metadata.get("scope", {}).get("name")})
        merged.extend(donor.metadata.get("merged_spans") or [])
    event.metadata["merged_spans"] = merged
    return event


def _rank(event: Event) -> tuple[int, int, int, int, str]:
    return (provider_rank(event), 0 if _has_usage(event) else 1, 0 if event.output else 1,
            0 if event.input else 1, event.span_id or "")


def _fill_section(meta: dict[str, Any], key: str, value: Any) -> None:
    """A missing metadata section is taken whole; a dict section gains the keys it lacks."""
    mine = meta.get(key)
    if mine is None or mine in ("", [], {}):
        meta[key] = value
    elif isinstance(mine, dict) and isinstance(value, dict):
        meta[key] = {**value, **mine}

"""One event per real call when its spans are siblings, not nested (issue 13, items 1 and 2).

Two shapes of the same class: two instrumentations each wrap the call beside the other (the Anthropic
SDK's own `anthropic.messages.create` next to `opentelemetry-instrumentation-anthropic`'s
`anthropic.chat`), or one library splits a streamed call in two (Logfire: a request span without
output or usage, then a zero-length "streaming response from …" span that has them). Either way the
spans share a trace and a parent, or, when each is a root span (a library that starts its span without
making it current, and no app span around), one `gen_ai.response.id`. A third shape is a framework's echo:
a framework's span and the client's span of one call, either beside each other (LlamaIndex ends a streamed
call's span before the client's begins) or with the client's span a root of a trace of its own (no app span
around the call, or a framework that does not make its span current). What counts as one call, and how its
spans merge, is `phosphobs.storage.calls`' (storage applies the same rules to spans that arrive apart, except
an echo across traces: only within one export request).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from phosphobs.storage.calls import (
    CALL_KINDS,
    ECHO_GAP_US,
    compatible,
    continues,
    echoes,
    end_us,
    framework_span,
    in_place_of,
    merge_call,
    request_only,
    response_id,
    same_call,
)
from phosphobs.storage.models import Event


def merge_siblings(events: list[Event]) -> list[Event]:
    """`events` with sibling spans of one call merged into one event (nested ones are already merged)."""
    if len(events) < 2:
        return events
    groups: dict[tuple[str, str | None, str], list[int]] = {}
    shared = False
    for index, event in enumerate(events):
        if event.kind in CALL_KINDS and event.trace_id:
            key = (event.trace_id, event.parent_span_id, event.kind)
            if event.parent_span_id is None and (found := response_id(event)) is not None:
                key = ("", found, event.kind)  # root spans of one call may each start a trace: the id joins them
            members = groups.setdefault(key, [])
            members.append(index)
            shared = shared or len(members) > 1
    if not shared:  # the usual request: no two call spans under one parent
        return _merge_cross_trace_echoes(events)
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
    return _merge_cross_trace_echoes(out)


def _merge_cross_trace_echoes(events: list[Event]) -> list[Event]:
    """A framework's call span and the client's root span (a trace of its own) that echoes it, as one event
    in the framework span's place: that is where the app's trace has the call."""
    calls = [(i, framework_span(e)) for i, e in enumerate(events) if e.kind in CALL_KINDS and e.trace_id]
    frameworks = [i for i, framework in calls if framework]
    clients = sorted((i for i, framework in calls if not framework and not events[i].parent_span_id),
                     key=lambda i: (events[i].timestamp_us, events[i].span_id or ""))
    if not clients or not frameworks:
        return events
    starts = [events[j].timestamp_us for j in clients]
    replaced: dict[int, Event | None] = {}
    for i in sorted(frameworks, key=lambda i: (events[i].timestamp_us, events[i].span_id or "")):
        framework = events[i]
        first = bisect_left(starts, framework.timestamp_us)
        window = clients[first:bisect_right(starts, end_us(framework) + ECHO_GAP_US)]
        j = next((j for j in window if j not in replaced and events[j].trace_id != framework.trace_id
                  and echoes(framework, events[j])), None)
        if j is not None:
            replaced[i] = in_place_of(framework, merge_call([framework, events[j]]), events[j])
            replaced[j] = None
    return [kept for i, event in enumerate(events) if (kept := replaced.get(i, event)) is not None]


def _calls(group: list[Event], indexes: list[int]) -> list[tuple[Event, list[int]]]:
    """The group's events clustered into calls; only clusters of two or more spans are returned."""
    order = sorted(range(len(group)), key=lambda i: (group[i].timestamp_us, group[i].span_id or ""))
    clusters = _Clusters(group)
    for n, i in enumerate(order):
        end = end_us(group[i])
        for j in order[n + 1 :]:
            if group[j].timestamp_us > end:
                break  # sorted by start: no later span overlaps this one
            if clusters.root(i) != clusters.root(j) and same_call(group[i], group[j]):
                clusters.join(i, j)
    _pair_split_streams(group, order, clusters)
    _pair_echoes(group, order, clusters)
    found = []
    for members in clusters.groups(order):
        merged = merge_call([group[i] for i in members])
        found.append((merged, [indexes[i] for i in members]))
    return found


class _Clusters:
    """Union-find over a group's spans, with each cluster's size and response ids."""

    def __init__(self, group: list[Event]) -> None:
        self.parent = list(range(len(group)))
        self.sizes = [1] * len(group)
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
        if not request_only(request) or clusters.size(i) > 1:
            continue
        for j in order[n + 1 :]:
            if clusters.size(j) > 1:
                continue
            other = group[j]
            if request_only(other) and compatible(request, other):
                break  # a later request of the same model comes first: the stream is not this one's
            if continues(request, other):
                clusters.join(i, j)
                break


def _pair_echoes(group: list[Event], order: list[int], clusters: _Clusters) -> None:
    """Each framework span still alone with the nearest later lone client span that echoes it."""
    for n, i in enumerate(order):
        if clusters.size(i) > 1 or not framework_span(group[i]):
            continue
        for j in order[n + 1 :]:
            if clusters.size(j) == 1 and echoes(group[i], group[j]):
                clusters.join(i, j)
                break

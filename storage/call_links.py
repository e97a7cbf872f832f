"""Spans of one call and content that arrive apart from the event they belong to (issue 13, items 1 to 3).

The normalizer merges the spans of one call that share an export request. Storage finishes the job
for what arrives later, in either order, over any transport:

- a call span whose call is already stored (a sibling, or the other half of a split stream) becomes a
  `member` patch of the stored event (`enrichment.apply_patches` merges members with `calls.merge_call`);
- every span merged into another's event leaves an alias (its own event id → the event's), and patches
  (log records) sent for an alias are re-keyed to the event, whether they came before or after;
- a root call span (no parent: its siblings may each have started a trace) with a `gen_ai.response.id`
  registers that id as an alias (`response:<id>`), so the other root spans of its call find it. A root
  call span without one is not looked up: an inner call span stored before it stays a second event (rare:
  the exporter must cut the batch between the two). Looking up every root would cost a query for every
  plain, unwrapped call, the most common traffic, to catch that rare case;
- stray content: an output-only patch (`gen_ai.choice`) sent with the id of a span that is no event
  (Traceloop's events mode uses the parent workflow span's) goes to an LLM call under that span that
  lacks its output; a failed agent run's history (pydantic-ai) to its failed call that has no input.

Backend-neutral: the SQL lives behind `LinkStore`, one small adapter per backend.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from phosphobs.storage.calls import CALL_KINDS, continues, echoes, end_us, response_id, same_call
from phosphobs.storage.models import Event, EventPatch, otlp_event_id
from phosphobs.storage.rows import with_decoded_metadata

_OUTPUT_FIELDS = frozenset(("choice", "output_messages"))


class LinkStore(Protocol):
    """The few reads and writes call linking needs, in one backend's SQL."""

    def stored_calls(self, project: str, traces: list[str], spans: list[str]) -> list[Event]:
        """Stored OTLP call events (llm, embedding) of `traces` whose own or parent span is in `spans`."""
        ...

    def lacking_output(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        """Stored LLM events of `traces` under one of `parents` that did not fail and have no output."""
        ...

    def failed_without_input(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        """Stored failed LLM events of `traces` under one of `parents` that have no input."""
        ...

    def existing(self, project: str, event_ids: list[str]) -> set[str]: ...

    def events(self, project: str, event_ids: list[str]) -> list[Event]: ...

    def aliases(self, project: str, event_ids: list[str]) -> dict[str, str]: ...

    def add_aliases(self, project: str, pairs: list[tuple[str, str]]) -> None: ...

    def patches_for(self, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]: ...

    def delete_patches(self, project: str, patches: list[EventPatch]) -> None: ...

    def store_patches(self, project: str, patches: list[EventPatch]) -> set[str]: ...


def absorb(db: LinkStore, project: str, events: list[Event]) -> tuple[list[Event], list[EventPatch], dict[str, str]]:
    """`events` without those that are another span of a stored call, the member patches they become,
    and the `response:<id>` key of each kept root call span (for `link_new_events`).

    Only spans with a parent, or root spans with a response id, are looked up, so a request of other
    root spans costs no query.
    """
    children: list[Event] = []
    roots: dict[str, Event] = {}  # `response:<id>` alias → a root call span with that response id
    for event in events:
        if event.kind not in CALL_KINDS or not event.trace_id or event.source != "otlp":
            continue
        if event.parent_span_id:
            children.append(event)
        elif (found := _root_key(event)) is not None:
            roots[found] = event
    if not children and not roots:
        return events, [], {}
    targets: dict[str, Event] = {}  # event id of an absorbed span → the stored event it joins
    dropped: dict[str, Event] = {}  # event id of an outer span whose inner calls are stored → the first
    _match_children(db, project, [*children, *roots.values()], targets, dropped)
    roots = {key: event for key, event in roots.items() if event.event_id not in targets}
    if roots:
        stored = db.aliases(project, sorted(roots))
        if stored:
            by_id = {e.event_id: e for e in db.events(project, sorted(set(stored.values())))}
            for key, target_id in stored.items():
                event, target = with_decoded_metadata(roots[key]), by_id.get(target_id)
                if target is not None and target.event_id != event.event_id and same_call(target, event):
                    targets[event.event_id] = target
    members: list[EventPatch] = []
    aliases: list[tuple[str, str]] = []
    for event in events:
        target = targets.get(event.event_id)
        if target is None:
            continue
        member = with_decoded_metadata(event)
        members.append(EventPatch(target.event_id, target.trace_id or "", target.span_id or "",
                                  f"{member.timestamp_us * 1000:020d}:member:{member.span_id}",
                                  {"member": dataclasses.asdict(member)}))
        aliases += [(alias, target.event_id) for alias in member_ids(member)]
    aliases += [(event_id, inner.event_id) for event_id, inner in dropped.items()]
    if aliases:
        db.add_aliases(project, aliases)
        _move_pending(db, project, dict(aliases))
    keys = {event.event_id: key for key, event in roots.items() if event.event_id not in targets}
    return [e for e in events if e.event_id not in targets and e.event_id not in dropped], members, keys


def _match_children(db: LinkStore, project: str, children: list[Event], targets: dict[str, Event],
                    dropped: dict[str, Event]) -> None:
    """A stored sibling of the same call, else a stored call span they nest in or that nests in them (two
    instrumentations wrapping one call, exported apart)."""
    stored = db.stored_calls(project, sorted({e.trace_id for e in children if e.trace_id}),
                             sorted({s for e in children for s in (e.parent_span_id, e.span_id) if s}))
    if not stored:
        return
    by_parent: dict[tuple[str | None, str | None, str], list[Event]] = defaultdict(list)
    by_span: dict[tuple[str | None, str | None, str], Event] = {}
    for row in stored:
        by_parent[(row.trace_id, row.parent_span_id, row.kind)].append(row)
        by_span[(row.trace_id, row.span_id, row.kind)] = row
    for event in children:
        decoded = with_decoded_metadata(event)
        rows = by_parent.get((event.trace_id, event.parent_span_id, event.kind))
        target = _stored_call(decoded, rows) if rows else None
        if target is None:
            inner = [r for r in by_parent.get((event.trace_id, event.span_id, event.kind), [])
                     if r.event_id != event.event_id]
            target = _nested(decoded, by_span.get((event.trace_id, event.parent_span_id, event.kind)), inner)
            if target is None and len(inner) > 1:  # an outer call that fanned out (retries, fallbacks):
                dropped[event.event_id] = inner[0]  # its inner calls are the calls; it only wrapped them
        if target is not None:
            targets[event.event_id] = target


def _nested(event: Event, outer: Event | None, inner: list[Event]) -> Event | None:
    """The stored call `event` is nested in (unless that one already took in a span: an outer call that
    fanned out keeps each inner call apart), else the one stored call nested in `event`."""
    if outer is not None and outer.event_id != event.event_id and not outer.metadata.get("merged_spans"):
        return outer
    return inner[0] if len(inner) == 1 else None


def _root_key(event: Event) -> str | None:
    """`response:<id>` for a root call span that reports its response id.

    Metadata that crossed the SQLite writer's pipe is JSON text: it is decoded only when its `response`
    section has an `id` (a quote inside a JSON string is escaped, so the key pattern matches keys only).
    """
    meta = event.metadata
    if isinstance(meta, str):
        start = meta.find('"response":{')
        if start < 0 or '"id":' not in meta[start : meta.find("}", start)]:
            return None
    found = response_id(with_decoded_metadata(event))
    return f"response:{found}" if found is not None else None


def _stored_call(event: Event, rows: list[Event]) -> Event | None:
    """The stored event that `event` is another span of: the same call, else the stream it splits, else
    the call a framework's span and a client's span both report (an echo; a stored event takes one)."""
    for row in rows:
        if row.event_id != event.event_id and same_call(row, event):
            return row
    split = [row for row in rows if row.event_id != event.event_id
             and (continues(row, event) or continues(event, row))]
    if not split:
        split = [row for row in rows if row.event_id != event.event_id and not row.metadata.get("merged_spans")
                 and (echoes(row, event) or echoes(event, row))]
    return min(split, key=lambda row: abs(row.timestamp_us - event.timestamp_us)) if split else None


def member_ids(event: Event) -> list[str]:
    """Event ids of every span merged into `event` (itself included)."""
    ids = [event.event_id]
    for member in event.metadata.get("merged_spans") or ():
        span = member.get("span_id") if isinstance(member, dict) else None
        trace = (member.get("trace_id") if isinstance(member, dict) else None) or event.trace_id
        if span and trace:
            ids.append(otlp_event_id(trace, span))
    return ids


def link_new_events(db: LinkStore, project: str, events: list[Event], root_keys: dict[str, str]) -> None:
    """Before `events` are inserted: aliases for the spans merged into them (and for a root call's
    response id), their pending patches moved to them, and stray content waiting under the parent span
    of a call that lacks it."""
    aliases: list[tuple[str, str]] = []
    waiting: list[dict[str, list[Event]]] = [defaultdict(list) for _ in _STRAYS]  # parent's event id → calls
    for event in events:
        if event.source != "otlp" or not event.trace_id:
            continue
        if not event.parent_span_id:
            if (key := root_keys.get(event.event_id)) is not None:
                aliases.append((key, event.event_id))
                if "merged_spans" in event.metadata:
                    aliases += [(alias, event.event_id) for alias in member_ids(with_decoded_metadata(event))[1:]]
            continue
        if "merged_spans" in event.metadata:  # a dict, or JSON text from the SQLite writer's pipe
            aliases += [(alias, event.event_id) for alias in member_ids(with_decoded_metadata(event))[1:]]
        if event.kind == "llm" and not (event.output and event.input):
            for stray, calls in zip(_STRAYS, waiting, strict=True):
                if stray.wants(event):
                    calls[otlp_event_id(event.trace_id, event.parent_span_id)].append(event)
    if aliases:
        db.add_aliases(project, aliases)
        _move_pending(db, project, dict(aliases))
    for stray, calls in zip(_STRAYS, waiting, strict=True):
        if calls:
            _claim_stray(db, project, stray, calls)


def _move_pending(db: LinkStore, project: str, targets: dict[str, str]) -> None:
    pending = db.patches_for(project, sorted(targets))
    moved = [p for found in pending.values() for p in found]
    if moved:
        db.delete_patches(project, moved)
        db.store_patches(project, [_rekeyed(p, targets[p.event_id]) for p in moved])


def _claim_stray(db: LinkStore, project: str, stray: _Stray, waiting: dict[str, list[Event]]) -> None:
    pending = db.patches_for(project, sorted(waiting))
    if not pending:
        return
    owners = db.existing(project, sorted(pending)) | set(db.aliases(project, sorted(pending)))
    moved: list[EventPatch] = []
    placed: list[EventPatch] = []
    for parent_id, patches in pending.items():
        found = [p for p in patches if stray.carries(p)]
        if parent_id in owners or not found:
            continue
        for patch, call in stray.assign(found, waiting[parent_id]):
            moved.append(patch)
            placed.append(_rekeyed(patch, call.event_id, call))
    if moved:
        db.delete_patches(project, moved)
        db.store_patches(project, placed)


def settle_patches(db: LinkStore, project: str, patches: list[EventPatch]) -> list[EventPatch]:
    """`patches` re-keyed to the event that stands for their span: through aliases, and stray content
    to the call that lacks it. Patches for spans not stored yet stay as they are (claimed on arrival)."""
    if not patches:
        return patches
    ids = sorted({p.event_id for p in patches})
    targets = db.aliases(project, ids)
    if targets:
        patches = [_rekeyed(p, targets[p.event_id]) if p.event_id in targets else p for p in patches]
    for stray in _STRAYS:
        patches = _settle_stray(db, project, stray, patches)
    return patches


def _settle_stray(db: LinkStore, project: str, stray: _Stray, patches: list[EventPatch]) -> list[EventPatch]:
    found = [p for p in patches if stray.carries(p)]
    if not found:
        return patches
    orphans = {p.event_id for p in found} - db.existing(project, sorted({p.event_id for p in found}))
    found = [p for p in found if p.event_id in orphans]
    if not found:
        return patches
    calls = stray.find(db, project, sorted({p.trace_id for p in found}), sorted({p.span_id for p in found}))
    under: dict[tuple[str | None, str | None], list[Event]] = defaultdict(list)
    for call in calls:
        under[(call.trace_id, call.parent_span_id)].append(call)
    placed: dict[int, EventPatch] = {}
    by_span: dict[tuple[str, str], list[EventPatch]] = defaultdict(list)
    for patch in found:
        by_span[(patch.trace_id, patch.span_id)].append(patch)
    for key, group in by_span.items():
        for patch, call in stray.assign(group, under.get(key, [])):
            placed[id(patch)] = _rekeyed(patch, call.event_id, call)
    return [placed.get(id(p), p) for p in patches]


def _assign(patches: list[EventPatch], calls: list[Event]) -> list[tuple[EventPatch, Event]]:
    """Stray outputs to calls, one output per call: each to a call that was running when the output was
    logged (the answer of a stream is logged as it ends), the one that ended nearest to it. An output
    logged without a time goes to the earliest free call."""
    free = sorted(calls, key=lambda c: (c.timestamp_us, c.span_id or ""))
    pairs = []
    for patch in sorted(patches, key=lambda p: p.order_key):
        at_us = int(patch.order_key.split(":", 1)[0]) // 1000
        fits = [c for c in free if c.timestamp_us <= at_us <= end_us(c) + _SLACK_US] if at_us else free[:1]
        if not fits:
            continue
        call = min(fits, key=lambda c: abs(end_us(c) - at_us))
        free.remove(call)
        pairs.append((patch, call))
    return pairs


_SLACK_US = 2_000_000  # an answer logged just after its span ended


def _assign_last(patches: list[EventPatch], calls: list[Event]) -> list[tuple[EventPatch, Event]]:
    """An agent's history to its last failed call: the failure ended the run, so the history ends there."""
    if not patches or not calls:
        return []
    last = max(calls, key=lambda c: (c.timestamp_us, c.span_id or ""))
    return [(min(patches, key=lambda p: p.order_key), last)]


def _history_only(patch: EventPatch) -> bool:
    return patch.fields.keys() == {"input_messages"}


@dataclass(frozen=True, slots=True)
class _Stray:
    """One kind of content that may arrive on the parent span of the call it belongs to."""

    carries: Callable[[EventPatch], bool]  # a patch of this kind
    wants: Callable[[Event], bool]  # a call that lacks it
    find: Callable[[LinkStore, str, list[str], list[str]], list[Event]]  # stored calls that lack it
    assign: Callable[[list[EventPatch], list[Event]], list[tuple[EventPatch, Event]]]


def _output_only(patch: EventPatch) -> bool:
    return bool(patch.fields) and patch.fields.keys() <= _OUTPUT_FIELDS


def _rekeyed(patch: EventPatch, event_id: str, call: Event | None = None) -> EventPatch:
    if call is None:
        return dataclasses.replace(patch, event_id=event_id)
    return dataclasses.replace(patch, event_id=event_id, trace_id=call.trace_id or patch.trace_id,
                               span_id=call.span_id or patch.span_id)


_STRAYS = (
    # Traceloop's events mode: a streamed answer logged on the workflow span
    _Stray(_output_only, lambda e: not e.output and e.status != "error",
           lambda db, *args: db.lacking_output(*args), _assign),
    # pydantic-ai: a failed call's input recorded only on its (failed) agent span
    _Stray(_history_only, lambda e: not e.input and e.status == "error",
           lambda db, *args: db.failed_without_input(*args), _assign_last),
)

"""A trace's session and user on SQLite: the earliest span's, across every span of the trace.

Most session and user attributes sit on the LLM spans themselves, and such a span is stored as an event
with that session, user and start time (`explicit_session_id`, `explicit_user_id`, `ts_us`): the event
row already records the hint. So the context of a trace is folded from

- its `trace_context` row, which holds the hints of spans that are not events (agent, chain, HTTP
  wrapper spans, nested duplicates), and
- the hints of its stored OTLP events, while it has no row.

Writing a `trace_context` row for every trace instead was one more random-key B-tree insert per span:
~15 % of the SQLite writer's time under OTLP load. So that reading a trace's events stays short, a trace
with `MATERIALIZE_AFTER` OTLP events gets its row after all (all NULL if nothing names a session or
user); a row, once there, holds every hint of its trace, events' included, and is read alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from phosphobs.storage.models import Event, TraceHint
from phosphobs.storage.sessions import TraceContext, merge_trace_hint
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges, context_of, relabel, write_contexts

MATERIALIZE_AFTER = 16

_Hint = tuple[int, str | None, str | None]  # start, session, user
_NOTHING = TraceContext(None, None, None, None)  # a row for a big trace that names no session or user


def resolve(conn: Conn, project: str, hints: list[TraceHint], events: list[Event],
            changes: SessionChanges) -> dict[str, TraceContext | None]:
    """Fold an op's hints into their traces, relabel stored events whose trace session or user changed,
    and return the context of every trace the op's hints and `events` (the op's OTLP events) belong to.

    Call before inserting `events`: their own hints are folded in here, so they are labelled with the
    context they complete.
    """
    traces = list({h.trace_id for h in hints} | {e.trace_id for e in events if e.trace_id})
    if not traces:
        return {}
    rows: dict[str, TraceContext] = {r[0]: context_of(r) for r in conn.dialect.rows_in(
        conn, "SELECT trace_id, session_start_us, session_id, user_start_us, user_id FROM trace_context"
              " WHERE project_id = ? AND trace_id {in}", (project,), traces)}
    stored: dict[str, list[_Hint]] = defaultdict(list)
    size: Counter[str] = Counter()  # stored OTLP events of each trace without a row
    for r in conn.dialect.rows_in(conn, "SELECT trace_id, ts_us, explicit_session_id, explicit_user_id FROM events"
                                        " WHERE project_id = ? AND trace_id {in} AND source = 'otlp'",
                                  (project,), [t for t in traces if t not in rows]):
        size[r[0]] += 1
        if r[2] is not None or r[3] is not None:
            stored[r[0]].append((r[1], r[2], r[3]))
    before: dict[str, TraceContext | None] = {
        t: rows[t] if t in rows else _fold(None, stored.get(t, ())) for t in traces}
    after = dict(before)
    carried = _carried_by_events(hints, events)
    keep: set[str] = set()  # traces whose row must be written
    for hint in hints:
        after[hint.trace_id] = _fold(after[hint.trace_id], [(hint.start_us, hint.session_id, hint.user_id)])
        key = (hint.trace_id, hint.start_us, hint.session_id, hint.user_id)
        if carried[key] > 0:
            carried[key] -= 1  # this hint is an event's own: the event row records it
        else:
            keep.add(hint.trace_id)
    arriving = Counter(e.trace_id for e in events if e.trace_id)
    for trace in traces:
        if trace in rows:
            if after[trace] != rows[trace]:
                keep.add(trace)
        elif size[trace] + arriving[trace] >= MATERIALIZE_AFTER:
            keep.add(trace)  # from now on the row is read instead of the trace's events
    if keep:
        write_contexts(conn, project, [(t, after[t] or _NOTHING) for t in keep])
    changed = [t for t in traces if _labels(before[t]) != _labels(after[t])]
    if changed:
        relabel(conn, project, {t: after[t] for t in changed}, changes)
    return after


def _carried_by_events(hints: list[TraceHint], events: list[Event]) -> Counter[tuple[str, int, str | None, str | None]]:
    """The hints that the op's OTLP events record themselves (a span that is an event names its own)."""
    if not hints:
        return Counter()
    return Counter((e.trace_id, e.timestamp_us, e.session_id, e.user_id) for e in events
                   if e.trace_id and e.source == "otlp" and (e.session_id or e.user_id))


def _fold(context: TraceContext | None, hints: list[_Hint] | tuple[()]) -> TraceContext | None:
    for start_us, session_id, user_id in hints:
        context = merge_trace_hint(context, start_us, session_id, user_id) or context
    return context


def _labels(context: TraceContext | None) -> tuple[str | None, str | None]:
    return (context.session_id, context.user_id) if context else (None, None)

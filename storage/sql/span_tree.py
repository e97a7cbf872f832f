"""Writing the GenAI span tree, once for both backends, inside the ingest op's group commit.

The tree of a trace is its OTLP events (call spans) plus its `spans` rows (everything else). Spans
arrive in any order and any number of requests, so connecting a span to its root cannot be decided
when it arrives. Plain spans that are not yet known ancestors of a GenAI span are stored `pending`
(unserved); the final state is the same whatever the order because of two symmetric rules:

- a kept span (event or non-pending row) whose parent is stored pending promotes it, and so on up;
- a pending span that arrives after a kept child of it is promoted on arrival (and so on up).

Both are checked in the op that completes the pair, under the trace's exclusive lock on Postgres.
Retries are idempotent: rows are keyed by (project, trace, span) and an insert never overwrites,
except that a pending row becomes kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from phosphobs.storage.models import Event, SpanRecord, span_of_event
from phosphobs.storage.rows import dumps, with_decoded_metadata
from phosphobs.storage.sql.dialect import Conn

MAX_DEPTH = 256  # ancestor walks stop here, whatever a malformed trace claims
# A pending span no GenAI descendant claimed within this long after it arrived is dropped. Descendants
# end (and are exported) before their ancestors, so a late one is seconds away, not an hour.
PENDING_TTL_US = 3_600_000_000
EXPIRE_BATCH = 500  # pending spans dropped per op that adds some: the cleanup keeps pace, bounded
SPAN_COLUMNS = (
    "project_id", "trace_id", "span_id", "parent_span_id", "name", "kind", "start_us", "end_us", "status",
    "error", "event_id", "agent_name", "tool_name", "model", "tokens_in", "tokens_out", "cost_cents",
    "attributes", "pending", "received_us",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
    " ON CONFLICT (project_id, trace_id, span_id) DO UPDATE SET pending = 0"
    " WHERE spans.pending = 1 AND excluded.pending = 0"
)

Key = tuple[str, str]  # (trace_id, span_id)


def needs_tree_work(spans: list[SpanRecord], events: list[Event]) -> bool:
    """Whether `write_spans` has anything to do (the usual LLM-only request: a root call, no rows)."""
    return bool(spans) or any(e.parent_span_id for e in events)


def trace_ids_to_lock(spans: list[SpanRecord], events: list[Event]) -> set[str]:
    """Traces whose tree an op may change: Postgres takes their lock exclusively (see module doc)."""
    return {s.trace_id for s in spans} | {e.trace_id for e in events if e.parent_span_id and e.trace_id}


def absorbed_spans(targets: dict[str, str], events: list[Event]) -> list[SpanRecord]:
    """Span records of call spans that storage joined to a stored call (`call_links.absorb`): no event row
    of their own, so the tree gets them as rows pointing at the call's event (`targets`: alias → event)."""
    records = []
    for event in events:
        if event.trace_id and event.span_id:
            decoded = with_decoded_metadata(event)
            records.append(span_of_event(decoded, targets.get(event.event_id),
                                         dumps(decoded.metadata.get("attributes") or {})))
    return records


def write_spans(conn: Conn, project: str, spans: list[SpanRecord], events: list[Event], received_us: int) -> None:
    """Store an op's span records and connect its kept spans to their stored ancestors."""
    if spans:
        conn.executemany(_INSERT, [_row(project, s, received_us) for s in spans])
    kept: set[Key] = {(s.trace_id, s.span_id) for s in spans if not s.pending}
    kept.update((e.trace_id, e.span_id) for e in events if e.trace_id and e.span_id)
    frontier: set[Key] = set()
    for trace, parent in _parents(spans, events):
        if (trace, parent) not in kept:
            frontier.add((trace, parent))
    stubs = {(s.trace_id, s.span_id) for s in spans if s.pending}
    if stubs:
        frontier |= _with_kept_children(conn, project, stubs)
    _promote(conn, project, frontier)
    if stubs:
        _expire_pending(conn, project, received_us - PENDING_TTL_US)


def _expire_pending(conn: Conn, project: str, before_us: int) -> None:
    """Drop plain spans that stayed pending past their time: they are no ancestor of any GenAI span."""
    conn.execute("DELETE FROM spans WHERE (project_id, trace_id, span_id) IN (SELECT project_id, trace_id, span_id"
                 " FROM spans WHERE project_id = ? AND pending = 1 AND received_us < ? LIMIT ?)",
                 [project, before_us, EXPIRE_BATCH])


def _parents(spans: list[SpanRecord], events: list[Event]) -> Iterable[Key]:
    for s in spans:
        if not s.pending and s.parent_span_id:
            yield s.trace_id, s.parent_span_id
    for e in events:
        if e.trace_id and e.parent_span_id:
            yield e.trace_id, e.parent_span_id


def _row(project: str, s: SpanRecord, received_us: int) -> tuple[object, ...]:
    return (
        project, s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_us, s.end_us, s.status, s.error,
        s.event_id, s.agent_name, s.tool_name, s.model, s.tokens_in, s.tokens_out, s.cost_cents, s.attributes,
        1 if s.pending else 0, received_us,
    )


def _with_kept_children(conn: Conn, project: str, stubs: set[Key]) -> set[Key]:
    """The pending spans among `stubs` that some stored kept span or event names as its parent."""
    found: set[Key] = set()
    for table, extra in (("spans", " AND pending = 0"), ("events", "")):
        for r in conn.dialect.rows_in_pairs(
            conn, f"SELECT trace_id, parent_span_id FROM {table} WHERE project_id = ? AND trace_id {{first}}"
                  f" AND parent_span_id {{second}}{extra}", (project,), list(stubs),
        ):
            key = (r["trace_id"], r["parent_span_id"])
            if key in stubs:
                found.add(key)
    return found


def _promote(conn: Conn, project: str, frontier: set[Key]) -> None:
    """Make the pending spans in `frontier` kept, then their pending ancestors, up to the root."""
    depth = 0
    while frontier and depth < MAX_DEPTH:
        promoted = [(r["trace_id"], r["span_id"], r["parent_span_id"]) for r in conn.dialect.rows_in_pairs(
            conn, "SELECT trace_id, span_id, parent_span_id FROM spans WHERE project_id = ? AND pending = 1"
                  " AND trace_id {first} AND span_id {second}", (project,), list(frontier),
        ) if (r["trace_id"], r["span_id"]) in frontier]
        if not promoted:
            return
        conn.executemany("UPDATE spans SET pending = 0 WHERE project_id = ? AND trace_id = ? AND span_id = ?",
                         [(project, t, s) for t, s, _ in promoted])
        frontier = {(t, p) for t, _, p in promoted if p}
        depth += 1


def prune_spans(conn: Conn, project: str, older_than_us: int, batch: int) -> int:
    """Delete up to `batch` of the project's spans that ended before the cutoff; returns how many.

    By end time: a child ends before its parent, so a pruned parent never leaves a child behind.
    """
    rows = conn.execute("SELECT trace_id, span_id FROM spans WHERE project_id = ? AND end_us < ? LIMIT ?",
                        (project, older_than_us, batch)).fetchall()
    if rows:
        conn.executemany("DELETE FROM spans WHERE project_id = ? AND trace_id = ? AND span_id = ?",
                         [(project, r["trace_id"], r["span_id"]) for r in rows])
    return len(rows)

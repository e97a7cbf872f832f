"""Reading span trees, once for both backends: a trace is its OTLP events plus its kept `spans` rows.

Every read is served by an index: events by (project_id, trace_id), spans by their primary key prefix
(project_id, trace_id). Listings walk events newest first by (ts_us, seq) and group them by trace, so
no per-trace table is written on the ingest path (an LLM-only span costs nothing more than before).
A listing request scans at most MAX_SCAN events; a page may then hold fewer traces than asked, with
a cursor to go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from phosphobs.storage.protocol import Page, StoredEvent
from phosphobs.storage.rows import READ_COLUMNS, stored_event
from phosphobs.storage.sql.dialect import Conn, all_rows
from phosphobs.storage.trace_records import TraceQuery, TraceRecord, TraceSpan, TraceSummary

MAX_SCAN = 5_000  # events one listing request reads at most
_SCAN_CHUNK = 500
_EVENT_SELECT = f"SELECT seq, {', '.join(READ_COLUMNS)} FROM events"


def get_trace(conn: Conn, project: str, trace_id: str) -> TraceRecord | None:
    # No ORDER BY: it would tempt SQLite's planner into the project's time index; a trace is small.
    events = sorted((stored_event(r) for r in all_rows(conn, f"{_EVENT_SELECT} WHERE project_id = ? AND trace_id = ?",
                                                        (project, trace_id))),
                    key=lambda e: (e.event.timestamp_us, e.seq))
    rows = all_rows(conn, "SELECT * FROM spans WHERE project_id = ? AND trace_id = ? AND pending = 0",
                    (project, trace_id))
    if not events and not rows:
        return None
    by_id: dict[str, TraceSpan] = {}
    for row in rows:
        by_id[row["span_id"]] = _span_of_row(row)
    for stored in events:
        if stored.event.span_id:
            by_id[stored.event.span_id] = span_of_event(stored)  # an event wins over a row of the same span
    spans = sorted(by_id.values(), key=lambda s: (s.start_us, s.span_id))
    session_id, user_id = _session_and_user(conn, project, trace_id, events)
    return TraceRecord(trace_id, session_id, user_id, min(s.start_us for s in spans), max(s.end_us for s in spans),
                       spans)


def span_of_event(stored: StoredEvent) -> TraceSpan:
    e = stored.event
    meta = e.metadata if isinstance(e.metadata, dict) else {}
    error = None
    if e.status == "error":
        error = (meta.get("error") or {}).get("message") or e.error_type or "error"
    return TraceSpan(
        span_id=e.span_id or "", parent_span_id=e.parent_span_id,
        name=str((meta.get("span") or {}).get("name") or e.kind), kind=e.kind if e.kind != "event" else "other",
        start_us=e.timestamp_us, end_us=e.timestamp_us + int((e.latency_ms or 0) * 1000), status=e.status,
        error=error, event_id=e.event_id, tool_name=(meta.get("tool") or {}).get("name"), model=e.model,
        tokens_in=e.tokens_in, tokens_out=e.tokens_out, cost_cents=e.cost_cents,
        attributes=meta.get("attributes") or {}, event=stored,
    )


def _span_of_row(row: Mapping[str, Any]) -> TraceSpan:
    return TraceSpan(
        span_id=row["span_id"], parent_span_id=row["parent_span_id"], name=row["name"], kind=row["kind"],
        start_us=row["start_us"], end_us=row["end_us"], status=row["status"], error=row["error"],
        event_id=row["event_id"], agent_name=row["agent_name"], tool_name=row["tool_name"], model=row["model"],
        tokens_in=row["tokens_in"], tokens_out=row["tokens_out"], cost_cents=row["cost_cents"],
        attributes=orjson.loads(row["attributes"]),
    )


def _session_and_user(conn: Conn, project: str, trace_id: str,
                      events: list[StoredEvent]) -> tuple[str | None, str | None]:
    if events:
        return events[0].session_id, next((e.user_id for e in events if e.user_id), None)
    rows = all_rows(conn, "SELECT session_id, user_id FROM trace_context WHERE project_id = ? AND trace_id = ?",
                    (project, trace_id))
    return (rows[0]["session_id"], rows[0]["user_id"]) if rows else (None, None)


def session_traces(conn: Conn, project: str, session_id: str) -> list[str]:
    """The session's trace ids in time order (of each trace's first call)."""
    rows = all_rows(conn, "SELECT trace_id, MIN(ts_us) AS first_us FROM events WHERE project_id = ? AND session_id = ?"
                          " GROUP BY trace_id", (project, session_id))  # no trace_id test: the session index serves
    traced = [r for r in rows if r["trace_id"] is not None]
    return [r["trace_id"] for r in sorted(traced, key=lambda r: (r["first_us"], r["trace_id"]))]


def list_traces(conn: Conn, project: str, q: TraceQuery) -> Page[TraceSummary]:
    """Traces by their latest call, newest first; a trace is listed at its newest matching event."""
    where, args = ["project_id = ?"], [project]
    for condition, value in (("session_id = ?", q.session_id), ("user_id = ?", q.user_id),
                             ("ts_us >= ?", q.since_us), ("ts_us < ?", q.until_us)):
        if value is not None:
            where.append(condition)
            args.append(value)
    seen: set[str] = set()
    items: list[TraceSummary] = []
    cursor = q.after
    scanned = 0
    while scanned < MAX_SCAN:
        keyset = " AND (ts_us < ? OR (ts_us = ? AND seq < ?))" if cursor else ""
        rows = all_rows(
            conn, f"SELECT seq, ts_us, trace_id FROM events WHERE {' AND '.join(where)} AND trace_id IS NOT NULL"
                  f"{keyset} ORDER BY ts_us DESC, seq DESC LIMIT ?",
            (*args, *((cursor[0], cursor[0], cursor[1]) if cursor else ()), _SCAN_CHUNK),
        )
        scanned += len(rows)
        fresh: list[tuple[str, tuple[int, int]]] = []
        for r in rows:
            if r["trace_id"] not in seen:
                seen.add(r["trace_id"])
                fresh.append((r["trace_id"], (r["ts_us"], r["seq"])))
        listed = _listed_before(conn, where, args, q.after, [t for t, _ in fresh]) if q.after else set()
        fresh = [(t, anchor) for t, anchor in fresh if t not in listed]
        while fresh:  # summarise only as many traces as the page still needs
            need = q.limit - len(items)
            part, fresh = fresh[:need], fresh[need:]
            summaries = _summaries(conn, project, [t for t, _ in part])
            for trace_id, anchor in part:
                summary = summaries.get(trace_id)
                if summary is None or (q.has_errors is not None and summary.has_error != q.has_errors):
                    continue
                items.append(summary)
                if len(items) == q.limit:
                    return Page(items, anchor)
        if len(rows) < _SCAN_CHUNK:
            return Page(items, None)
        cursor = (rows[-1]["ts_us"], rows[-1]["seq"])
    return Page(items, cursor)


def _listed_before(conn: Conn, where: list[str], args: list[Any], after: tuple[int, int],
                   traces: list[str]) -> set[str]:
    """Which of `traces` have a matching event newer than the cursor: an earlier page listed them.

    `where` holds no `trace_id IS NOT NULL`: SQLite would take it as a range on the trace index."""
    return {r["trace_id"] for r in conn.dialect.rows_in(
        conn, f"SELECT DISTINCT trace_id FROM events WHERE {' AND '.join(where)}"
              " AND (ts_us > ? OR (ts_us = ? AND seq >= ?)) AND trace_id {in}",
        (*args, after[0], after[0], after[1]), traces)}


def _summaries(conn: Conn, project: str, traces: list[str]) -> dict[str, TraceSummary]:
    nodes: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in traces}
    totals: dict[str, dict[str, Any]] = {t: {"llm": 0, "tin": 0, "tout": 0, "cost": None, "session": None,
                                             "user": None} for t in traces}
    rows_in = conn.dialect.rows_in
    for r in rows_in(conn, "SELECT trace_id, span_id, parent_span_id, name, start_us, end_us, status FROM spans"
                           " WHERE project_id = ? AND trace_id {in} AND pending = 0", (project,), traces):
        nodes[r["trace_id"]][r["span_id"]] = dict(r)
    for r in rows_in(conn, "SELECT trace_id, span_id, parent_span_id, ts_us, latency_ms, kind, status, tokens_in,"
                           " tokens_out, cost_cents, session_id, user_id, seq FROM events"
                           " WHERE project_id = ? AND trace_id {in}", (project,), traces):
        t = totals[r["trace_id"]]
        t["llm"] += r["kind"] == "llm"
        t["tin"] += r["tokens_in"] or 0
        t["tout"] += r["tokens_out"] or 0
        if r["cost_cents"] is not None:
            t["cost"] = (t["cost"] or 0) + r["cost_cents"]
        first = (r["ts_us"], r["seq"])
        if r["session_id"] is not None and (t["session"] is None or first < t["session"][0]):
            t["session"] = (first, r["session_id"])  # the trace's earliest call names its session
        if r["user_id"] is not None and (t["user"] is None or first < t["user"][0]):
            t["user"] = (first, r["user_id"])
        end = r["ts_us"] + int((r["latency_ms"] or 0) * 1000)
        nodes[r["trace_id"]][r["span_id"] or ""] = {"span_id": r["span_id"], "parent_span_id": r["parent_span_id"],
                                                    "name": None, "start_us": r["ts_us"], "end_us": end,
                                                    "status": r["status"], "kind": r["kind"]}
    roots: dict[str, dict[str, Any]] = {}
    for trace_id in traces:
        spans = nodes[trace_id]
        found = sorted((s for s in spans.values() if not s["parent_span_id"] or s["parent_span_id"] not in spans),
                       key=lambda s: (s["start_us"], s["span_id"] or ""))
        if found:
            roots[trace_id] = found[0]
    _name_event_roots(conn, project, roots)
    out: dict[str, TraceSummary] = {}
    for trace_id in traces:
        spans = nodes[trace_id]
        if not spans:
            continue
        t = totals[trace_id]
        root = roots.get(trace_id)
        out[trace_id] = TraceSummary(
            trace_id=trace_id, session_id=t["session"][1] if t["session"] else None,
            user_id=t["user"][1] if t["user"] else None,
            root_name=root["name"] if root else None,
            start_us=min(s["start_us"] for s in spans.values()), end_us=max(s["end_us"] for s in spans.values()),
            span_count=len(spans), llm_calls=t["llm"], tokens_in=t["tin"], tokens_out=t["tout"],
            cost_cents=t["cost"], has_error=any(s["status"] == "error" for s in spans.values()),
        )
    return out


def _name_event_roots(conn: Conn, project: str, roots: dict[str, dict[str, Any]]) -> None:
    """Root spans that are events carry their name in the event's metadata: read it for those only."""
    unnamed = {(t, r["span_id"]): r for t, r in roots.items() if r["name"] is None and r["span_id"]}
    name = conn.dialect.json_field("metadata", "span", "name")
    found = {(r["trace_id"], r["span_id"]): r["name"] for r in conn.dialect.rows_in_pairs(
        conn, f"SELECT trace_id, span_id, {name} AS name FROM events WHERE project_id = ? AND trace_id {{first}}"
              " AND span_id {second}", (project,), list(unnamed))}
    for key, root in unnamed.items():
        root["name"] = found.get(key) or root["kind"]

"""OTLP content that travels apart from its span (log records): stored, and merged into the event.

The stored event is always `apply_patches(span's base event, every patch so far)`, whichever of the
span and its log records arrived first, so arrival order cannot change what is stored. Patches and
spans of one event serialise on the writer lock (Postgres: the event's advisory lock, taken exclusive
by patch writers).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.rows import (
    dumps,
    event_from_json,
    event_from_row,
    event_to_json,
    patch_from_json,
    patch_to_json,
    with_decoded_metadata,
)
from phosphobs.storage.sql.detection import REQUEUE
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.sessions import SessionChanges
from phosphobs.storage.usage_facts import facts_from_row


def _texts(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, "text") for name in names)


def store_patches(conn: Conn, project: str, patches: list[EventPatch]) -> set[str]:
    """Keep every patch (a retried log record is stored once); returns the event ids they belong to."""
    conn.dialect.insert_many(conn, "event_patches", _texts("project_id", "event_id", "order_key", "patch"),
                             [(project, p.event_id, p.order_key, patch_to_json(p)) for p in patches])
    return {p.event_id for p in patches}


def patches_for(conn: Conn, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]:
    found: dict[str, list[EventPatch]] = defaultdict(list)
    sql = "SELECT event_id, order_key, patch FROM event_patches WHERE project_id = ? AND event_id {in}"
    for row in conn.dialect.rows_in(conn, sql, (project,), event_ids):
        found[row["event_id"]].append(patch_from_json(row["event_id"], row["order_key"], row["patch"]))
    return found


def merge_pending(conn: Conn, project: str, events: list[Event]) -> list[Event]:
    """Apply patches that arrived before their span; only then is the span's own (base) event kept apart.

    A stored event that no patch touched is its own base, so the common case stores no second copy.
    """
    spans = [e for e in events if e.source == "otlp"]
    pending = patches_for(conn, project, [e.event_id for e in spans]) if spans else {}
    if not pending:
        return events
    events = [with_decoded_metadata(e) if e.event_id in pending else e for e in events]
    conn.dialect.insert_many(conn, "event_bases", _texts("project_id", "event_id", "base"),
                             [(project, e.event_id, event_to_json(e)) for e in events
                              if e.source == "otlp" and e.event_id in pending])
    return [apply_patches(e, pending[e.event_id]) if e.event_id in pending else e for e in events]


def refresh_patched(conn: Conn, project: str, event_ids: set[str], changes: SessionChanges,
                    requeue_us: int | None = None) -> None:
    """Rewrite already-stored events that just received new patches.

    `requeue_us`: an event whose input or output changed is queued for detection again (at that time),
    so detectors never keep a verdict on content that was still on its way."""
    requeued: list[tuple[int, str, str, int]] = []
    ids = sorted(event_ids)
    patches = patches_for(conn, project, ids)
    d = conn.dialect
    rows = d.rows_in(conn, "SELECT e.*, b.base FROM events e LEFT JOIN event_bases b ON b.project_id = e.project_id"
                           " AND b.event_id = e.event_id WHERE e.project_id = ? AND e.event_id {in}"
                           f" ORDER BY e.seq{d.for_update and d.for_update + ' OF e'}", (project,), ids)
    for row in rows:
        if row["base"] is None:  # first patch for this stored event: the row as it stands is the base
            base = event_from_row(row)
            conn.execute("INSERT INTO event_bases (project_id, event_id, base) VALUES (?, ?, ?)",
                         (project, row["event_id"], event_to_json(base)))
        else:
            base = event_from_json(row["base"])
        merged = apply_patches(base, patches.get(row["event_id"], []))
        conn.execute(
            "UPDATE events SET input = ?, output = ?, model = ?, provider = ?, tokens_in = ?, tokens_out = ?,"
            " cost_cents = ?, cost_source = ?, latency_ms = ?, metadata = ? WHERE seq = ?",
            (merged.input, merged.output, merged.model, merged.provider, merged.tokens_in, merged.tokens_out,
             merged.cost_cents, merged.cost_source, merged.latency_ms, dumps(merged.metadata), row["seq"]),
        )
        if (merged.input, merged.output) != (row["input"], row["output"]):
            d.reindex(conn, row["seq"], (row["input"], row["output"]), (merged.input, merged.output))
            if requeue_us is not None:
                requeued.append((row["seq"], project, row["event_id"], requeue_us))
        old = facts_from_row(row)
        changes.usage(project, [old], [replace(old, model=merged.model, tokens_in=merged.tokens_in,
                                                    tokens_out=merged.tokens_out, cost_cents=merged.cost_cents,
                                                    latency_ms=merged.latency_ms)])
        if row["session_id"]:
            changes.recompute((project, row["session_id"]))
    if requeued:
        conn.executemany(REQUEUE, requeued)

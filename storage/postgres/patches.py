"""OTLP content that travels apart from its span (log records), merged into the event on Postgres.

Same contract as `storage/sqlite/patches.py`: the stored event is `apply_patches(base, every patch)`.
Patches and spans of one event serialise on the event's advisory lock (patch writers take it exclusive).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import psycopg
from phosphobs.storage.detection_sql import REQUEUE
from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.postgres import rollup
from phosphobs.storage.postgres.search import document
from phosphobs.storage.postgres.sessions import SessionChanges
from phosphobs.storage.rows import (
    dumps,
    event_from_json,
    event_from_row,
    event_to_json,
    patch_from_json,
    patch_to_json,
)


def store_patches(conn: psycopg.Connection, project: str, patches: list[EventPatch]) -> set[str]:
    """Keep every patch (a retried log record is stored once); returns the event ids they belong to."""
    conn.execute(
        "INSERT INTO event_patches (project_id, event_id, order_key, patch)"
        " SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
        (project, [p.event_id for p in patches], [p.order_key for p in patches], [patch_to_json(p) for p in patches]),
    )
    return {p.event_id for p in patches}


def patches_for(conn: psycopg.Connection, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]:
    found: dict[str, list[EventPatch]] = defaultdict(list)
    rows = conn.execute(
        "SELECT event_id, order_key, patch FROM event_patches WHERE project_id = %s AND event_id = ANY(%s)",
        (project, event_ids),
    ).fetchall()
    for row in rows:
        found[row["event_id"]].append(patch_from_json(row["event_id"], row["order_key"], row["patch"]))
    return found


def merge_pending(conn: psycopg.Connection, project: str, events: list[Event]) -> list[Event]:
    """Apply patches that arrived before their span; only then is the span's own (base) event kept apart.

    A stored event that no patch touched is its own base, so the common case stores no second copy.
    """
    spans = [e for e in events if e.source == "otlp"]
    pending = patches_for(conn, project, [e.event_id for e in spans]) if spans else {}
    if not pending:
        return events
    based = [e for e in spans if e.event_id in pending]
    conn.execute(
        "INSERT INTO event_bases (project_id, event_id, base) SELECT %s, * FROM unnest(%s::text[], %s::text[])"
        " ON CONFLICT DO NOTHING",
        (project, [e.event_id for e in based], [event_to_json(e) for e in based]),
    )
    return [apply_patches(e, pending[e.event_id]) if e.event_id in pending else e for e in events]


def refresh_patched(conn: psycopg.Connection, project: str, event_ids: set[str], changes: SessionChanges,
                    requeue_us: int | None = None) -> None:
    """Rewrite already-stored events that just received new patches.

    `requeue_us`: an event whose input or output changed is queued for detection again (at that time),
    so detectors never keep a verdict on content that was still on its way."""
    requeued: list[tuple[int, str, str, int]] = []
    ids = sorted(event_ids)
    patches = patches_for(conn, project, ids)
    rows = conn.execute(
        "SELECT e.*, b.base FROM events e LEFT JOIN event_bases b"
        " ON b.project_id = e.project_id AND b.event_id = e.event_id"
        " WHERE e.project_id = %s AND e.event_id = ANY(%s) ORDER BY e.seq FOR UPDATE OF e",
        (project, ids),
    ).fetchall()
    for row in rows:
        if row["base"] is None:  # first patch for this stored event: the row as it stands is the base
            base = event_from_row(row)
            conn.execute("INSERT INTO event_bases (project_id, event_id, base) VALUES (%s, %s, %s)",
                         (project, row["event_id"], event_to_json(base)))
        else:
            base = event_from_json(row["base"])
        merged = apply_patches(base, patches.get(row["event_id"], []))
        conn.execute(
            "UPDATE events SET input = %s, output = %s, model = %s, provider = %s, tokens_in = %s, tokens_out = %s,"
            " metadata = %s::json, search = strip(to_tsvector('simple', %s)) WHERE seq = %s",
            (merged.input, merged.output, merged.model, merged.provider, merged.tokens_in, merged.tokens_out,
             dumps(merged.metadata), document(merged.input, merged.output), row["seq"]),
        )
        old = rollup.facts_from_row(row)
        changes.usage(project, [old], [replace(old, model=merged.model, tokens_in=merged.tokens_in,
                                                    tokens_out=merged.tokens_out)])
        if requeue_us is not None and (merged.input, merged.output) != (row["input"], row["output"]):
            requeued.append((row["seq"], project, row["event_id"], requeue_us))
        if row["session_id"]:
            changes.recompute((project, row["session_id"]))
    if requeued:
        conn.cursor().executemany(REQUEUE.replace("?", "%s"), requeued)

"""`call_links.LinkStore` in Postgres' SQL (see `phosphobs.storage.call_links`)."""

from __future__ import annotations

import psycopg
from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.postgres import patches
from phosphobs.storage.rows import event_from_row


class PostgresLinks:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def stored_calls(self, project: str, traces: list[str], spans: list[str]) -> list[Event]:
        return self._select(project, traces, spans, "(parent_span_id = ANY(%(s)s) OR span_id = ANY(%(s)s))"
                                                    " AND kind IN ('llm', 'embedding')")

    def lacking_output(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        return self._select(project, traces, parents,
                            "parent_span_id = ANY(%(s)s) AND kind = 'llm' AND output = '' AND status <> 'error'")

    def _select(self, project: str, traces: list[str], spans: list[str], where: str) -> list[Event]:
        rows = self.conn.execute(
            f"SELECT * FROM events WHERE project_id = %(p)s AND trace_id = ANY(%(t)s) AND {where}"
            " AND source = 'otlp' ORDER BY seq FOR UPDATE", {"p": project, "t": traces, "s": spans}).fetchall()
        return [event_from_row(r) for r in rows]

    def existing(self, project: str, event_ids: list[str]) -> set[str]:
        return {r["event_id"] for r in self.conn.execute(
            "SELECT event_id FROM events WHERE project_id = %s AND event_id = ANY(%s)", (project, event_ids))}

    def events(self, project: str, event_ids: list[str]) -> list[Event]:
        return [event_from_row(r) for r in self.conn.execute(
            "SELECT * FROM events WHERE project_id = %s AND event_id = ANY(%s) ORDER BY seq FOR UPDATE",
            (project, event_ids))]

    def aliases(self, project: str, event_ids: list[str]) -> dict[str, str]:
        return {r["event_id"]: r["target_id"] for r in self.conn.execute(
            "SELECT event_id, target_id FROM event_aliases WHERE project_id = %s AND event_id = ANY(%s)",
            (project, event_ids))}

    def add_aliases(self, project: str, pairs: list[tuple[str, str]]) -> None:
        self.conn.execute(
            "INSERT INTO event_aliases (project_id, event_id, target_id) SELECT %s, * FROM"
            " unnest(%s::text[], %s::text[]) ON CONFLICT DO NOTHING",
            (project, [a for a, _ in pairs], [t for _, t in pairs]))

    def patches_for(self, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]:
        return patches.patches_for(self.conn, project, event_ids)

    def delete_patches(self, project: str, found: list[EventPatch]) -> None:
        self.conn.execute(
            "DELETE FROM event_patches WHERE project_id = %s AND (event_id, order_key) IN"
            " (SELECT * FROM unnest(%s::text[], %s::text[]))",
            (project, [p.event_id for p in found], [p.order_key for p in found]))

    def store_patches(self, project: str, found: list[EventPatch]) -> set[str]:
        return patches.store_patches(self.conn, project, found)

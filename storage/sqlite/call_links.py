"""`call_links.LinkStore` in SQLite's SQL (see `phosphobs.storage.call_links`)."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.rows import event_from_row
from phosphobs.storage.sqlite import patches
from phosphobs.storage.sqlite.connection import lookup_in


class SqliteLinks:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def stored_calls(self, project: str, traces: list[str], spans: list[str]) -> list[Event]:
        wanted = set(spans)
        rows = self._in_traces(project, traces, "kind IN ('llm', 'embedding')")
        return [event_from_row(r) for r in rows if r["parent_span_id"] in wanted or r["span_id"] in wanted]

    def lacking_output(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        wanted = set(parents)
        rows = self._in_traces(project, traces, "kind = 'llm' AND output = '' AND status <> 'error'")
        return [event_from_row(r) for r in rows if r["parent_span_id"] in wanted]

    def _in_traces(self, project: str, traces: list[str], where: str) -> list[sqlite3.Row]:
        return lookup_in(self.conn, "SELECT * FROM events WHERE project_id = ? AND trace_id IN ({marks})"
                                    f" AND source = 'otlp' AND {where}", project, traces)

    def existing(self, project: str, event_ids: list[str]) -> set[str]:
        sql = "SELECT event_id FROM events WHERE project_id = ? AND event_id IN ({marks})"
        return {r[0] for r in lookup_in(self.conn, sql, project, event_ids)}

    def events(self, project: str, event_ids: list[str]) -> list[Event]:
        sql = "SELECT * FROM events WHERE project_id = ? AND event_id IN ({marks})"
        return [event_from_row(r) for r in lookup_in(self.conn, sql, project, event_ids)]

    def aliases(self, project: str, event_ids: list[str]) -> dict[str, str]:
        return {r[0]: r[1] for r in lookup_in(
            self.conn, "SELECT event_id, target_id FROM event_aliases WHERE project_id = ? AND event_id IN ({marks})",
            project, event_ids)}

    def add_aliases(self, project: str, pairs: list[tuple[str, str]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO event_aliases (project_id, event_id, target_id) VALUES (?, ?, ?)",
                              [(project, alias, target) for alias, target in pairs])

    def patches_for(self, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]:
        return patches.patches_for(self.conn, project, event_ids)

    def delete_patches(self, project: str, found: list[EventPatch]) -> None:
        self.conn.executemany("DELETE FROM event_patches WHERE project_id = ? AND event_id = ? AND order_key = ?",
                              [(project, p.event_id, p.order_key) for p in found])

    def store_patches(self, project: str, found: list[EventPatch]) -> set[str]:
        return patches.store_patches(self.conn, project, found)

"""`call_links.LinkStore` over the shared SQL core (see `phosphobs.storage.call_links`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.rows import event_from_row
from phosphobs.storage.sql import patches
from phosphobs.storage.sql.dialect import Conn

_ALIAS_COLUMNS = (("project_id", "text"), ("event_id", "text"), ("target_id", "text"))


class SqlLinks:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def stored_calls(self, project: str, traces: list[str], spans: list[str]) -> list[Event]:
        wanted = set(spans)
        return self._matching(project, traces, "kind IN ('llm', 'embedding')",
                              lambda r: r["parent_span_id"] in wanted or r["span_id"] in wanted)

    def lacking_output(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        wanted = set(parents)
        return self._matching(project, traces, "kind = 'llm' AND output = '' AND status <> 'error'",
                              lambda r: r["parent_span_id"] in wanted)

    def failed_without_input(self, project: str, traces: list[str], parents: list[str]) -> list[Event]:
        wanted = set(parents)
        return self._matching(project, traces, "kind = 'llm' AND input = '' AND status = 'error'",
                              lambda r: r["parent_span_id"] in wanted)

    def _matching(self, project: str, traces: list[str], where: str, keep: Callable[[Any], bool]) -> list[Event]:
        """The call events of `traces` that `keep` (by span ids) selects: ids first, whole rows only of those,
        so a long agent trace costs an index scan, not a decode of every call it holds."""
        rows = self.conn.dialect.rows_in(self.conn, "SELECT event_id, span_id, parent_span_id FROM events"
                                                    f" WHERE project_id = ? AND trace_id {{in}} AND source = 'otlp'"
                                                    f" AND {where}", (project,), traces)
        ids = [r["event_id"] for r in rows if keep(r)]
        return self.events(project, ids) if ids else []

    def existing(self, project: str, event_ids: list[str]) -> set[str]:
        return {r["event_id"] for r in self.conn.dialect.rows_in(
            self.conn, "SELECT event_id FROM events WHERE project_id = ? AND event_id {in}", (project,), event_ids)}

    def events(self, project: str, event_ids: list[str]) -> list[Event]:
        d = self.conn.dialect
        return [event_from_row(r) for r in d.rows_in(
            self.conn, f"SELECT * FROM events WHERE project_id = ? AND event_id {{in}} ORDER BY seq{d.for_update}",
            (project,), event_ids)]

    def aliases(self, project: str, event_ids: list[str]) -> dict[str, str]:
        return {r["event_id"]: r["target_id"] for r in self.conn.dialect.rows_in(
            self.conn, "SELECT event_id, target_id FROM event_aliases WHERE project_id = ? AND event_id {in}",
            (project,), event_ids)}

    def add_aliases(self, project: str, pairs: list[tuple[str, str]]) -> None:
        self.conn.dialect.insert_many(self.conn, "event_aliases", _ALIAS_COLUMNS,
                                      [(project, alias, target) for alias, target in pairs])

    def patches_for(self, project: str, event_ids: list[str]) -> dict[str, list[EventPatch]]:
        return patches.patches_for(self.conn, project, event_ids)

    def delete_patches(self, project: str, found: list[EventPatch]) -> None:
        self.conn.executemany("DELETE FROM event_patches WHERE project_id = ? AND event_id = ? AND order_key = ?",
                              [(project, p.event_id, p.order_key) for p in found])

    def store_patches(self, project: str, found: list[EventPatch]) -> set[str]:
        return patches.store_patches(self.conn, project, found)

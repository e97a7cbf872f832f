"""SQLite keeps a trace_context row only where the events cannot tell the trace's session themselves."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from phosphobs.storage.models import TraceHint
from phosphobs.storage.protocol import IngestOp
from phosphobs.storage.sqlite.store import SqliteStorage
from phosphobs.storage.sqlite.trace_context import MATERIALIZE_AFTER

from tests.storage.test_storage_contract import span_event
from tests.support.factories import BASE_US

NOW = BASE_US + 10**9


def rows(path: Path, trace: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT session_id, user_id FROM trace_context WHERE trace_id = ?", (trace,)).fetchall()


def test_rows_only_for_wrapper_spans_and_big_traces(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "t.db")
    store.migrate()
    project = store.create_project("p", "free", NOW)
    try:
        small, wrapped, big = (uuid.uuid4().hex for _ in range(3))
        for trace in (small, wrapped):
            for n in range(3):
                event, hints = span_event(trace, n, BASE_US + n, session="s")
                store.write([IngestOp(project.id, [event], None, trace_hints=hints)], NOW)
        assert rows(store.path, small) == []  # the events say it themselves
        store.write([IngestOp(project.id, [], None, trace_hints=[TraceHint(wrapped, BASE_US + 9, user_id="u")])],
                    NOW)
        assert rows(store.path, wrapped) == [("s", "u")]  # the wrapper's user, folded with the events' session
        for n in range(MATERIALIZE_AFTER):
            event, _ = span_event(big, n, BASE_US + n)
            store.write([IngestOp(project.id, [event], None)], NOW)
            assert rows(store.path, big) == ([] if n < MATERIALIZE_AFTER - 1 else [(None, None)])
        event, hints = span_event(big, 99, BASE_US + 99, session="late")
        store.write([IngestOp(project.id, [event], None, trace_hints=hints)], NOW)
        assert rows(store.path, big) == [("late", None)]  # a row, once there, takes the events' hints too
    finally:
        store.close()

"""Every trace read is index-served: SQLite's query plans (no statistics, as on a new install) never scan
a project's whole time index for one trace or session. Plans are facts, not timings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phosphobs.storage.sql import trace_reads
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sqlite.store import SqliteStorage
from phosphobs.storage.trace_records import TraceQuery


class PlanSpy:
    """The real connection, recording the plan of every query it runs."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.plans: list[tuple[str, list[str]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        plan = [r[3] for r in self.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        self.plans.append((sql, plan))
        return self.conn.execute(sql, params)


def test_trace_reads_use_the_trace_session_and_user_indexes(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "plans.db")
    store.migrate()
    spy = store._runner.read(PlanSpy)  # the thread's reader connection
    trace_reads.get_trace(spy, "p", "t" * 32)
    trace_reads.session_traces(spy, "p", "s")
    trace_reads._summaries(spy, "p", ["a" * 32, "b" * 32])
    trace_reads._name_event_roots(spy, "p", {"a" * 32: {"name": None, "span_id": "1" * 16, "kind": "llm"}})
    trace_reads._listed_before(spy, ["project_id = ?", "session_id = ?"], ["p", "s"], (5, 5), ["a" * 32])
    for query in (TraceQuery(session_id="s"), TraceQuery(user_id="u", after=(5, 5))):
        trace_reads.list_traces(spy, "p", query)
    store.close()
    for sql, plan in spy.plans:
        steps = " ".join(plan)
        assert "SCAN" not in steps, (sql, plan)
        assert "events_by_time" not in steps, (sql, plan)  # only the unfiltered listing walks it
        if "span_id IN" in sql:  # a span id is at least as selective as its trace's
            assert "(project_id=? AND trace_id=?" in steps or "(project_id=? AND span_id=?" in steps, (sql, plan)
        elif "trace_id IN" in sql or "trace_id = ?" in sql:
            assert "(project_id=? AND trace_id=?" in steps, (sql, plan)

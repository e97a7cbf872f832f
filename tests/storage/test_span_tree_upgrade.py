"""Upgrading a database of the previous schema (before `0004_span_tree`) that holds OTLP events: nothing
is lost, its call spans are served as trees, and spans arriving after the upgrade connect to them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from phosphobs.storage.models import SpanRecord
from phosphobs.storage.postgres import schema as pg_schema
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import IngestOp, Storage
from phosphobs.storage.rows import EVENT_COLUMNS, event_row
from phosphobs.storage.sqlite import schema as sqlite_schema
from phosphobs.storage.sqlite.store import SqliteStorage
from phosphobs.storage.trace_records import TraceQuery

from tests.support import postgres
from tests.support.factories import BASE_US, make_event

NEW = "0005_span_tree"
TRACE = "a" * 32
OLD_EVENT = make_event(source="otlp", trace_id=TRACE, span_id="1" * 16, parent_span_id="2" * 16, model="gpt-4o",
                       tokens_in=5, tokens_out=7, latency_ms=20.0, session_id="old-session", timestamp_us=BASE_US,
                       metadata={"span": {"name": "chat gpt-4o"}, "attributes": {"k": "v"}})


def _old_row(project: str) -> tuple:
    return event_row(project, OLD_EVENT, "old-session", "explicit", None, None, BASE_US)


def _sqlite_previous(path: Path, project: str) -> Storage:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, sql in sqlite_schema.MIGRATIONS:
        if name == NEW:
            break
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", (name,))
    conn.execute("INSERT INTO projects (id, name, created_us) VALUES (?, ?, ?)", (project, project, BASE_US))
    conn.execute(f"INSERT INTO events (seq, {', '.join(EVENT_COLUMNS)}) VALUES (1, {', '.join('?' * 29)})",
                 _old_row(project))
    conn.close()
    return SqliteStorage(path)


def _postgres_previous(url: str, project: str) -> Storage:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for name, sql in pg_schema.MIGRATIONS:
            if name == NEW:
                break
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, now()::text)", (name,))
        conn.execute("INSERT INTO projects (id, name, created_us) VALUES (%s, %s, %s)", (project, project, BASE_US))
        conn.execute(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}, search) VALUES"
                     f" ({', '.join(['%s'] * 29)}, to_tsvector('simple', 'old'))", _old_row(project))
    return PostgresStorage(url)


@pytest.fixture
def previous(backend: str, tmp_path: Path) -> Iterator[Storage]:
    if backend == "sqlite":
        store = _sqlite_previous(tmp_path / "old.db", "proj")
        yield store
        store.close()
        return
    postgres.require_postgres(explicit=False)
    url = postgres.create_database("phosphobs_upgrade")
    store = _postgres_previous(url, "proj")
    try:
        yield store
    finally:
        store.close()
        postgres.drop_database(url)


def test_upgrade_keeps_old_call_spans_and_connects_new_spans_to_them(previous: Storage) -> None:
    assert previous.migrate()[:1] == [NEW]  # later steps (0006_detection) follow it
    trace = previous.get_trace("proj", TRACE)
    assert trace is not None and trace.session_id == "old-session"
    [span] = trace.spans
    assert (span.span_id, span.parent_span_id, span.kind, span.name, span.event_id) == (
        "1" * 16, "2" * 16, "llm", "chat gpt-4o", OLD_EVENT.event_id)
    assert span.end_us - span.start_us == 20_000
    # the old call's agent arrives after the upgrade, then its plain root: all connect
    agent = SpanRecord(TRACE, "2" * 16, "3" * 16, "invoke_agent", "agent", BASE_US - 10, BASE_US + 100)
    root = SpanRecord(TRACE, "3" * 16, None, "POST /chat", "other", BASE_US - 20, BASE_US + 200, pending=True)
    for record in (agent, root):
        [result] = previous.write([IngestOp("proj", [], None, spans=[record])], BASE_US)
        assert result.ok
    tree = previous.get_trace("proj", TRACE)
    assert tree is not None
    assert {s.span_id: s.parent_span_id for s in tree.spans} == {"1" * 16: "2" * 16, "2" * 16: "3" * 16,
                                                                  "3" * 16: None}
    [row] = previous.list_traces("proj", TraceQuery()).items
    assert (row.root_name, row.span_count, row.llm_calls, row.tokens_in) == ("POST /chat", 3, 1, 5)
    assert previous.migrate() == []

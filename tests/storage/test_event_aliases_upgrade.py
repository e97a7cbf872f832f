"""Migration 0004 (event aliases) on a database that already holds data from the schema before it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from phosphobs.collector.otlp.normalize import normalize_logs, normalize_traces
from phosphobs.storage.postgres import store as pg_store_module
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import EventQuery, IngestOp, Storage
from phosphobs.storage.sqlite import store as sqlite_store_module
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.collector.call_spans import LIBRARY_SCOPE, SDK_SCOPE, library_span, scoped_request, sdk_span, workflow
from tests.collector.otlp_factories import logs_request, make_log, make_span, traces_request
from tests.support import postgres

NOW = 1_800_000_000_000_000


@pytest.fixture
def opener(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[object, object]]:
    """(a function opening the same database each call, the module whose MIGRATIONS it applies)."""
    if backend == "sqlite":
        path = tmp_path / "upgrade.db"
        yield (lambda: SqliteStorage(path)), sqlite_store_module
        return
    postgres.require_postgres(explicit=False)
    url = postgres.create_database("phosphobs_upgrade")
    yield (lambda: PostgresStorage(url)), pg_store_module
    postgres.drop_database(url)


def write(store: Storage, project: str, request: object) -> None:
    batch = normalize_traces(request, NOW) if hasattr(request, "resource_spans") else normalize_logs(request, NOW)
    [result] = store.write([IngestOp(project, batch.events, None, patches=batch.patches,
                                     trace_hints=batch.trace_hints)], NOW)
    assert result.ok, result.error


def test_upgrade_keeps_events_and_links_spans_that_arrive_afterwards(opener, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    open_store, module = opener
    everything = list(module.MIGRATIONS)
    assert "0004_event_aliases" in [name for name, _ in everything]
    # the schema without this change (later steps kept: today's code, which writes here, needs them)
    monkeypatch.setattr(module, "MIGRATIONS", [step for step in everything if step[0] != "0004_event_aliases"])
    old = open_store()
    old.migrate()
    project = old.create_project("upgraded", "free", NOW).id
    before = make_span("chat", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"})
    write(old, project, traces_request([before]))  # spans only: today's code reads aliases for log records
    parent = workflow()
    write(old, project, scoped_request((LIBRARY_SCOPE, [library_span(parent)])))
    old.close()

    monkeypatch.setattr(module, "MIGRATIONS", everything)
    store = open_store()
    assert store.migrate() == ["0004_event_aliases"]
    write(store, project, logs_request([make_log(before, "gen_ai.user.message", {"content": "Hi"}, time_ns=1)]))
    write(store, project, scoped_request((SDK_SCOPE, [sdk_span(parent)])))  # the SDK's span of the stored call
    events = sorted((s.event.input, s.event.tokens_out) for s in store.list_events(project, EventQuery()).items)
    assert events == [("Capital of France?", 9), ("Hi", None)]
    store.close()

"""Upgrades lose nothing: a database written by the code of schema 0003 opens, migrates in place, and every
event, session, feedback, key and dashboard login reads back as that code read it.

The database is built from the fixtures of `fixtures/upgrade_0003/capture.py`: that code's schema steps
and the rows it wrote; its reads of them are the expectation.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from phosphobs.storage.models import Event
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import EventQuery, IngestOp, Storage

from tests.storage.conftest import selected_backends
from tests.storage.upgrade_history import NOW, read_everything
from tests.support import postgres

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade_0003"
MIGRATIONS_TABLE = "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"


def fixture(backend: str, kind: str) -> Any:
    return json.loads((FIXTURES / f"{backend}_{kind}.json").read_text())


def old_steps(backend: str) -> list[tuple[str, str]]:
    parts = re.split(r"^-- step: (\S+)\n", (FIXTURES / f"{backend}_schema.sql").read_text(), flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def _parents_first(table: str) -> tuple[bool, str]:
    return table not in ("projects", "admin_users"), table


def build_sqlite(path: Path) -> str:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(MIGRATIONS_TABLE)
    for name, script in old_steps("sqlite"):
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01 00:00:00')", (name,))
    for table, rows in sorted(fixture("sqlite", "rows").items(), key=lambda item: _parents_first(item[0])):
        if rows:
            conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    conn.execute("INSERT INTO events_fts (events_fts) VALUES ('rebuild')")  # the index over the events' text
    conn.execute("COMMIT")
    conn.close()
    return f"sqlite:///{path}"


def build_postgres(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(MIGRATIONS_TABLE)
        for name, script in old_steps("postgres"):
            conn.execute(script)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, '2026-01-01 00:00:00')", (name,))
        for table, rows in sorted(fixture("postgres", "rows").items(), key=lambda item: _parents_first(item[0])):
            for row in rows:
                conn.execute(f"INSERT INTO {table} OVERRIDING SYSTEM VALUE"
                             f" SELECT * FROM json_populate_record(NULL::{table}, %s::json)", (json.dumps(row),))
        for table, column in (("events", "seq"), ("feedback", "id")):  # identities continue where they were
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), max({column})) FROM {table}")
    return url


@pytest.fixture
def upgraded(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if backend == "sqlite":
        url = build_sqlite(tmp_path / "0003.db")
    else:
        postgres.require_postgres(explicit=selected_backends(request.config)[1])
        url = build_postgres(postgres.create_database("phosphobs_upgrade"))
    store = open_storage(url)
    try:
        store.migrate()
        yield store
    finally:
        store.close()
        if backend != "sqlite":
            postgres.drop_database(url)


def test_a_database_of_schema_0003_reads_back_the_same_after_migrating(upgraded: Storage, backend: str) -> None:
    assert read_everything(upgraded) == fixture(backend, "reads")


def test_an_upgraded_database_takes_new_writes_into_its_sessions(upgraded: Storage) -> None:
    shop = upgraded.get_project("shop")
    assert shop is not None
    before = upgraded.get_session(shop.id, "s1")
    assert before is not None
    event = Event(event_id=str(uuid.uuid4()), input="after the upgrade", output="still here", timestamp_us=NOW,
                  session_id="s1", tags=["new"])
    [result] = upgraded.write([IngestOp(shop.id, [event], None)], NOW)
    assert result.ok and result.statuses == ["created"]
    after = upgraded.get_session(shop.id, "s1")
    assert after is not None
    assert (after.event_count, after.end_us, after.tags) == (before.event_count + 1, NOW, sorted({*before.tags, "new"}))
    assert upgraded.list_events(shop.id, EventQuery(text="upgrade")).items[0].event.event_id == event.event_id

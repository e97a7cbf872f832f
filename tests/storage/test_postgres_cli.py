"""`phosphobs db migrate` and `db prune` against a real Postgres database, as an operator runs them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from phosphobs.storage.clock import now_us
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import IngestOp

from tests.support import postgres
from tests.support.factories import make_event

DAY_US = 86_400_000_000


@pytest.fixture
def database() -> Iterator[str]:
    postgres.require_postgres(explicit=False)
    url = postgres.create_database("phosphobs_cli")
    yield url
    postgres.drop_database(url)


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "phosphobs.api.cli", *args, "--database-url", url],
                          capture_output=True, text=True, timeout=60)


def test_migrate_twice_is_a_no_op_and_prune_deletes_old_events(database: str) -> None:
    first = cli("db", "migrate", url=database)
    assert first.returncode == 0 and first.stdout.startswith("applied ")
    again = cli("db", "migrate", url=database)
    assert again.returncode == 0 and again.stdout.strip() == "database already up to date; no migrations applied"
    store = open_storage(database)
    try:
        assert store.migrate() == []
        with psycopg.connect(database) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        count, _, listed = first.stdout.strip().removeprefix("applied ").partition(" migrations: ")
        assert int(count) == len(names) and set(listed.split(", ")) == names
        project = store.create_project("shop", "free", now_us())
        old = make_event(session_id="s", timestamp_us=now_us() - 40 * DAY_US)
        new = make_event(session_id="s", timestamp_us=now_us() - DAY_US)
        store.write([IngestOp(project.id, [old, new], None)], now_us())
        pruned = cli("db", "prune", "--older-than", "30d", url=database)
        assert pruned.returncode == 0 and "pruned 1 events" in pruned.stdout
        assert store.get_event(project.id, old.event_id) is None
        assert store.get_session(project.id, "s").event_count == 1
    finally:
        store.close()


def test_prune_refuses_a_duration_it_cannot_read(database: str) -> None:
    result = cli("db", "prune", "--older-than", "thirty", url=database)
    assert result.returncode == 2 and "duration" in result.stderr

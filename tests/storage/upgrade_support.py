"""Opening one database first at the schema just before a step, then at the current schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from phosphobs.storage.postgres import store as pg_store
from phosphobs.storage.postgres.schema import MIGRATIONS as PG_MIGRATIONS
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import Storage
from phosphobs.storage.sqlite import store as sqlite_store
from phosphobs.storage.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support import postgres


def open_before(step: str, backend: str, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], Storage]]:
    """Yields `open(old)`: the database of `backend` migrated up to just before `step` (`old`) or fully.
    The old store runs without detection: the code of that schema queued nothing the new code would."""
    url = None
    if backend == "postgres":
        postgres.require_postgres(explicit=False)
        url = postgres.create_database("phosphobs_upgrade")
    module, migrations = ((sqlite_store, SQLITE_MIGRATIONS) if backend == "sqlite"
                          else (pg_store, PG_MIGRATIONS))
    cut = migrations[:[name for name, _ in migrations].index(step)]

    def open_store(old: bool) -> Storage:
        monkeypatch.setattr(module, "MIGRATIONS", cut if old else migrations)
        store: Storage = (SqliteStorage(tmp_path / "up.db", detect=not old) if url is None
                          else PostgresStorage(url, detect=not old))
        store.migrate()
        return store

    yield open_store
    if url is not None:
        postgres.drop_database(url)


def raw(store: Storage, sql: str, args: tuple[Any, ...]) -> None:
    """`sql` as the previous code would have written it."""
    cast(Any, store)._runner.transaction(lambda conn: conn.execute(sql, args))

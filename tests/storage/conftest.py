"""The shared storage suite runs against every selected backend: `--db sqlite|postgres|both`
(or PHOSPHOBS_TEST_DB; default both). Postgres gets one throwaway database per run, emptied between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from phosphobs.storage.clock import now_us
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import Project, Storage
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support import postgres


def selected_backends(config: pytest.Config) -> tuple[list[str], bool]:
    """(backends, explicitly chosen)."""
    chosen = config.getoption("--db", None) or os.environ.get("PHOSPHOBS_TEST_DB")
    value = chosen or "both"
    if value not in ("sqlite", "postgres", "both"):
        raise pytest.UsageError(f"--db / PHOSPHOBS_TEST_DB must be sqlite, postgres or both, not {value!r}")
    return (["sqlite", "postgres"] if value == "both" else [value]), chosen is not None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", selected_backends(metafunc.config)[0], scope="session")


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """One database for the whole run, migrated once, dropped at the end."""
    postgres.require_postgres(explicit=selected_backends(request.config)[1])
    url = postgres.create_database()
    store = PostgresStorage(url)
    store.migrate()
    store.close()
    yield url
    postgres.drop_database(url)


@pytest.fixture
def empty_storage(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Storage]]:
    """Opens a new, empty, migrated store each call (the previous one is closed first)."""
    opened: list[Storage] = []

    def make() -> Storage:
        for store in opened:
            store.close()
        opened.clear()
        if backend == "sqlite":
            store: Storage = SqliteStorage(tmp_path / f"{uuid.uuid4().hex}.db")
        else:
            url = request.getfixturevalue("postgres_url")
            postgres.truncate_all(url)
            store = PostgresStorage(url)
        store.migrate()
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def storage(empty_storage: Callable[[], Storage]) -> Storage:
    return empty_storage()


@pytest.fixture
def project(storage: Storage) -> Project:
    return storage.create_project(f"p-{uuid.uuid4().hex[:8]}", "free", now_us())

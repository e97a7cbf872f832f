"""Shared fixtures: real SQLite files, a real server process, fresh projects with keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from phosphobs.api.bootstrap import create_key
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import Project, Storage
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support.server import ServerProcess


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgres", "both"], default=None,
                     help="storage backends for tests/storage (default: PHOSPHOBS_TEST_DB or both)")
    parser.addoption("--interop", action="store_true",
                     help="run the interop suite: the real libraries in cached venvs/node folders (slow)")
    parser.addoption("--refresh-captures", action="store_true",
                     help="with --interop: rewrite tests/interop/captures from the runs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The interop suite installs and runs real libraries: only with --interop, never in the default run."""
    if config.getoption("--interop"):
        return
    skip = pytest.mark.skip(reason="interop suite: run with --interop")
    for item in items:
        if item.get_closest_marker("interop") is not None:
            item.add_marker(skip)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = SqliteStorage(tmp_path / "phosphobs.db")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def project(storage: Storage) -> Project:
    return storage.create_project(f"p-{uuid.uuid4().hex[:8]}", "free", now_us())


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for the session; tests isolate themselves with their own project."""
    proc = ServerProcess(tmp_path_factory.mktemp("server"), env={"PHOSPHOBS_KEY_CACHE_SECONDS": "1"}).start()
    yield proc
    proc.stop()


@dataclass
class ApiProject:
    project: Project
    key: str
    client: httpx.Client
    base_url: str


def new_api_project(server: ServerProcess, plan: str = "free", rate_limit: int | None = 0) -> ApiProject:
    """A fresh project with a key, written straight into the server's database file.

    rate_limit 0 disables limiting (so unrelated tests never trip it); None keeps the plan's limit.
    """
    store = SqliteStorage(server.data_dir / "phosphobs.db")
    try:
        proj = store.create_project(f"p-{uuid.uuid4().hex[:10]}", plan, now_us())
        if rate_limit is not None:
            store.set_project_plan(proj.id, plan, rate_limit)
        key, _ = create_key(store, proj, "test")
    finally:
        store.close()
    client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return ApiProject(proj, key, client, server.base_url)


@pytest.fixture
def api(server: ServerProcess) -> Iterator[ApiProject]:
    ap = new_api_project(server)
    yield ap
    ap.client.close()

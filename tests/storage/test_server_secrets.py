"""Server-wide secret hashes (the metrics token): stored once, found by every later start, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from phosphobs.api.bootstrap import now_us
from phosphobs.storage.open import open_storage
from phosphobs.storage.postgres import store as postgres_store
from phosphobs.storage.protocol import IngestOp, Storage
from phosphobs.storage.sqlite import store as sqlite_store

from tests.support import postgres
from tests.support.factories import make_event


def test_the_first_hash_stored_wins_and_is_found_again(storage: Storage) -> None:
    assert storage.get_server_secret("metrics_token") is None
    assert storage.add_server_secret("metrics_token", "hash-1", now_us()) is True
    assert storage.add_server_secret("metrics_token", "hash-2", now_us()) is False  # a racing worker loses
    assert storage.get_server_secret("metrics_token") == "hash-1"
    assert storage.get_server_secret("other") is None


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with postgres.fresh_database(backend, "phosphobs_upgrade", tmp_path) as url:
        yield url


def test_upgrade_from_the_previous_schema_keeps_data_and_adds_the_table(
        backend: str, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = sqlite_store if backend == "sqlite" else postgres_store
    previous = [step for step in module.MIGRATIONS if step[0] != "0007_server_secrets"]
    with monkeypatch.context() as patch:
        patch.setattr(module, "MIGRATIONS", previous)
        old = open_storage(database_url)
        old.migrate()
        project = old.create_project("shop", "free", now_us())
        event = make_event(session_id="s-1", input="kept across the upgrade")
        old.write([IngestOp(project.id, [event], None)], now_us())
        old.close()
    upgraded = open_storage(database_url)
    try:
        assert upgraded.migrate() == ["0007_server_secrets"]
        assert upgraded.get_event(project.id, event.event_id).event.input == "kept across the upgrade"
        assert upgraded.add_server_secret("metrics_token", "h", now_us())
        assert upgraded.get_server_secret("metrics_token") == "h"
    finally:
        upgraded.close()

"""Key lookups under load: one database read per key when its cache entry expires, however many
requests are waiting for it; a revoke in this process is honoured at once, even mid-lookup."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from phosphobs.api.auth import KeyAuthenticator
from phosphobs.api.bootstrap import create_key
from phosphobs.api.settings import Settings
from phosphobs.collector.errors import ApiError
from phosphobs.collector.pipeline import IngestPipeline
from phosphobs.storage.clock import now_us
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import KeyMatch, Storage


class CountingLookups:
    """The real storage, counting `find_key` calls and holding each answer until released."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.calls = 0
        self.release = threading.Event()

    def find_key(self, key_hash: str) -> KeyMatch | None:
        self.calls += 1
        match = self.storage.find_key(key_hash)
        self.release.wait(10)
        return match


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = open_storage(f"sqlite:///{tmp_path / 'phosphobs.db'}")
    store.migrate()
    yield store
    store.close()


def test_concurrent_requests_share_one_lookup_and_a_revoke_wins(storage: Storage) -> None:
    project = storage.create_project("p", "free", now_us())
    key, record = create_key(storage, project, "k")
    lookups = CountingLookups(storage)
    pipeline = IngestPipeline(storage)
    auth = KeyAuthenticator(lookups, pipeline, Settings(key_cache_seconds=60))  # type: ignore[arg-type]

    async def scenario() -> None:
        waiting = [asyncio.ensure_future(auth.resolve(key)) for _ in range(200)]
        await asyncio.sleep(0.05)
        waiting[0].cancel()  # one client gives up: the others still get their answer
        lookups.release.set()
        results = await asyncio.gather(*waiting[1:])
        assert {p.project_id for p in results} == {project.id} and lookups.calls == 1
        await auth.resolve(key)  # cached
        assert lookups.calls == 1

        # a revoke while a lookup is in flight: that lookup's answer must not be cached
        lookups.release.clear()
        auth.forget_cached()
        in_flight = asyncio.ensure_future(auth.resolve(key))
        await asyncio.sleep(0.05)
        storage.revoke_key(record.id, now_us())
        auth.forget_cached()
        lookups.release.set()
        assert (await in_flight).project_id == project.id  # read before the revoke: accepted, not cached
        with pytest.raises(ApiError):
            await auth.resolve(key)

    asyncio.run(scenario())

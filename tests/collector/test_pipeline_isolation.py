"""One op whose data a backend cannot store fails only its own request, with a permanent 422; the
other ops of its group commit are committed. Run on the three write paths: SQLite in the writer
thread, SQLite in the writer process, Postgres. The ops bypass the edge's cleaning (`storable.py`)
on purpose: this is the safety net behind it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from phosphobs.api.bootstrap import now_us
from phosphobs.collector.errors import ApiError
from phosphobs.collector.pipeline import IngestPipeline
from phosphobs.collector.submit import commit
from phosphobs.storage.models import Feedback
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, Storage
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support import postgres
from tests.support.factories import make_event
from tests.support.gated_storage import GatedStorage


@pytest.fixture(params=["sqlite-thread", "sqlite-process", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    url = None
    if request.param == "postgres":
        postgres.require_postgres(explicit=False)
        url = postgres.create_database("phosphobs_isolation")
        storage: Storage = PostgresStorage(url)
    else:
        storage = SqliteStorage(tmp_path / "p.db", writer_process=request.param == "sqlite-process")
    storage.migrate()
    yield storage
    storage.close()
    if url is not None:
        postgres.drop_database(url)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


POISON = {
    "huge integer": {"metadata": {"x": 10**30}},  # orjson cannot encode it
    "lone surrogate": {"input": "a\ud800b"},  # no UTF-8 encoder takes it
    "NUL in metadata": {"metadata": {"k": "v\x00"}},  # Postgres jsonb cannot hold it
    "deep nesting": {"metadata": {"d": nested(300)}},  # past orjson's depth limit
}


def test_a_bad_op_fails_alone_as_422_and_its_group_commits(store: Storage) -> None:
    project = store.create_project(f"p-{uuid.uuid4().hex[:8]}", "free", now_us())
    gate = GatedStorage(store)  # held until every op is queued: they all share one commit
    pipeline = IngestPipeline(gate, commits_in_flight=1)  # type: ignore[arg-type]
    pipeline.start()
    good = [IngestOp(project.id, [make_event(), make_event()], None) for _ in range(6)]
    bad = {name: IngestOp(project.id, [make_event(**overrides)], None) for name, overrides in POISON.items()}
    feedback = FeedbackOp(project.id, Feedback(good[0].events[0].event_id, "success", "fine"))

    async def outcome(op):
        try:
            return await commit(pipeline.submit, op)
        except ApiError as error:
            return error

    async def main():
        ops = [good[0], *bad.values(), *good[1:], feedback]
        tasks = [asyncio.create_task(outcome(op)) for op in ops]
        await asyncio.sleep(0.2)
        commits_before = pipeline.commits
        gate.gate.set()
        results = await asyncio.gather(*tasks)
        return dict(zip(map(id, ops), results, strict=True)), commits_before

    try:
        results, commits_before = asyncio.run(main())
    finally:
        pipeline.stop()
    assert commits_before == 0
    for op in good:
        result = results[id(op)]
        assert not isinstance(result, ApiError) and result.ok, result
    assert not isinstance(results[id(feedback)], ApiError)
    for name, op in bad.items():
        result = results[id(op)]
        if isinstance(result, ApiError):
            assert result.kind.status == 422, (name, result)  # permanent: never a retryable 503
        else:
            assert result.ok, (name, result)  # this backend stores it as is
    stored = {e.event.event_id for e in store.list_events(project.id, EventQuery(limit=100)).items}
    assert {e.event_id for op in good for e in op.events} <= stored
    assert any(isinstance(results[id(op)], ApiError) for op in bad.values())  # the net was really tested

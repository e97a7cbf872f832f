"""Group commit: concurrent submissions share transactions, every result reaches its submitter."""

from __future__ import annotations

import asyncio
import threading

import pytest
from phosphobs.collector.pipeline import IngestPipeline, PipelineClosed, PipelineFull
from phosphobs.storage.protocol import EventQuery, IngestOp, Project, Storage

from tests.support.factories import make_event
from tests.support.gated_storage import GatedStorage


@pytest.mark.parametrize("in_flight", [1, 3])
def test_concurrent_submissions_are_committed_and_answered(storage: Storage, project: Project,
                                                           in_flight: int) -> None:
    pipeline = IngestPipeline(storage, commits_in_flight=in_flight)
    pipeline.start()

    async def main():
        ops = [IngestOp(project.id, [make_event() for _ in range(3)], None) for _ in range(200)]
        return await asyncio.gather(*(pipeline.submit(op) for op in ops))

    try:
        results = asyncio.run(main())
    finally:
        pipeline.stop()
    assert all(r.ok and r.statuses == ["created"] * 3 for r in results)
    assert pipeline.commits < 200  # really grouped
    assert len(storage.list_events(project.id, EventQuery(limit=200)).items) == 200


def test_full_queue_refuses_instead_of_growing(storage: Storage, project: Project) -> None:
    gated = GatedStorage(storage)
    pipeline = IngestPipeline(gated, max_queued_items=10)  # type: ignore[arg-type]
    pipeline.start()

    async def main():
        tasks = []
        for size in (6, 4):  # 10 items: the queue is exactly full
            tasks.append(asyncio.create_task(pipeline.submit(IngestOp(project.id, [make_event()] * size, None))))
            await asyncio.sleep(0.05)
        with pytest.raises(PipelineFull):
            await pipeline.submit(IngestOp(project.id, [make_event()], None))
        gated.gate.set()
        return await asyncio.gather(*tasks)

    try:
        first, second = asyncio.run(main())
    finally:
        gated.gate.set()
        pipeline.stop()
    assert first.ok and second.ok
    assert pipeline.dropped == 1


@pytest.mark.parametrize("in_flight", [1, 3])
def test_stop_commits_what_was_accepted_then_refuses(storage: Storage, project: Project, in_flight: int) -> None:
    pipeline = IngestPipeline(storage, commits_in_flight=in_flight)
    pipeline.start()

    async def main():
        pending = [asyncio.create_task(pipeline.submit(IngestOp(project.id, [make_event()], None)))
                   for _ in range(50)]
        await asyncio.sleep(0)
        await asyncio.get_running_loop().run_in_executor(None, pipeline.stop)
        with pytest.raises(PipelineClosed):
            await pipeline.submit(IngestOp(project.id, [make_event()], None))
        return await asyncio.gather(*pending)

    results = asyncio.run(main())
    assert all(r.ok for r in results)
    assert len(storage.list_events(project.id, EventQuery(limit=200)).items) == 50
    assert not any(t.is_alive() for t in threading.enumerate() if t.name.startswith("phosphobs-writer"))


def test_a_restarted_pipeline_commits_again(storage: Storage, project: Project) -> None:
    """stop() leaves its stop marker in the queue for the other writers; start() must not trip on it."""
    pipeline = IngestPipeline(storage, commits_in_flight=2)
    for _ in range(2):
        pipeline.start()
        try:
            result = asyncio.run(pipeline.submit(IngestOp(project.id, [make_event()], None)))
        finally:
            pipeline.stop()
        assert result.ok
    assert len(storage.list_events(project.id, EventQuery(limit=10)).items) == 2


def test_a_database_failure_fails_every_op_of_that_commit(storage: Storage, project: Project) -> None:
    pipeline = IngestPipeline(storage)
    pipeline.start()
    storage.close()  # the database goes away under the writer

    async def main():
        return await pipeline.submit(IngestOp(project.id, [make_event()], None))

    try:
        with pytest.raises(Exception, match="closed"):
            asyncio.run(main())
    finally:
        pipeline.stop()

"""Shedding early: an ingest request is admitted (or answered 503 + Retry-After) before its body is read,
against the bytes already in flight, and the queue refuses work it cannot commit within its wait budget."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from phosphobs.collector.pipeline import IngestPipeline, PipelineFull
from phosphobs.storage.protocol import IngestOp, Project, Storage

from tests.conftest import new_api_project
from tests.support.factories import make_event
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def small_budget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("budget"), env={"PHOSPHOBS_MAX_QUEUED_BYTES": "2000"}).start()
    yield server
    server.stop()


def test_a_declared_length_that_cannot_fit_is_refused_before_its_body_is_read(small_budget: ServerProcess) -> None:
    api = new_api_project(small_budget)
    body = json.dumps({"input": "x" * 1400, "output": "held"}).encode()
    slow = socket.create_connection(("127.0.0.1", small_budget.port), timeout=30)
    slow.sendall(b"POST /api/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api.key.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                 + b"\r\n\r\n" + body[:100])  # admitted: its 1.4 KB are held while the rest trickles in
    time.sleep(0.5)
    other = {"input": "y" * 700, "output": "refused"}
    refused = api.client.post("/api/ingest", json=other)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "overloaded"
    slow.sendall(body[100:])
    answer = slow.recv(65536)
    slow.close()
    assert answer.startswith(b"HTTP/1.1 201 ")
    assert api.client.post("/api/ingest", json=other).status_code == 201  # the budget was given back
    outputs = [e["output"] for e in api.client.get("/api/events").json()["data"]]
    assert sorted(outputs) == ["held", "refused"]
    assert httpx.get(small_budget.base_url + "/healthz").status_code == 200


class SlowStorage:
    """The real storage, each commit held until released: the measured commit rate is low."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.release = threading.Semaphore(0)

    def write(self, ops, now_us):
        self.release.acquire(timeout=30)
        return self.inner.write(ops, now_us)


def test_work_beyond_the_queue_wait_budget_is_shed_at_admission(storage: Storage, project: Project) -> None:
    slow = SlowStorage(storage)
    pipeline = IngestPipeline(slow, max_commit_items=10, max_queue_wait=1.0)  # type: ignore[arg-type]
    pipeline.start()

    async def main() -> int:
        assert pipeline.expected_wait() == 0  # no rate measured yet: nothing is shed blindly
        ten = IngestOp(project.id, [make_event() for _ in range(10)], None)
        first = asyncio.gather(pipeline.submit(ten), asyncio.sleep(0.5))
        await asyncio.sleep(0.5)
        slow.release.release()  # a commit of 10 items that took >= 0.5 s: at most ~20 items/s
        await first
        queued = [asyncio.create_task(pipeline.submit(IngestOp(project.id, [make_event()], None)))
                  for _ in range(60)]
        await asyncio.sleep(0.1)
        assert pipeline.expected_wait() > 1.0
        with pytest.raises(PipelineFull) as shed:
            pipeline.admit(100)
        for _ in range(10):
            slow.release.release()
        await asyncio.gather(*queued)
        reservation = pipeline.admit(100)  # drained: admitted again
        pipeline.release(reservation)
        return shed.value.retry_after

    try:
        retry_after = asyncio.run(main())
    finally:
        for _ in range(10):
            slow.release.release()
        pipeline.stop()
    assert retry_after >= 2
    assert pipeline.reserved_bytes == 0


def test_slow_commits_of_a_few_items_do_not_read_as_a_slow_writer(storage: Storage, project: Project) -> None:
    """A commit that took everything queued says only "at least this fast": light load is never shed."""
    slow = SlowStorage(storage)
    pipeline = IngestPipeline(slow, max_commit_items=50, max_queue_wait=1.0)  # type: ignore[arg-type]
    pipeline.start()

    async def main() -> None:
        for _ in range(400):  # fast commits while the queue is behind: a measured ~1,000s of items/s
            slow.release.release()
        await asyncio.gather(*(pipeline.submit(IngestOp(project.id, [make_event()], None)) for _ in range(400)))
        while slow.release.acquire(blocking=False):  # the permits those few group commits did not use
            pass
        for _ in range(30):  # then a trickle: one item at a time, each commit 0.04 s (an fsync on a busy disk)
            held = asyncio.create_task(pipeline.submit(IngestOp(project.id, [make_event()], None)))
            await asyncio.sleep(0.04)
            slow.release.release()
            await held
        queued = [asyncio.create_task(pipeline.submit(IngestOp(project.id, [make_event()], None)))
                  for _ in range(200)]
        await asyncio.sleep(0.05)
        assert pipeline.expected_wait() < 1.0  # 200 items at the measured rate, not at 25 items/s
        pipeline.release(pipeline.admit(100))
        for _ in range(200):
            slow.release.release()
        await asyncio.gather(*queued)

    try:
        asyncio.run(main())
    finally:
        for _ in range(200):
            slow.release.release()
        pipeline.stop()


def test_requests_in_flight_are_weighed_by_their_bytes(storage: Storage, project: Project) -> None:
    """After a run of large batches, many small requests in flight are little work: not shed."""
    pipeline = IngestPipeline(storage, max_queue_wait=1.0)
    pipeline.start()
    try:
        for _ in range(40):  # 40 answered 100 KB batches over ~0.5 s: ~8 MB/s
            pipeline.release(pipeline.admit(100_000))
            time.sleep(0.0125)
        singles = [pipeline.admit(1_000) for _ in range(60)]  # 60 requests in flight: ~60 KB of work
        assert pipeline.expected_wait() < 0.1
        for reservation in singles:
            pipeline.release(reservation)
    finally:
        pipeline.stop()

"""The queue across crashes and across workers, with real server processes.

SQLite: SIGKILL with 1,000 events queued, again in the middle of draining, restart: every event has
exactly one detection per detector. Postgres with two worker processes (and two servers): no event is
judged twice.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.storage.open import open_storage

from tests.api.detection.helpers import wait_for
from tests.api.detection.test_judge_e2e import judge_env
from tests.support import postgres
from tests.support.fake_judge import FakeJudge
from tests.support.server import ServerProcess

EVENTS = 1000


def _batches(marker: str, count: int) -> list[list[dict[str, str]]]:
    events = [{"event_id": str(uuid.uuid4()), "input": f"q {marker} {n}", "output": "BAD" if n % 3 == 0 else "fine",
               "session_id": f"s-{marker}-{n % 50}"} for n in range(count)]
    return [events[i:i + 100] for i in range(0, count, 100)]


def _counts(db: Path) -> tuple[int, int, list[tuple[str, str, int]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        queued = conn.execute("SELECT COUNT(*) FROM detection_queue").fetchone()[0]
        detections = conn.execute("SELECT COUNT(*) FROM detections").fetchone()[0]
        per = conn.execute("SELECT event_id, detector, COUNT(*) FROM detections GROUP BY 1, 2").fetchall()
        return queued, detections, per
    finally:
        conn.close()


@pytest.fixture
def judge() -> Iterator[FakeJudge]:
    with FakeJudge() as fake:
        yield fake


def test_sigkill_with_a_full_queue_then_mid_drain_loses_and_repeats_nothing(judge: FakeJudge, tmp_path: Path) -> None:
    env = judge_env(judge, PHOSPHOBS_JUDGE_MAX_PER_MINUTE="1000000")
    db = tmp_path / "phosphobs.db"
    first = ServerProcess(tmp_path, env={**env, "PHOSPHOBS_DETECTION_SETTLE_SECONDS": "3600"}).start()
    marker = uuid.uuid4().hex
    with httpx.Client(base_url=first.base_url, headers={"Authorization": f"Bearer {first.api_key}"},
                      timeout=60) as client:
        for batch in _batches(marker, EVENTS):
            assert client.post("/api/ingest/batch", json={"events": batch}).status_code == 201
    first.kill()
    assert _counts(db)[:2] == (EVENTS, 0)  # every 2xx'd event is queued, none judged yet

    second = ServerProcess(tmp_path, env=env, port=first.port).start()
    wait_for(lambda: _counts(db)[1] > 0, what="the first detections")
    second.kill()  # most likely mid-drain; either way the restart must finish the job exactly once
    third = ServerProcess(tmp_path, env=env, port=first.port).start()
    try:
        wait_for(lambda: _counts(db)[0] == 0, timeout=300, what="the queue to drain")
        _, total, per = _counts(db)
        assert total == 2 * EVENTS
        assert all(n == 1 for _, _, n in per)
        assert {d for _, d, _ in per} == {"rules", "judge"}
        assert len({e for e, d, _ in per if d == "judge"}) == EVENTS
        with httpx.Client(base_url=third.base_url, headers={"Authorization": f"Bearer {first.api_key}"}) as client:
            failures = client.get("/api/events", params={"detected_flag": "failure", "limit": 200}).json()["data"]
            assert failures and all(e["output"] == "BAD" and e["flag_source"] == "detector" for e in failures)
    finally:
        third.stop()


def test_two_postgres_workers_never_judge_an_event_twice(judge: FakeJudge, tmp_path_factory: pytest.TempPathFactory
                                                         ) -> None:
    postgres.require_postgres(explicit=False)
    url = postgres.create_database("phosphobs_detect")
    env = {**judge_env(judge, PHOSPHOBS_JUDGE_MAX_PER_MINUTE="1000000"), "PHOSPHOBS_LOG_LEVEL": "warning"}
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            servers.append(ServerProcess(tmp_path_factory.mktemp(name), args=["--database-url", url, "--workers", "2"],
                                         env=env).start(timeout=60))
        store = open_storage(url)
        try:
            project = store.get_project("default")
            assert project is not None
            key, _ = create_key(store, project, f"k-{now_us()}")
        finally:
            store.close()
        marker = uuid.uuid4().hex
        count = 400
        for i, batch in enumerate(_batches(marker, count)):
            with httpx.Client(base_url=servers[i % 2].base_url, headers={"Authorization": f"Bearer {key}"},
                              timeout=60) as client:
                assert client.post("/api/ingest/batch", json={"events": batch}).status_code == 201
        with httpx.Client(base_url=servers[0].base_url, headers={"Authorization": f"Bearer {key}"}) as client:
            wait_for(lambda: client.get("/api/quality").json()["queue"]["queued"] == 0, timeout=300,
                     what="the queue to drain")
            report = client.get("/api/quality", params={"from": "2000-01-01T00:00:00Z"}).json()
        asked = [body["messages"][-1]["content"] for _, body in judge.requests if marker in str(body["messages"][-1])]
        questions = [line for text in asked for line in text.splitlines() if line.startswith(f"q {marker} ")]
        assert len(questions) == count and len(set(questions)) == count  # each event judged exactly once
        judged = {d["detector"]: d for d in report["detectors"]}
        assert judged["judge"]["events_judged"] == count and judged["rules"]["failures_found"] == 0
        assert judged["judge"]["failures_found"] == len([n for n in range(count) if n % 3 == 0])
    finally:
        for server in servers:
            server.stop()
        postgres.drop_database(url)

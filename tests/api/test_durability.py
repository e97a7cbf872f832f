"""A 2xx means committed: events survive SIGKILL right after the answer, and a graceful stop."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.support.factories import api_event
from tests.support.server import ServerProcess


def test_events_acknowledged_before_sigkill_are_there_after_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path).start()
    headers = {"Authorization": f"Bearer {server.api_key}"}
    acknowledged: list[str] = []

    def send(i: int) -> None:
        event_id = str(uuid.uuid4())
        body = {"events": [api_event(event_id=event_id, session_id=f"k{i}")]}
        response = httpx.post(server.base_url + "/api/ingest/batch", json=body, headers=headers, timeout=30)
        if response.status_code == 201:
            acknowledged.append(event_id)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(64)))
    last = httpx.post(server.base_url + "/api/ingest", json=api_event(), headers=headers)
    assert last.status_code == 201
    acknowledged.append(last.json()["event_id"])
    server.kill()  # no shutdown hook runs

    server.start()
    try:
        for event_id in acknowledged:
            got = httpx.get(f"{server.base_url}/api/events/{event_id}", headers=headers)
            assert got.status_code == 200, event_id
        assert len(acknowledged) == 65
    finally:
        server.stop()

"""The optional retention setting prunes old events while the server runs."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.factories import api_event
from tests.support.server import ServerProcess


def test_server_prunes_events_older_than_the_retention(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, args=["--retention-days", "2"],
                           env={"PHOSPHOBS_RETENTION_CHECK_SECONDS": "0.5"}).start()
    try:
        client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"})
        old = api_event(session_id="old", timestamp="2020-01-01T00:00:00Z")
        new = api_event(session_id="new")
        assert client.post("/api/ingest/batch", json={"events": [old, new]}).status_code == 201
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and client.get("/api/sessions/old").status_code != 404:
            time.sleep(0.2)
        assert client.get("/api/sessions/old").status_code == 404
        assert client.get("/api/sessions/new").json()["event_count"] == 1
    finally:
        server.stop()

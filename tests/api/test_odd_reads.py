"""Odd reads never answer 500: any search text, forged cursors, NUL in the URL — API and dashboard."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import new_api_project
from tests.dashboards.conftest import admin_password
from tests.dashboards.test_web_auth import login
from tests.storage.test_queries import ODD_SEARCHES
from tests.support.server import ServerProcess


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED_CURSORS = [b64([1180591620717411303424, 1]), b64([1, -(2**64)]), b64([{}, "x"]), b64(["x", 1]),
                  b64([1.5, 2]), b64([True, 1]), b64([1]), b64([1, 2, 3]), b64({"a": 1}), b64("x"), b64(None),
                  "!!!not-base64!!!", "A", base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(), b64([[[[]]]]),
                  b64([1e309, "x"]), b64(["x" * 5000])]


def test_any_search_text_is_answered_and_underscored_words_are_found(server: ServerProcess) -> None:
    api = new_api_project(server)
    created = api.client.post("/api/ingest", json={"input": "please run tool_call now", "output": "done."})
    event_id = created.json()["event_id"]
    for text in [*ODD_SEARCHES, "tool_call", "TOOL_CALL", "tool_call now"]:
        if "\x00" in text:
            continue  # refused as a bad URL below
        response = api.client.get("/api/events", params={"q": text})
        assert response.status_code == 200, (text, response.text)
    found = api.client.get("/api/events", params={"q": "tool_call"}).json()["data"]
    assert [e["event_id"] for e in found] == [event_id]
    assert api.client.get("/api/events", params={"q": "a\x00b"}).status_code == 400


@pytest.mark.parametrize("path", ["/api/events", "/api/sessions", "/api/traces"])
def test_forged_api_cursors_are_422(server: ServerProcess, path: str) -> None:
    api = new_api_project(server)
    for cursor in FORGED_CURSORS:
        response = api.client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.status_code, response.text)
        assert response.json()["error"]["code"] == "validation_error"


def test_dashboard_search_and_forged_cursors(server: ServerProcess) -> None:
    api = new_api_project(server)
    api.client.post("/api/ingest", json={"input": "tool_call here", "output": "ok", "session_id": "s-1",
                                          "metadata": {"user_id": "u-1"}})
    client, _ = login(server, admin_password(server))
    base = f"/p/{api.project.id}"
    for text in ("tool_call", '"tool_call"', "a.b-c", "NEAR(x y)", "it's", "__x__", "e\u0301\u0301"):
        for page in ("events", "sessions"):
            response = client.get(f"{base}/{page}", params={"q": text})
            assert response.status_code == 200, (page, text, response.status_code)
    assert "tool_call here" in client.get(f"{base}/events", params={"q": "tool_call"}).text
    for cursor in FORGED_CURSORS:
        for page in ("events", "sessions", "users"):
            response = client.get(f"{base}/{page}", params={"cursor": cursor})
            assert response.status_code == 400, (page, cursor, response.status_code)
            assert "not valid" in response.text

"""Bad input gets a clear JSON error with the right status, never a 500 and never a partial write."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import ApiProject, new_api_project
from tests.support.clock import start_of_a_fresh_minute
from tests.support.factories import api_event
from tests.support.server import ServerProcess


def error_of(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "missing API key"), ({"Authorization": "Bearer ph_" + "x" * 43}, "invalid"),
     ({"Authorization": "Basic abc"}, "malformed Basic"), ({"Authorization": "Bearer nope"}, "invalid")],
)
def test_missing_or_unknown_key_is_401(server: ServerProcess, headers, message) -> None:
    for method, path in (("POST", "/api/ingest"), ("GET", "/api/events"), ("GET", "/api/sessions"),
                         ("POST", "/api/feedback"), ("POST", "/api/ingest/batch")):
        response = httpx.request(method, server.base_url + path, headers=headers, json=api_event())
        assert response.status_code == 401
        assert message in error_of(response)["message"]


def test_malformed_json_is_400(api: ApiProject) -> None:
    response = api.client.post("/api/ingest", content=b'{"input": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in error_of(response)["message"]


def test_wrong_content_type_is_415(api: ApiProject) -> None:
    response = api.client.post("/api/ingest", content=b"input=x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in error_of(response)["message"]


def test_body_over_the_limit_is_413_and_nothing_is_stored(api: ApiProject) -> None:
    response = api.client.post("/api/ingest", json=api_event(session_id="huge", input="x" * (5 * 1024 * 1024 + 1)))
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert api.client.get("/api/sessions/huge").status_code == 404


def test_wrong_types_are_422_with_the_field_path(api: ApiProject) -> None:
    response = api.client.post("/api/ingest", json=api_event(metadata={"token_count_input": "many"}))
    assert response.status_code == 422
    assert error_of(response)["details"][0]["loc"] == ["metadata", "token_count_input"]


def test_another_projects_event_and_session_are_404(server: ServerProcess, api: ApiProject) -> None:
    event_id = api.client.post("/api/ingest", json=api_event(session_id="private")).json()["event_id"]
    other = new_api_project(server)
    assert other.client.get(f"/api/events/{event_id}").status_code == 404
    assert other.client.get("/api/sessions/private").status_code == 404
    assert error_of(other.client.get("/api/sessions/private"))["code"] == "not_found"


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"flag": "meh"}, {"since": "tuesday"},
                                    {"cursor": "not-a-cursor"}, {"cursor": "WyJhIiwiYiJd"}])
def test_bad_query_parameters_are_422(api: ApiProject, params) -> None:
    assert api.client.get("/api/events", params=params).status_code == 422


NASTY_BODIES = [
    b"", b"null", b"[]", b"123", b'"str"', b"{}", b'{"events": null}', b'{"events": {}}', b'{"events": [null]}',
    b'{"input": {"a": 1}, "output": []}', b'{"input": "a", "output": "b", "metadata": null}',
    b'{"input": "a", "output": "b", "timestamp": "99999-01-01T00:00:00"}',
    b'{"input": "a", "output": "b", "timestamp": 1e400}', b'{"input": "a", "output": "b", "event_id": 7}',
    b'{"input": "a", "output": "b", "metadata": {"latency_ms": 1e400}}', b"\xff\xfe\x00",
    b'{"input": "\\ud800", "output": "b"}', b'{"input": "a", "output": "b", "metadata": {"tags": [[]]}}',
    b'{"input": "a", "output": "b", "session_id": ""}', b'{"input": "a", "output": "b", "timestamp": "0000-00-00"}',
    b'{"input": "a", "output": "b", "metadata": {"token_count_input": 99999999999999999999999}}',
    b'{"event_id": "00000000-0000-0000-0000-000000000000", "flag": "success"}',
]


@pytest.mark.parametrize("path", ["/api/ingest", "/api/ingest/batch", "/api/feedback"])
def test_no_bad_body_produces_a_500(api: ApiProject, path: str) -> None:
    for raw in NASTY_BODIES:
        response = api.client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code < 500, (raw, response.text)
        if response.status_code >= 400:
            assert error_of(response)["message"]


def test_unknown_routes_and_methods_answer_json(api: ApiProject) -> None:
    assert error_of(api.client.get("/api/nope"))["code"] == "not_found"
    assert api.client.delete("/api/ingest").status_code == 405


def test_rate_limit_counts_events_and_answers_429_with_headers(server: ServerProcess) -> None:
    limited = new_api_project(server, rate_limit=150)
    start_of_a_fresh_minute()
    batch = {"events": [api_event(session_id="rl") for _ in range(100)]}
    ok = limited.client.post("/api/ingest/batch", json=batch)
    assert ok.status_code == 201
    assert (ok.headers["X-RateLimit-Limit"], ok.headers["X-RateLimit-Remaining"]) == ("150", "50")
    refused = limited.client.post("/api/ingest/batch", json={"events": [api_event(session_id="rl2")] * 51})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "50"
    assert error_of(refused)["code"] == "rate_limited"
    assert limited.client.get("/api/sessions/rl2").status_code == 404
    assert limited.client.post("/api/ingest/batch", json={"events": [api_event()] * 50}).status_code == 201


def test_free_plan_limit_is_1000_events_per_minute(server: ServerProcess) -> None:
    free = new_api_project(server, rate_limit=None)
    start_of_a_fresh_minute()
    answers = [free.client.post("/api/ingest/batch", json={"events": [api_event() for _ in range(100)]})
               for _ in range(11)]
    assert [a.status_code for a in answers].count(201) == 10
    assert answers[-1].status_code == 429
    assert answers[0].headers["X-RateLimit-Limit"] == "1000"


def test_feedback_for_an_unknown_event_id_is_kept(api: ApiProject) -> None:
    event_id = str(uuid.uuid4())
    assert api.client.post("/api/feedback", json={"event_id": event_id, "flag": "failure"}).status_code == 201
    assert api.client.get(f"/api/events/{event_id}").status_code == 404
    api.client.post("/api/ingest", json=api_event(event_id=event_id))
    got = api.client.get(f"/api/events/{event_id}").json()
    assert got["flag"] == "failure" and got["feedback"][0]["source"] == "user"

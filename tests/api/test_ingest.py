"""POST /api/ingest and /api/ingest/batch through a real server process."""

from __future__ import annotations

import uuid

from tests.conftest import ApiProject
from tests.support.factories import api_event


def test_single_event_is_readable_as_soon_as_201_is_answered(api: ApiProject) -> None:
    event_id = str(uuid.uuid4())
    body = api_event(event_id=event_id, session_id="s", timestamp="2026-01-02T03:04:05",
                     metadata={"model": "gpt-4o", "provider": "openai", "custom_key": {"a": [1, "b"]},
                               "cost_cents": 2.3, "user_id": "u-1", "tags": ["prod"]})
    response = api.client.post("/api/ingest", json=body)
    assert response.status_code == 201
    assert response.json() == {"event_id": event_id, "status": "created"}
    got = api.client.get(f"/api/events/{event_id}").json()
    assert got["timestamp"] == "2026-01-02T03:04:05.000000Z"
    assert got["metadata"]["custom_key"] == {"a": [1, "b"]}
    assert (got["metadata"]["cost_cents"], got["metadata"]["cost_source"]) == (2.3, "reported")
    assert (got["session_id"], got["metadata"]["user_id"], got["project_id"]) == ("s", "u-1", api.project.id)


def test_resending_an_event_is_a_duplicate_not_a_copy(api: ApiProject) -> None:
    body = api_event(event_id=str(uuid.uuid4()), session_id="dup")
    assert api.client.post("/api/ingest", json=body).status_code == 201
    again = api.client.post("/api/ingest", json=body)
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert api.client.get("/api/sessions/dup").json()["event_count"] == 1


def test_batch_reports_created_and_duplicate_per_event_in_order(api: ApiProject) -> None:
    known = str(uuid.uuid4())
    api.client.post("/api/ingest", json=api_event(event_id=known))
    events = [api_event(), api_event(event_id=known), api_event()]
    response = api.client.post("/api/ingest/batch", json={"events": events})
    assert response.status_code == 201
    assert [r["status"] for r in response.json()["results"]] == ["created", "duplicate", "created"]


def test_retried_batch_after_a_timeout_stores_nothing_twice(api: ApiProject) -> None:
    events = [api_event(event_id=str(uuid.uuid4()), session_id="retry") for _ in range(100)]
    first = api.client.post("/api/ingest/batch", json={"events": events})
    assert first.status_code == 201
    # the client never saw that answer (timeout) and sends the same batch again
    second = api.client.post("/api/ingest/batch", json={"events": events})
    assert second.status_code == 200 and second.json()["duplicates"] == 100
    assert api.client.get("/api/sessions/retry").json()["event_count"] == 100


def test_batch_with_one_invalid_event_is_rejected_whole(api: ApiProject) -> None:
    events = [api_event(session_id="whole"), {"input": "x", "output": 5}, {"output": "y"}]
    response = api.client.post("/api/ingest/batch", json={"events": events})
    assert response.status_code == 422
    locs = [d["loc"][:3] for d in response.json()["error"]["details"]]
    assert ["events", 1, "output"] in locs and ["events", 2, "input"] in locs
    assert api.client.get("/api/sessions/whole").status_code == 404


def test_batch_with_101_events_is_rejected_whole(api: ApiProject) -> None:
    response = api.client.post("/api/ingest/batch", json={"events": [api_event(session_id="big")] * 101})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["events"]
    assert api.client.get("/api/sessions/big").status_code == 404


def test_body_project_id_naming_another_project_is_refused(api: ApiProject) -> None:
    for path, body in (("/api/ingest", api_event(project_id="someone-else", session_id="x")),
                       ("/api/ingest/batch", {"events": [api_event(session_id="x", project_id="someone-else")]})):
        response = api.client.post(path, json=body)
        assert response.status_code == 403, response.text
        assert "someone-else" in response.json()["error"]["message"]
    assert api.client.get("/api/sessions/x").status_code == 404


def test_body_project_id_naming_the_keys_project_is_accepted(api: ApiProject) -> None:
    for project_ref in (api.project.id, api.project.name):
        assert api.client.post("/api/ingest", json=api_event(project_id=project_ref)).status_code == 201


def test_large_unicode_strings_are_stored_intact(api: ApiProject) -> None:
    text = ("emoji 🧪🚀 ünïcödé 中文 " * 2000) + "x" * 4_000_000
    response = api.client.post("/api/ingest", json=api_event(input=text, output=text[:1000]))
    assert response.status_code == 201
    got = api.client.get(f"/api/events/{response.json()['event_id']}").json()
    assert got["input"] == text and got["output"] == text[:1000]

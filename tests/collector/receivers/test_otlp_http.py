"""Every recorded fixture through the real OTLP/HTTP receiver of a running server, in every wire form."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.collector.fixtures import WIRE_FORMS, Payload, fixture_names, load_fixture
from tests.conftest import ApiProject, new_api_project
from tests.support.server import ServerProcess

PATHS = {"traces": "/v1/traces", "logs": "/v1/logs", "metrics": "/v1/metrics"}


def post(api: ApiProject, payload: Payload, form: str) -> httpx.Response:
    body, content_type, encoding = payload.wire(form)
    headers = {"content-type": content_type, **({"content-encoding": encoding} if encoding else {})}
    return api.client.post(PATHS[payload.signal], content=body, headers=headers)


def stored(api: ApiProject) -> list[dict]:
    events = api.client.get("/api/events", params={"limit": 200}).json()["data"]
    return sorted(events, key=lambda e: e["timestamp"])


def comparable(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "received_at"} for e in events]


@pytest.mark.parametrize("form", WIRE_FORMS)
@pytest.mark.parametrize("name", fixture_names())
def test_fixture_lands_as_the_expected_events(server: ServerProcess, name: str, form: str) -> None:
    api = new_api_project(server)
    fixture = load_fixture(name)
    for payload in fixture.payloads:
        response = post(api, payload, form)
        assert response.status_code == 200, response.text
    expected = fixture.expected
    events = stored(api)
    assert len(events) == len(expected["calls"])
    for event, call in zip(events, expected["calls"], strict=True):
        assert event["input"] == call["last_user_text"]
        assert event["output"] == (call["output_text"] or "")
        assert event["metadata"]["provider"] == expected["provider"]
        assert event["session_id"] == expected["session_id"]
        assert event["metadata"]["user_id"] == expected["user_id"]
        assert event["source"] == "otlp"
        if call["usage"]:
            assert event["metadata"]["model"] == expected["response_model"]
            assert event["metadata"]["token_count_input"] == call["usage"]["input_tokens"]
            assert event["metadata"]["token_count_output"] == call["usage"]["output_tokens"]
            assert event["metadata"]["cost_source"] == "estimated"
        else:
            assert (event["flag"], event["status"]) == ("failure", "error")
    session = api.client.get(f"/api/sessions/{expected['session_id']}").json()
    assert session["event_count"] == len(expected["calls"])
    assert session["token_count_input"] == expected["totals"]["input_tokens"]
    assert session["failure_count"] == expected["totals"]["failed_calls"]


@pytest.mark.parametrize("name", fixture_names())
def test_reverse_arrival_and_resending_give_identical_events(server: ServerProcess, name: str) -> None:
    fixture = load_fixture(name)
    forward, backward = new_api_project(server), new_api_project(server)
    for payload in fixture.payloads:
        post(forward, payload, "recorded")
    for payload in reversed(fixture.payloads):  # logs before their spans
        post(backward, payload, "json")
    for payload in fixture.payloads:  # an exporter retry of everything
        assert post(backward, payload, "recorded").status_code == 200
    one, two = comparable(stored(forward)), comparable(stored(backward))
    for event in one + two:
        event.pop("project_id")
    assert one == two and len(one) == len(fixture.expected["calls"])


def test_response_is_an_export_response_in_the_request_encoding(server: ServerProcess) -> None:
    api = new_api_project(server)
    traces = next(p for p in load_fixture("openai-v2-latest").payloads if p.signal == "traces")
    proto = post(api, traces, "recorded")
    assert proto.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse.FromString(proto.content)
    assert post(api, traces, "json").json() == {}


def test_spans_with_bad_ids_are_counted_as_partial_success(server: ServerProcess) -> None:
    api = new_api_project(server)
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "00" * 16, "spanId": "ab" * 8, "name": "chat", "attributes": []},
        {"traceId": "12" * 16, "spanId": "34" * 8, "name": "chat gpt-4o", "startTimeUnixNano": "1700000000000000000",
         "endTimeUnixNano": "1700000001000000000", "attributes": [
             {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}}]}]}]}]}
    response = api.client.post("/v1/traces", json=body)
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert len(stored(api)) == 1


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"content-type": "text/plain"}, b"hi", 415),
        ({"content-type": "application/x-protobuf"}, b"\xff\xff\xff garbage", 400),
        ({"content-type": "application/json"}, b"{not json", 400),
        ({"content-type": "application/json", "content-encoding": "gzip"}, b"not gzip", 400),
        ({"content-type": "application/json", "content-encoding": "br"}, b"{}", 415),
        ({"content-type": "application/json", "content-encoding": "gzip"}, gzip.compress(b" " * (70 << 20)), 413),
    ],
)
def test_bad_payloads_get_permanent_error_statuses(server: ServerProcess, headers, body, status) -> None:
    api = new_api_project(server)
    response = api.client.post("/v1/traces", content=body, headers=headers)
    assert response.status_code == status
    if response.headers["content-type"] == "application/json":
        assert json.loads(response.content)["message"]
    else:
        assert status_pb2.Status.FromString(response.content).message


def test_missing_key_is_401_as_a_status_message(server: ServerProcess) -> None:
    headers = {"content-type": "application/x-protobuf"}
    response = httpx.post(server.base_url + "/v1/traces", content=b"", headers=headers)
    assert response.status_code == 401
    assert "API key" in status_pb2.Status.FromString(response.content).message


def test_throttled_export_is_429_with_retry_after(server: ServerProcess) -> None:
    api = new_api_project(server, rate_limit=2)
    traces = next(p for p in load_fixture("openai-v2-latest").payloads if p.signal == "traces")
    response = post(api, traces, "recorded")  # 4 spans > 2 allowed
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    assert stored(api) == []


def test_metrics_are_acknowledged(server: ServerProcess) -> None:
    api = new_api_project(server)
    metrics = [p for p in load_fixture("openai-v2-latest").payloads if p.signal == "metrics"]
    for payload in metrics:
        assert post(api, payload, "recorded").status_code == 200

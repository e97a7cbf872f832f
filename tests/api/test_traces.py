"""End to end: agent traces exported by the real OpenTelemetry SDK (OTLP/HTTP) to a real server on each
backend come back from GET /api/traces/{id} as the exported GenAI tree, whatever the arrival order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.storage.open import open_storage

from tests.support import postgres
from tests.support.agent_traces import BUILDERS, TOOL_ARGS, TOOL_RESULT, expected_tree, record
from tests.support.server import ServerProcess


@dataclass
class Backend:
    url: str
    server: ServerProcess


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with postgres.fresh_database(request.param, "phosphobs_traces", tmp_path_factory.mktemp("traces-db")) as url:
        server = ServerProcess(tmp_path_factory.mktemp("traces"), args=["--database-url", url]).start(timeout=60)
        try:
            yield Backend(url, server)
        finally:
            server.stop()


def new_key(backend: Backend) -> str:
    store = open_storage(backend.url)
    try:
        project = store.create_project(f"t-{uuid.uuid4().hex[:8]}", "free", now_us())
        store.set_project_plan(project.id, "free", 0)
        key, _ = create_key(store, project, "test")
        return key
    finally:
        store.close()


def export(backend: Backend, key: str, batches: list[list[ReadableSpan]]) -> None:
    exporter = OTLPSpanExporter(endpoint=f"{backend.server.base_url}/v1/traces",
                                headers={"Authorization": f"Bearer {key}"})
    for batch in batches:
        assert exporter.export(batch) == SpanExportResult.SUCCESS
    exporter.shutdown()


def get(backend: Backend, key: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(backend.server.base_url + path, params=params, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize("convention", sorted(BUILDERS))
@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_stored_tree_equals_exported_tree(backend: Backend, convention: str, order: str) -> None:
    key = new_key(backend)
    spans = record(BUILDERS[convention], session=f"s-{convention}-{order}")
    sent = spans if order == "forward" else list(reversed(spans))
    export(backend, key, [sent[i : i + 2] for i in range(0, len(sent), 2)])
    trace_id = f"{spans[0].context.trace_id:032x}"
    response = get(backend, key, f"/api/traces/{trace_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {s["span_id"]: s["parent_span_id"] for s in body["spans"]} == expected_tree(spans)
    assert body["session_id"] == f"s-{convention}-{order}"
    assert [s["start"] for s in body["spans"]] == sorted(s["start"] for s in body["spans"])
    session = get(backend, key, f"/api/sessions/{body['session_id']}").json()
    assert session["traces"] == [trace_id]
    assert all(e["trace_id"] == trace_id and e["span_id"] for e in session["events"])


def test_trace_api_shape_listing_and_isolation(backend: Backend) -> None:
    key, other = new_key(backend), new_key(backend)
    spans = record(BUILDERS["semconv"], session="s-shape")
    export(backend, key, [list(reversed(spans))])
    trace_id = f"{spans[0].context.trace_id:032x}"
    body = get(backend, key, f"/api/traces/{trace_id}").json()
    assert set(body) == {"trace_id", "session_id", "user_id", "start", "end", "duration_ms", "spans"}
    [root] = [s for s in body["spans"] if s["parent_span_id"] is None]
    assert (root["name"], root["kind"], root["event_id"]) == ("POST /chat", "other", None)
    [tool] = [s for s in body["spans"] if s["kind"] == "tool"]
    assert tool["event_id"] and tool["status"] == "ok" and tool["tool_name"] == "get_weather"
    event = get(backend, key, f"/api/events/{tool['event_id']}").json()
    assert (event["trace_id"], event["span_id"]) == (trace_id, tool["span_id"])
    assert TOOL_ARGS in event["input"] and TOOL_RESULT in event["output"]
    llm = [s for s in body["spans"] if s["kind"] == "llm"]
    assert len(llm) == 2 and all(s["model"] == "gpt-4o" and s["token_count_output"] == 9 for s in llm)
    assert get(backend, other, f"/api/traces/{trace_id}").status_code == 404
    listed = get(backend, key, "/api/traces", session_id="s-shape").json()
    [row] = listed["data"]
    assert (row["trace_id"], row["root_name"], row["span_count"], row["llm_call_count"]) == (
        trace_id, "POST /chat", 5, 2)
    assert (row["token_count_input"], row["has_error"]) == (81, False)
    assert get(backend, key, "/api/traces", has_errors="true").json()["data"] == []
    assert get(backend, other, "/api/traces").json()["data"] == []
    assert get(backend, key, "/api/traces", cursor="garbage").status_code == 422

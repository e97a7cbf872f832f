"""An app switched from Arize Phoenix keeps its annotations: its client posts them to `/v1/span_annotations` and
`/v1/trace_annotations` with the key as Bearer. Here the exact requests of `arize-phoenix-client` go to a real
server (the real client runs in the interop suite, `phoenix-openai`); every broken body is a 4xx, never a 500."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.collector.otlp_factories import BASE_NS, make_span, new_span_id, new_trace_id, traces_request
from tests.conftest import ApiProject, new_api_project
from tests.support.server import ServerProcess

PROTOBUF = {"content-type": "application/x-protobuf"}


@pytest.fixture
def api(server: ServerProcess) -> ApiProject:
    return new_api_project(server)


def _chat(session: str, question: str) -> dict[str, str]:
    return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Lyon."}],
                                                   "finish_reason": "stop"}]),
            "session.id": session}


def _export(api: ApiProject, session: str) -> tuple[str, str, str]:
    """The app's span around two calls: (app span id, first call's span id, trace id) as hex."""
    trace = new_trace_id()
    app = make_span("chat-endpoint", {"session.id": session}, trace_id=trace, span_id=new_span_id(),
                    duration_ms=5000, kind=1)
    first = make_span("chat gpt-4o-mini", _chat(session, "draft"), parent=app)
    final = make_span("chat gpt-4o-mini", _chat(session, "answer"), parent=app, start_ns=BASE_NS + 1_000_000_000)
    got = httpx.post(api.base_url + "/v1/traces", content=traces_request([app, first, final]).SerializeToString(),
                     headers={**PROTOBUF, "Authorization": f"Bearer {api.key}"})
    assert got.status_code == 200, got.text
    return app.span_id.hex(), first.span_id.hex(), trace.hex()


def _settled(api: ApiProject, session: str, flagged: int) -> dict[str, dict]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = api.client.get(f"/api/sessions/{session}")
        events = got.json()["events"] if got.status_code == 200 else []
        if len(events) == 2 and sum(1 for e in events if e["flag"]) == flagged:
            return {e["input"]: e for e in events}
        time.sleep(0.2)
    raise AssertionError(f"session {session} did not settle")


def test_span_and_trace_annotations_from_the_phoenix_client(api: ApiProject) -> None:
    app_span, first_call, trace = _export(api, "px-1")
    human = {"name": "user feedback", "annotator_kind": "HUMAN", "span_id": first_call,
             "result": {"label": "thumbs-down", "score": 0, "explanation": "wrong city"}, "metadata": {}}
    judged = {"name": "correctness", "annotator_kind": "LLM", "span_id": app_span, "result": {"label": "correct"}}
    got = api.client.post("/v1/span_annotations", params={"sync": "true"}, json={"data": [human, judged]})
    assert got.status_code == 200, got.text
    assert [len(item["id"]) for item in got.json()["data"]] == [32, 32]
    events = _settled(api, "px-1", 2)
    assert (events["draft"]["flag"], events["draft"]["flag_source"]) == ("failure", "user")  # a person's verdict
    assert events["draft"]["evaluations"] == [{"name": "user feedback", "score": 0.0, "label": "thumbs-down",
                                               "explanation": "wrong city", "source": "phoenix", "scope": "event",
                                               "human": True}]
    assert (events["answer"]["flag"], events["answer"]["flag_source"]) == ("success", "otel")  # the app span's
    assert events["answer"]["evaluations"][0]["scope"] == "trace"

    _, _, other_trace = _export(api, "px-2")  # a trace annotation, async as the client sends by default
    got = api.client.post("/v1/trace_annotations", json={"data": [
        {"name": "resolved", "annotator_kind": "CODE", "trace_id": other_trace, "result": {"label": "fail"}}]})
    assert got.status_code == 200 and got.json() == {"data": []}
    events = _settled(api, "px-2", 1)
    assert events["answer"]["flag"] == "failure" and events["draft"]["flag"] is None
    assert trace != other_trace


def test_refused_annotations_store_nothing(api: ApiProject) -> None:
    _, first_call, _ = _export(api, "px-3")
    good = {"name": "ok", "annotator_kind": "HUMAN", "span_id": first_call, "result": {"label": "thumbs-up"}}
    bad = {"name": "bad", "annotator_kind": "HUMAN", "span_id": first_call}
    got = api.client.post("/v1/span_annotations", json={"data": [good, bad]})
    assert got.status_code == 422 and "annotation 1" in got.json()["error"]["message"]
    session = api.client.post("/v1/session_annotations", json={"data": [
        {"name": "n", "annotator_kind": "HUMAN", "session_id": "px-3", "result": {"label": "good"}}]})
    assert session.status_code == 422 and "session annotations are not kept" in session.json()["error"]["message"]
    time.sleep(6)  # past the detection settle delay: nothing may have flagged the call
    events = _settled(api, "px-3", 0)
    assert all(e["evaluations"] == [] for e in events.values())


HOSTILE = {
    "not json": b"{not json",
    "no data": b'{"items": []}',
    "data not a list": b'{"data": {"name": "n"}}',
    "items of every type": b'{"data": [null, 1, "x", [], {}]}',
    "nan score": b'{"data": [{"name": "n", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"score": NaN}}]}',
    "huge score": b'{"data": [{"name": "n", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"score": '
                  + b"9" * 5000 + b"}}]}",
    "nul in name": b'{"data": [{"name": "a\\u0000", "annotator_kind": "HUMAN", "span_id": "ab",'
                   b' "result": {"label": "x"}}]}',
    "lone surrogates": b'{"data": [{"name": "\\ud800", "annotator_kind": "HUMAN", "span_id": "ab",'
                       b' "result": {"label": "\\udc00", "explanation": "\\ud800"}}]}',
    "deep nesting": b'{"data": [{"name": "n", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"label": "x"},'
                    b' "metadata": ' + b"[" * 3000 + b"]" * 3000 + b"}]}",
    "long ids": b'{"data": [{"name": "n", "annotator_kind": "HUMAN", "span_id": "' + b"a" * 100_000
                + b'", "result": {"label": "x"}}]}',
    "100k items": b'{"data": [' + b",".join([b'{"name":"n","annotator_kind":"CODE","span_id":"ab",'
                                             b'"trace_id":"ab","result":{"score":1}}'] * 100_000) + b"]}",
    "20k items": b'{"data": [' + b",".join([b'{"name":"n","annotator_kind":"CODE","span_id":"ab","result":{}}']
                                            * 20_000) + b"]}",  # under the body cap: the item cap answers
    "10 MB string": b'{"data": [{"name": "n", "annotator_kind": "HUMAN", "span_id": "ab", "result": {"label": "'
                    + b"x" * 10_000_000 + b'"}}]}',
}


@pytest.mark.parametrize("path", ["/v1/span_annotations", "/v1/trace_annotations"])
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_annotations_are_answered_never_500(api: ApiProject, name: str, path: str) -> None:
    headers = {"Authorization": f"Bearer {api.key}", "content-type": "application/json"}
    got = httpx.post(api.base_url + path, content=HOSTILE[name], headers=headers)
    assert got.status_code in (200, 400, 413, 422), (got.status_code, got.text)
    if name in ("100k items", "20k items", "10 MB string"):
        assert got.status_code == 413, got.text
    if name == "20k items":
        assert "at most 10,000" in got.text
    assert httpx.post(api.base_url + path, content=HOSTILE[name]).status_code == 401

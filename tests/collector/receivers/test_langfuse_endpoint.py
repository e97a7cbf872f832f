"""An app set up for Langfuse switches by pointing its host at phosphobs and using a phosphobs key as the secret key.

Langfuse's SDKs export OTLP/HTTP protobuf (gzip) to `{host}/api/public/otel/v1/traces` with
`Authorization: Basic base64(public_key:secret_key)`; "Langfuse OTel exporter" set-ups set
`OTEL_EXPORTER_OTLP_ENDPOINT={host}/api/public/otel`, so their logs and metrics land there too. The real SDK
runs in the interop suite (`langfuse-openai`); here the real OpenTelemetry exporter sends exactly those requests
to a real server, and every broken credential is a 401 with a challenge, never a 500.
"""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.collector.otlp_factories import BASE_NS, make_span, new_span_id, new_trace_id, traces_request
from tests.conftest import ApiProject, new_api_project
from tests.support.server import ServerProcess

LANGFUSE_TRACES = "/api/public/otel/v1/traces"
PROTOBUF = {"content-type": "application/x-protobuf"}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def raw_basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.fixture
def api(server: ServerProcess) -> ApiProject:
    return new_api_project(server)


def wait_for_session(api: ApiProject, session: str, count: int) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = api.client.get(f"/api/sessions/{session}")
        if got.status_code == 200 and got.json()["event_count"] == count:
            return got.json()
        time.sleep(0.1)
    raise AssertionError(f"session {session} did not arrive")


def llm_span(session: str, prompt: str) -> dict:
    """A Langfuse generation as the SDK writes it (`langfuse.*` attributes)."""
    return {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
            "langfuse.observation.input": f'[{{"role": "user", "content": "{prompt}"}}]',
            "langfuse.observation.output": '{"role": "assistant", "content": "Paris."}',
            "langfuse.session.id": session, "langfuse.user.id": "u-1"}


def test_the_langfuse_exporter_request_is_stored(api: ApiProject) -> None:
    """What LangfuseSpanProcessor builds: the OTLP/HTTP exporter, gzip, Basic auth, at the Langfuse path."""
    exporter = OTLPSpanExporter(endpoint=api.base_url + LANGFUSE_TRACES, compression=Compression.Gzip,
                                headers={"Authorization": basic("pk-lf-anything", api.key),
                                         "x-langfuse-sdk-name": "python", "x-langfuse-public-key": "pk-lf-anything"})
    provider = TracerProvider(resource=Resource.create({"service.name": "langfuse-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("langfuse-sdk").start_as_current_span("OpenAI-generation") as span:
        span.set_attributes(llm_span("lf-session", "What is the capital of France?"))
    provider.shutdown()
    [event] = wait_for_session(api, "lf-session", 1)["events"]
    assert (event["input"], event["output"], event["metadata"]["user_id"]) == (
        "What is the capital of France?", "Paris.", "u-1")


@pytest.mark.parametrize("authorization", [
    "basic", "key-as-user", "bearer"])
def test_the_langfuse_path_takes_the_key_as_basic_password_user_or_bearer(api: ApiProject, authorization: str) -> None:
    header = {"basic": basic("pk-lf-1234", api.key), "key-as-user": basic(api.key, ""),
              "bearer": f"Bearer {api.key}"}[authorization]
    session = f"lf-{authorization}"
    body = traces_request([make_span("generation", llm_span(session, "hi"))]).SerializeToString()
    got = httpx.post(api.base_url + LANGFUSE_TRACES, content=body, headers={**PROTOBUF, "Authorization": header})
    assert got.status_code == 200, got.text
    wait_for_session(api, session, 1)


@pytest.mark.parametrize("signal", ["logs", "metrics"])
def test_generic_exporters_pointed_at_the_langfuse_base_reach_the_same_receiver(api: ApiProject, signal: str) -> None:
    """`OTEL_EXPORTER_OTLP_ENDPOINT={host}/api/public/otel` makes the SDK post every signal under it."""
    got = httpx.post(f"{api.base_url}/api/public/otel/v1/{signal}", json={},
                     headers={"Authorization": basic("pk", api.key)})
    assert got.status_code == 200, got.text
    unauthenticated = httpx.post(f"{api.base_url}/api/public/otel/v1/{signal}", json={})
    assert unauthenticated.status_code == 401


def test_basic_auth_reads_the_rest_api_too(api: ApiProject) -> None:
    got = httpx.get(api.base_url + "/api/events", headers={"Authorization": basic("anyone", api.key)})
    assert got.status_code == 200, got.text


BAD_CREDENTIALS = {
    "missing": None,
    "unknown key": basic("pk-lf-1", "ph_" + "x" * 43),
    "langfuse secret key": basic("pk-lf-1", "sk-lf-12345678-1234-1234-1234-123456789012"),
    "empty user and password": basic("", ""),
    "not base64": "Basic !!!not-base64!!!",
    "bad padding": "Basic abc",
    "not utf-8": raw_basic(b"\xff\xfe:\xfd"),
    "no colon": raw_basic(b"ph_" + b"x" * 43),
    "non-ascii header": "Basic ñandú",
    "scheme only": "Basic",
    "another scheme": "Digest username=x",
}


@pytest.mark.parametrize("name", BAD_CREDENTIALS)
@pytest.mark.parametrize("path", [LANGFUSE_TRACES, "/v1/traces"])
def test_bad_credentials_are_401_with_a_challenge_never_500(api: ApiProject, name: str, path: str) -> None:
    header = BAD_CREDENTIALS[name]
    headers = {**PROTOBUF, **({"Authorization": header} if header is not None else {})}
    body = traces_request([make_span("generation", llm_span("never", "hi"))]).SerializeToString()
    got = httpx.post(api.base_url + path, content=body, headers={k: v.encode() for k, v in headers.items()})
    assert got.status_code == 401, (name, got.status_code, got.content)
    challenge = got.headers["www-authenticate"]
    assert 'Basic realm="phosphobs"' in challenge and 'Bearer realm="phosphobs"' in challenge
    assert status_pb2.Status.FromString(got.content).code == 16  # UNAUTHENTICATED, in the request's encoding


def test_auth_check_reads_the_key_s_project(api: ApiProject, server: ServerProcess) -> None:
    """Langfuse's `auth_check()` (its quickstart calls it) reads `GET /api/public/projects` and raises on a 404."""
    expected = {"data": [{"id": api.project.id, "name": api.project.name,
                          "organization": {"id": "phosphobs", "name": "phosphobs"}, "metadata": {}}]}
    for authorization in (basic("pk-lf-1", api.key), f"Bearer {api.key}"):
        got = httpx.get(server.base_url + "/api/public/projects", headers={"Authorization": authorization})
        assert got.status_code == 200 and got.json() == expected
    refused = httpx.get(server.base_url + "/api/public/projects", headers={"Authorization": basic("pk", "ph_nope")})
    assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]


def _langfuse_trace(session: str) -> tuple[str, str, str, bytes]:
    """A trace of two generations (the app's two calls of one turn): (trace id, first span id, final span id,
    the OTLP request)."""
    trace, first, final = new_trace_id(), new_span_id(), new_span_id()
    spans = [make_span("generation", llm_span(session, "draft"), trace_id=trace, span_id=first),
             make_span("generation", llm_span(session, "answer"), trace_id=trace, span_id=final,
                       start_ns=BASE_NS + 1_000_000_000)]
    return trace.hex(), first.hex(), final.hex(), traces_request(spans).SerializeToString()


def _flags_of(api: ApiProject, session: str) -> dict[str, tuple[str | None, str | None, list[str]]]:
    events = wait_for_session(api, session, 2)["events"]
    return {e["input"]: (e["flag"], e["flag_source"], [v["name"] for v in e["evaluations"]]) for e in events}


def test_scores_from_the_langfuse_sdk_become_evaluations_and_flags(api: ApiProject) -> None:
    """The SDK's batch (`POST /api/public/scores`, a list): a score of the whole trace flags the trace's final call,
    an observation's score its own call, whether the score arrives before or after the spans; what cannot be
    kept is listed in a 207, the rest is stored."""
    auth = {"Authorization": basic("pk-lf-1", api.key)}
    session_before, session_after = "lf-scores-before", "lf-scores-after"
    for session, spans_first in ((session_before, False), (session_after, True)):
        trace, first, _, spans = _langfuse_trace(session)
        scores = [
            {"id": f"{session}-1", "traceId": trace, "name": "user-feedback", "value": 0.0, "dataType": "BOOLEAN",
             "comment": "wrong city", "timestamp": "2026-01-01T00:00:00Z", "environment": "default"},
            {"id": f"{session}-2", "traceId": trace, "observationId": first, "name": "correctness",
             "value": "correct", "dataType": "CATEGORICAL"},
            {"id": f"{session}-3", "traceId": trace, "name": "stars", "value": 2},  # NUMERIC: shown, never a flag
            {"id": f"{session}-4", "sessionId": session, "name": "session-level", "value": 1},
        ]

        def send_spans(body: bytes = spans) -> None:
            got = httpx.post(api.base_url + LANGFUSE_TRACES, content=body, headers={**PROTOBUF, **auth})
            assert got.status_code == 200, got.text

        if spans_first:
            send_spans()
        got = httpx.post(api.base_url + "/api/public/scores", json=scores, headers=auth)
        assert got.status_code == 207, got.text
        body = got.json()
        assert (body["accepted"], body["rejected"]) == (3, 1)
        assert "score 3" in body["errors"][0]["message"] and "session score is not kept" in body["errors"][0]["message"]
        if not spans_first:
            send_spans()

    for session in (session_before, session_after):
        deadline = time.monotonic() + 60
        while (flags := _flags_of(api, session))["answer"][0] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert flags == {"draft": ("success", "otel", ["correctness"]),
                         "answer": ("failure", "otel", ["user-feedback", "stars"])}, flags
    [event] = [e for e in wait_for_session(api, session_before, 2)["events"] if e["input"] == "answer"]
    assert event["evaluations"][0] == {"name": "user-feedback", "score": 0.0, "label": "false",
                                       "explanation": "wrong city", "source": "langfuse", "scope": "trace",
                                       "human": False}


def test_one_score_and_the_older_sdks_ingestion_batch(api: ApiProject) -> None:
    auth = {"Authorization": basic("pk-lf-1", api.key)}
    trace = new_trace_id().hex()
    one = httpx.post(api.base_url + "/api/public/scores", headers=auth,
                     json={"id": "my-score", "traceId": trace, "name": "helpful", "value": 1, "dataType": "BOOLEAN"})
    assert one.status_code == 200 and one.json() == {"id": "my-score"}
    refused = httpx.post(api.base_url + "/api/public/scores", headers=auth,
                         json={"traceId": trace, "name": "helpful", "value": 3, "dataType": "BOOLEAN"})
    assert refused.status_code == 422 and "must be 1 or 0" in refused.json()["error"]["message"]

    batch = {"batch": [
        {"id": "e1", "type": "score-create", "timestamp": "2026-01-01T00:00:00Z",
         "body": {"id": "s1", "traceId": trace, "name": "helpful", "value": "pass"}},
        {"id": "e2", "type": "trace-create", "body": {"id": trace}},
        {"id": "e3", "type": "score-create", "body": {"name": "no trace", "value": 1}},
        "not an event",
    ]}
    got = httpx.post(api.base_url + "/api/public/ingestion", headers=auth, json=batch)
    assert got.status_code == 207, got.text
    assert got.json()["successes"] == [{"id": "e1", "status": 201}]
    assert [(e["id"], e["status"]) for e in got.json()["errors"]] == [("e2", 400), ("e3", 400), ("3", 400)]
    assert "send traces over OTLP" in got.json()["errors"][0]["message"]


HOSTILE_SCORES = {
    "not json": b"{not json",
    "a number": b"42",
    "nan value": b'[{"traceId": "ab", "name": "n", "value": NaN}]',
    "huge integer": b'[{"traceId": "ab", "name": "n", "value": ' + b"9" * 5000 + b"}]",
    "bool value": b'[{"traceId": "ab", "name": "n", "value": true}]',
    "nul in name": b'[{"traceId": "ab", "name": "a\\u0000b", "value": 1}]',
    "lone surrogate": b'[{"traceId": "ab", "name": "\\ud800", "value": "\\udc00", "comment": "\\ud800"}]',
    "deep nesting": b'[{"traceId": "ab", "name": "n", "value": 1, "metadata": ' + b"[" * 3000 + b"]" * 3000 + b"}]",
    "wrong types": b'[{"traceId": 5, "name": [], "value": {}}, null, [], "x"]',
    "ingestion garbage": b'{"batch": [{"type": "score-create", "body": "x"}, {"type": "score-create"}]}',
    "long ids": b'[{"id": "' + b"i" * 300 + b'", "traceId": "' + b"t" * 300 + b'", "name": "n", "value": 1}]',
    "100k items": b"[" + b",".join([b'{"traceId":"ab","name":"n","value":1}'] * 100_000) + b"]",
    "ingestion 100k events": b'{"batch": [' + b",".join([b'{"type":"trace-create"}'] * 100_000) + b"]}",
    "10 MB string": b'[{"traceId": "ab", "name": "n", "value": "' + b"x" * 10_000_000 + b'"}]',
}


@pytest.mark.parametrize("name", HOSTILE_SCORES)
def test_hostile_scores_are_answered_never_500(api: ApiProject, name: str) -> None:
    auth = {"Authorization": basic("pk-lf-1", api.key), "content-type": "application/json"}
    path = "/api/public/ingestion" if name.startswith("ingestion") else "/api/public/scores"
    got = httpx.post(api.base_url + path, content=HOSTILE_SCORES[name], headers=auth)
    assert got.status_code in (200, 202, 207, 400, 413, 422), (got.status_code, got.text)
    if "100k" in name or "10 MB" in name:
        assert got.status_code == 413, got.text
    unauthenticated = httpx.post(api.base_url + path, content=HOSTILE_SCORES[name])
    assert unauthenticated.status_code == 401

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

from tests.collector.otlp_factories import make_span, traces_request
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

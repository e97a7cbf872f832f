"""End to end over OpenTelemetry: the real OpenAI SDK instrumented by opentelemetry-instrumentation-openai-v2,
`configure()` pointed at a real phosphobs server, one chat call inside `session()`, read back by session.

Each case runs in a fresh interpreter: instrumentation patches `openai` globally and reads its
content-capture settings once per process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.exporters.live import Backend
from tests.support.fake_openai import FakeOpenAI
from tests.support.polling import wait_until

pytest.importorskip("openai")
pytest.importorskip("opentelemetry.instrumentation.openai_v2")

QUESTION = "Explain quantum computing in simple terms"

# Where openai-v2 puts the message content: G2 log events (the default conventions), or G3 span attributes.
CAPTURE_MODES = {
    "log-events": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
    "span-attributes": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"},
}

APP = """
import openai
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from phosphobs.exporters import configure, session

telemetry = configure({key!r}, {endpoint!r}, protocol={protocol!r}, service_name="e2e-app")
OpenAIInstrumentor().instrument()
client = openai.OpenAI(base_url={openai_url!r}, api_key="x")
with session({session_id!r}, user_id="u-42"):
    client.chat.completions.create(model="gpt-4o-mini", messages=[
        {{"role": "system", "content": "You are terse."}},
        {{"role": "user", "content": {question!r}}},
    ])
assert telemetry.force_flush(), "export did not finish"
telemetry.shutdown()
"""


def run_app(key: str, endpoint: str, protocol: str, openai_url: str, session_id: str, env: dict[str, str]) -> None:
    code = APP.format(key=key, endpoint=endpoint, protocol=protocol, openai_url=openai_url,
                      session_id=session_id, question=QUESTION)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PHOSPHOBS_"))}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120, env={**clean, **env})
    assert result.returncode == 0, result.stderr


def llm_event(backend: Backend, session_id: str) -> dict[str, Any]:
    """Waits for the chat call's event to be stored with its content (logs and spans may land separately)."""
    def ready() -> dict[str, Any] | None:
        for event in backend.events(session_id):
            if event.get("input") and event.get("output"):
                return event
        return None

    try:
        return wait_until(ready, 30.0, 0.2)
    except AssertionError:
        raise AssertionError(f"no complete event for the session; stored: {backend.events(session_id)}") from None


def assert_chat_event(event: dict[str, Any], session_id: str) -> None:
    meta = event["metadata"]
    assert event["session_id"] == session_id
    assert event["input"] == QUESTION
    assert event["output"] == f"Echo: {QUESTION}"
    assert (meta["model"], meta["provider"], meta["user_id"]) == ("gpt-4o-mini-2024-07-18", "openai", "u-42")
    words = len(QUESTION.split())
    assert (meta["token_count_input"], meta["token_count_output"]) == (9 + words, 2 + words)


@pytest.mark.parametrize("mode", sorted(CAPTURE_MODES))
def test_an_instrumented_openai_call_becomes_an_event_over_otlp_http(backend, session_id, mode) -> None:
    if not backend.otlp_http_available():
        pytest.skip("server has no OTLP/HTTP receiver yet: POST /v1/traces answers 404")
    with FakeOpenAI() as fake:
        run_app(backend.api_key, backend.url, "http/protobuf", fake.base_url, session_id, CAPTURE_MODES[mode])
    assert_chat_event(llm_event(backend, session_id), session_id)


def grpc_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_an_instrumented_openai_call_becomes_an_event_over_otlp_grpc(own_server, session_id) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc")
    if not grpc_listening(own_server.grpc_port):
        pytest.skip("server has no OTLP/gRPC receiver yet: nothing listens on --grpc-port")
    backend = Backend(own_server.base_url, own_server.api_key)
    with FakeOpenAI() as fake:
        run_app(own_server.api_key, f"http://127.0.0.1:{own_server.grpc_port}", "grpc", fake.base_url, session_id,
                CAPTURE_MODES["span-attributes"])
    assert_chat_event(llm_event(backend, session_id), session_id)

"""Hostile values in the library shapes the normalizer learned last (Converse blocks in span events, OpenInference
completion prompts and helper steps, a failed span read from its name, a framework named as provider, a reported
cost; Langfuse generations' usage details and levels, LangChain's `ls_provider`, smolagents' roles, a framework's
echo across traces): huge integers, NaN, 300-deep nesting, NUL, a 10 MB string and 100k items. Each request is
answered 2xx or 4xx, never 5xx, on a real server over each backend; what is acknowledged reads back."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from phosphobs.api.bootstrap import create_key
from phosphobs.storage.clock import now_us
from phosphobs.storage.open import open_storage

from tests.collector.call_spans import GOOGLE_GENAI_SCOPE, LLAMA_INDEX_SCOPE, scoped_request
from tests.collector.otlp_factories import make_span, traces_request
from tests.support import postgres
from tests.support.server import ServerProcess

DEEP = json.dumps([{"json": json.loads("[" * 300 + "1" + "]" * 300)}])
HUGE_INT = 10**40
BIG_TEXT = "x" * 10_000_000
MANY = 100_000


@dataclass
class Target:
    server: ServerProcess
    client: httpx.Client


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with postgres.fresh_database(request.param, "phosphobs_hostile", tmp_path_factory.mktemp("hostile-db")) as url:
        server = ServerProcess(Path(tmp_path_factory.mktemp("hostile")), args=["--database-url", url]).start(timeout=60)
        store = open_storage(url)
        try:
            project = store.create_project(f"h-{uuid.uuid4().hex[:8]}", "free", now_us())
            store.set_project_plan(project.id, "free", 0)
            key, _ = create_key(store, project, "test")
        finally:
            store.close()
        client = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        try:
            yield Target(server, client)
        finally:
            client.close()
            server.stop()


STRANDS_CHAT = {"gen_ai.system": "strands-agents", "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o-mini"}


HOSTILE: dict[str, Any] = {
    "huge int": json.dumps([{"json": HUGE_INT}, {"toolUse": {"toolUseId": HUGE_INT, "name": "t", "input": HUGE_INT}}]),
    "nan": json.dumps([{"json": math.nan}, {"text": "NaN"}]),
    "deep": DEEP,
    "nul": json.dumps([{"text": "a\x00b"}, {"toolResult": {"toolUseId": "\x00", "content": [{"text": "\x00"}]}}]),
    "10 MB": json.dumps([{"text": BIG_TEXT}]),
    "100k items": json.dumps([{"text": "w"}] * MANY),
}


def _spans(value: str) -> list[Any]:
    """Every new shape at once, each carrying `value` where it reads content."""
    chat = make_span("chat gpt-4o-mini", STRANDS_CHAT,
                     events=[("gen_ai.user.message", {"content": value}),
                             ("gen_ai.choice", {"message": value, "finish_reason": "end_turn"})])
    tool = make_span("execute_tool t", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t"},
                     parent=chat, events=[("gen_ai.tool.message", {"content": value}),
                                          ("gen_ai.choice", {"message": value})])
    prompts = make_span("complete", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                                     "llm.prompts": value, "input.value": value, "output.value": value})
    helper = make_span("OpenAI._prepare_chat_with_tools", {"openinference.span.kind": "LLM", "input.value": value,
                                                           "output.value": value})
    bare = make_span(f"chat {value[:200]}", {}, error="boom")
    cost = make_span("chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                     "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5,
                                     "gen_ai.usage.cost": math.nan, "gen_ai.system": value[:300]})
    langfuse = make_span("generation", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": value[:300],
        "langfuse.observation.usage_details": '{"input": 1, "input_cached": ' + value + "}",
        "langfuse.observation.level": "ERROR", "langfuse.observation.status_message": value,
        "langfuse.observation.input": value, "langfuse.observation.output": value})
    langchain = make_span("ChatOpenAI", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                                         "metadata": '{"ls_provider": "openai", "x": ' + value + "}",
                                         "llm.output_messages.0.message.content": "ok"})
    smolagents = make_span("OpenAIServerModel.generate", {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
        "llm.input_messages.0.message.role": "tool-response", "llm.input_messages.0.message.content": value,
        "llm.output_messages.0.message.role": "tool-call", "llm.output_messages.0.message.content": value})
    return [chat, tool, prompts, helper, bare, cost, langfuse, langchain, smolagents]


def _echo(value: str) -> bytes:
    """A framework's span and a client's root span in another trace, both carrying `value` (a framework's echo)."""
    usage = {"llm.token_count.prompt": 3, "llm.token_count.completion": 2}
    framework = make_span("GoogleGenAI.stream_chat", {
        "openinference.span.kind": "LLM", "llm.model_name": "gemini-2.0-flash", **usage,
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": value,
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": value})
    client = make_span("generate_content gemini-2.0-flash", {
        "gen_ai.operation.name": "generate_content", "gen_ai.request.model": "gemini-2.0-flash",
        "gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 2, "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": value, "gen_ai.completion.0.content": value},
        start_ns=framework.start_time_unix_nano + 1_000_000)
    return scoped_request((LLAMA_INDEX_SCOPE, [framework]), (GOOGLE_GENAI_SCOPE, [client])).SerializeToString()


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_values_in_library_shapes_are_never_a_5xx(target: Target, kind: str) -> None:
    body = traces_request(_spans(HOSTILE[kind]), scope=("openlit.instrumentation.anthropic", "1.0")).SerializeToString()
    response = target.client.post("/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code < 500, (kind, response.status_code, response.text[:300])
    echo = target.client.post("/api/public/otel/v1/traces", content=_echo(HOSTILE[kind]),
                              headers={"Content-Type": "application/x-protobuf"})
    assert echo.status_code < 500, (kind, echo.status_code, echo.text[:300])
    assert target.client.get("/healthz").status_code == 200
    if response.status_code < 300:  # acknowledged means stored and readable
        listed = target.client.get("/api/events", params={"limit": 100})
        assert listed.status_code == 200
        assert listed.json()["data"], kind
        for item in listed.json()["data"]:
            assert target.client.get(f"/api/events/{item['event_id']}").status_code == 200


def test_a_huge_integer_reported_as_cost_or_tokens_is_stored_or_refused(target: Target) -> None:
    span = make_span("chat gpt-4o", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                                     "gen_ai.usage.input_tokens": 2**63 - 1, "gen_ai.usage.output_tokens": 2**63 - 1,
                                     "gen_ai.usage.cost": 0})
    body = traces_request([span], scope=("openlit.instrumentation.openai", "1.0")).SerializeToString()
    response = target.client.post("/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"})
    assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("value", [json.dumps([{"text": "w"}] * MANY), json.dumps([{"text": "x" * 4_000_000}])],
                         ids=["100k blocks", "4 MB block"])
def test_large_content_under_the_body_cap_goes_through_each_new_reader(target: Target, value: str) -> None:
    """One shape per request, so the edge's body cap (5 MB) lets the value reach the normalizer."""
    spans = [
        make_span("chat gpt-4o-mini", STRANDS_CHAT, events=[("gen_ai.user.message", {"content": value})]),
        make_span("complete", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "llm.prompts": value}),
        make_span("OpenAI._prepare_chat_with_tools", {"openinference.span.kind": "LLM", "input.value": value}),
        make_span("generation", {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "m",
                                 "langfuse.observation.usage_details": '{"input": 1, "input_x": ' + value + "}"}),
        make_span("ChatOpenAI", {"openinference.span.kind": "LLM", "metadata": '{"ls_provider": ' + value + "}"}),
    ]
    for span in spans:
        body = traces_request([span]).SerializeToString()
        response = target.client.post("/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"})
        assert response.status_code < 500, (span.name, response.status_code, response.text[:300])
    echo = _echo(value[:1_000_000])  # the value is in four places: a megabyte each keeps it under the cap
    answer = target.client.post("/v1/traces", content=echo, headers={"Content-Type": "application/x-protobuf"})
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    assert target.client.get("/healthz").status_code == 200

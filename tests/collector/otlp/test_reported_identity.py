"""Scalar facts some libraries report wrongly or not at all: an agent framework's own name where the provider
belongs (Strands: `gen_ai.system=strands-agents`), no provider attribute at all beside LangChain's own
`ls_provider` metadata (OpenInference's LangChain.js instrumentation), a cost of 0 for a model the reporter has no
price for (OpenLIT), and a failed call whose span has no attributes at all (OpenLIT's Anthropic instrumentation)."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.pricing import estimate_costs

from tests.collector.dialect_helpers import normalize, only_event
from tests.collector.otlp_factories import make_span, traces_request
from tests.interop.captures import CAPTURES_DIR


def call(model: str, **attrs: object) -> object:
    return make_span("chat", {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                              "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 5, **attrs})


@pytest.mark.parametrize(("model", "provider"), [
    ("gpt-4o-mini", "openai"), ("o3-mini", "openai"), ("claude-sonnet-4-5", "anthropic"),
    ("us.anthropic.claude-sonnet-4-20250514-v1:0", "aws.bedrock"), ("gemini-2.5-flash", "gcp.gemini"),
    ("mistral-large-latest", "mistral_ai"), ("llama3.2", None), ("omni-router", None),
])
def test_a_framework_named_as_the_system_leaves_the_provider_to_the_model(model: str, provider: str | None) -> None:
    event = only_event(normalize(call(model, **{"gen_ai.system": "strands-agents"})))  # type: ignore[arg-type]
    assert event.provider == provider


def test_a_framework_s_span_with_a_known_host_takes_the_host_s_provider() -> None:
    span = call("gpt-4o-mini", **{"gen_ai.system": "strands-agents", "server.address": "api.groq.com"})
    assert only_event(normalize(span)).provider == "groq"  # type: ignore[arg-type]


@pytest.mark.parametrize("system", ["openai", "azure.ai.openai", "my-gateway"])
def test_a_provider_the_span_names_is_kept_whatever_the_model(system: str) -> None:
    assert only_event(normalize(call("gpt-4o-mini", **{"gen_ai.system": system}))).provider == system  # type: ignore[arg-type]


def test_a_span_naming_no_provider_gets_none_guessed() -> None:
    assert only_event(normalize(call("gpt-4o-mini"))).provider is None  # type: ignore[arg-type]


def langchain_call(metadata: object, **attrs: object) -> object:
    """An OpenInference LangChain `LLM` span as the JS instrumentation sends it: no `llm.provider` /
    `llm.system`, LangChain's own metadata (`ls_provider`, `ls_model_name`, …) as the `metadata` JSON."""
    return make_span("ChatOpenAI", {"openinference.span.kind": "LLM", "llm.model_name": "llama3.2",
                                    "llm.token_count.prompt": 20, "llm.token_count.completion": 5,
                                    "llm.input_messages.0.message.role": "user",
                                    "llm.input_messages.0.message.content": "hi",
                                    "metadata": metadata,
                                    **attrs})


@pytest.mark.parametrize(("ls_provider", "provider"), [
    ("openai", "openai"), ("anthropic", "anthropic"), ("mistralai", "mistral_ai"), ("ollama", "ollama"),
    ("google_vertexai", "gcp.vertex_ai"), ("google_genai", "gcp.gemini"), ("amazon_bedrock", "aws.bedrock"),
])
def test_langchain_s_ls_provider_names_the_provider_a_span_does_not(ls_provider: str, provider: str) -> None:
    metadata = {"ls_provider": ls_provider, "ls_model_name": "llama3.2", "ls_model_type": "chat"}
    # as a JSON string (OpenInference) or an OTLP key-value list
    for sent in (json.dumps(metadata), metadata):
        event = only_event(normalize(langchain_call(sent)))  # type: ignore[arg-type]
        assert event.provider == provider
        assert event.metadata["custom"]["ls_provider"] == ls_provider  # the metadata itself is still kept


def test_a_provider_the_span_or_its_host_names_beats_ls_provider() -> None:
    # ChatOpenAI says "openai" whatever OpenAI-compatible server its base URL points at
    named = langchain_call('{"ls_provider": "openai"}', **{"llm.provider": "groq"})
    hosted = langchain_call('{"ls_provider": "openai"}', **{"server.address": "api.groq.com"})
    assert [only_event(normalize(span)).provider for span in (named, hosted)] == ["groq", "groq"]  # type: ignore[arg-type]


@pytest.mark.parametrize("metadata", ['{"ls_provider": ""}', '{"ls_provider": 3}', '["ls_provider"]',
                                      '{"ls_provider": "openai"', "ls_provider=openai", '{"other": "ls_provider"}'])
def test_metadata_without_a_usable_ls_provider_names_none(metadata: str) -> None:
    assert only_event(normalize(langchain_call(metadata))).provider is None  # type: ignore[arg-type]


def test_a_reported_zero_cost_for_a_call_with_tokens_is_unknown_and_estimated() -> None:
    event = only_event(normalize(call("gpt-4o-mini", **{"gen_ai.system": "openai", "gen_ai.usage.cost": 0})))  # type: ignore[arg-type]
    assert (event.cost_cents, event.cost_source) == (None, None)
    estimate_costs([event])
    assert event.cost_source == "estimated" and event.cost_cents and event.cost_cents > 0


def test_a_reported_cost_is_kept() -> None:
    event = only_event(normalize(call("gpt-4o-mini", **{"gen_ai.system": "openai", "gen_ai.usage.cost": 0.002})))  # type: ignore[arg-type]
    assert (event.cost_cents, event.cost_source) == (pytest.approx(0.2), "reported")


def test_openlit_capture_costs_are_estimated_not_a_reported_zero() -> None:
    [body] = sorted((CAPTURES_DIR / "openlit").glob("*_traces.bin"))
    events = normalize_traces(ExportTraceServiceRequest.FromString(body.read_bytes()), now_us=0).events
    estimate_costs(events)
    answered = [e for e in events if e.tokens_in]
    assert answered and all(e.cost_source == "estimated" and e.cost_cents for e in answered)


def bare(name: str, scope: str, *, error: str | None = "InternalServerError: 500") -> list[object]:
    span = make_span(name, {}, error=error, events=[("exception", {"exception.type": "anthropic.InternalServerError",
                                                                    "exception.message": "500"})])
    batch = normalize_traces(traces_request([span], scope=(scope, "1.45.0")), now_us=0)
    assert batch.rejected == 0
    return batch.events  # type: ignore[return-value]


def test_a_failed_call_span_without_attributes_is_a_failure_read_from_its_name_and_scope() -> None:
    [event] = bare("chat claude-sonnet-4-5", "openlit.instrumentation.anthropic")
    assert (event.kind, event.flag, event.model, event.provider) == ("llm", "failure", "claude-sonnet-4-5", "anthropic")  # type: ignore[attr-defined]
    assert event.error_type == "anthropic.InternalServerError"  # type: ignore[attr-defined]
    assert event.metadata["from_span_name"]["gen_ai.request.model"] == "claude-sonnet-4-5"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "scope", "error"), [
    ("chat claude-sonnet-4-5", "openlit.instrumentation.anthropic", None),  # not failed: nothing to rescue
    ("chat claude-sonnet-4-5", "my.app", "boom"),  # an app's own span named like a call
    ("chat about billing", "openlit.instrumentation.anthropic", "boom"),  # not `{operation} {model}`
    ("chat gpt-4o", "openlit.instrumentation.crewai", "boom"),  # a framework's scope names no provider
])
def test_other_spans_named_like_calls_stay_no_calls(name: str, scope: str, error: str | None) -> None:
    assert bare(name, scope, error=error) == []

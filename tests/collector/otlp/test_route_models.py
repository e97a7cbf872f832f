"""A router's `provider/model` id (LiteLLM, proxies) is stored as the model with its provider split off."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.fields import model_and_provider, split_route
from phosphobs.collector.otlp.normalize import normalize_traces

from tests.collector.otlp_factories import make_span, traces_request


@pytest.mark.parametrize(("route", "expected"), [
    ("openai/gpt-4o-mini", ("openai", "gpt-4o-mini")),
    ("vertex_ai/gemini-1.5-pro", ("gcp.vertex_ai", "gemini-1.5-pro")),
    ("bedrock/anthropic.claude-3-haiku", ("aws.bedrock", "anthropic.claude-3-haiku")),
    ("openrouter/anthropic/claude-3.5-sonnet", ("openrouter", "anthropic/claude-3.5-sonnet")),
    ("meta-llama/Llama-3-8B-Instruct", (None, "meta-llama/Llama-3-8B-Instruct")),  # a Hugging Face id
    ("google/gemma-2-9b", (None, "google/gemma-2-9b")),
    ("openai/", (None, "openai/")),
])  # fmt: skip
def test_split_route(route: str, expected: tuple[str | None, str]) -> None:
    assert split_route(route) == expected


def test_a_route_prefix_naming_another_provider_is_kept() -> None:
    assert model_and_provider("openai/gpt-4o-mini", "openai") == ("gpt-4o-mini", "openai")
    assert model_and_provider("openai/gpt-4o-mini", None) == ("gpt-4o-mini", "openai")
    assert model_and_provider("anthropic/claude", "aws.bedrock") == ("anthropic/claude", "aws.bedrock")
    assert model_and_provider("gpt-4o", None) == ("gpt-4o", None)
    assert model_and_provider(None, "openai") == (None, "openai")


@pytest.mark.parametrize("attrs", [
    {"openinference.span.kind": "LLM", "llm.model_name": "openai/gpt-4o-mini", "llm.provider": "openai"},
    {"gen_ai.operation.name": "chat", "gen_ai.request.model": "openai/gpt-4o-mini"},
], ids=["openinference", "genai"])  # fmt: skip
def test_a_routed_call_is_stored_with_the_bare_model_and_its_provider(attrs: dict[str, str]) -> None:
    span = make_span("completion", {**attrs, "llm.token_count.prompt": 10, "llm.token_count.completion": 2,
                                    "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2})
    [event] = normalize_traces(traces_request([span]), now_us=0).events
    assert (event.model, event.provider) == ("gpt-4o-mini", "openai")

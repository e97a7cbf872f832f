"""Langfuse generations as its SDK's integrations write them (`langfuse.openai` in 5.x): the provider's own usage
object in `usage_details`, and no provider anywhere (Langfuse's data model has none), only the model's name."""

from __future__ import annotations

import json

import pytest
from phosphobs.storage.models import Event
from phosphobs.storage.pricing import estimate_costs

from tests.collector.dialect_helpers import normalize, only_event
from tests.collector.otlp_factories import make_span


def generation(model: str = "gpt-4o-mini-2024-07-18", usage: dict | None = None, **attrs: object) -> Event:
    span = make_span("OpenAI-generation", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": model,
        "langfuse.observation.input": json.dumps([{"role": "user", "content": "Capital of Peru?"}]),
        "langfuse.observation.output": json.dumps({"role": "assistant", "content": "Lima."}),
        **({"langfuse.observation.usage_details": json.dumps(usage)} if usage is not None else {}), **attrs})
    return only_event(normalize(span))


@pytest.mark.parametrize("usage", [
    {"prompt_tokens": 23, "completion_tokens": 7, "total_tokens": 30,  # OpenAI Chat Completions, as the drop-in sends
     "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
    {"input_tokens": 23, "output_tokens": 7, "total_tokens": 30},  # OpenAI Responses / Anthropic
    {"input": 23, "output": 7, "total": 30},  # Langfuse's own keys
])
def test_usage_details_in_any_provider_shape_give_the_token_counts(usage: dict) -> None:
    event = generation(usage=usage)
    assert (event.tokens_in, event.tokens_out) == (23, 7)


def test_langfuse_s_own_keys_add_their_parts_the_js_wrapper_takes_out() -> None:
    # @langfuse/openai: input = prompt_tokens - cached, output = completion_tokens - reasoning (disjoint types).
    event = generation(usage={"input": 13, "output": 5, "total": 30, "input_cached_tokens": 10,
                              "input_audio_tokens": 0, "output_reasoning_tokens": 2, "output_audio_tokens": 0})
    assert (event.tokens_in, event.tokens_out) == (23, 7)
    responses = generation(usage={"input_tokens": 23, "output_tokens": 7, "total_tokens": 30,
                                  "input_tokens_details": {"cached_tokens": 10}})
    assert (responses.tokens_in, responses.tokens_out) == (23, 7)  # a provider's shape is taken as it is
    both = generation(usage={"input": 23, "output": 7, "input_tokens": 23, "output_tokens": 7})
    assert (both.tokens_in, both.tokens_out) == (23, 7)  # Langfuse's keys beside the provider's: never summed


def test_zero_counts_are_zero_not_unknown() -> None:
    event = generation(usage={"prompt_tokens": 0, "completion_tokens": 0})
    assert (event.tokens_in, event.tokens_out) == (0, 0)


@pytest.mark.parametrize(("model", "provider"), [
    ("gpt-4o-mini-2024-07-18", "openai"), ("claude-sonnet-4-5", "anthropic"), ("gemini-2.5-flash", "gcp.gemini"),
    ("my-finetune", None),
])
def test_a_generation_naming_no_provider_takes_its_model_s_family(model: str, provider: str | None) -> None:
    assert generation(model).provider == provider


def test_a_provider_or_host_the_generation_does_name_wins_over_the_model() -> None:
    assert generation(**{"gen_ai.system": "azure.ai.openai"}).provider == "azure.ai.openai"
    assert generation(**{"server.address": "api.groq.com"}).provider == "groq"


def test_the_drop_in_s_calls_are_priced_and_its_failed_call_costs_nothing() -> None:
    answered = generation(usage={"prompt_tokens": 23, "completion_tokens": 7})
    failed = generation("gpt-4o-mini", **{"langfuse.observation.level": "ERROR",
                                          "langfuse.observation.cost_details": json.dumps({"input": 0, "output": 0,
                                                                                           "total": 0})})
    estimate_costs([answered, failed])
    assert answered.cost_source == "estimated" and answered.cost_cents and answered.cost_cents > 0
    assert (failed.cost_cents, failed.tokens_in) == (0, None)


def test_a_generation_at_level_error_is_a_failed_call_though_its_span_status_is_unset() -> None:
    # Langfuse's JS `observeOpenAI` reports a failed call only this way; any other level is no failure.
    event = generation("gpt-4o-mini", **{"langfuse.observation.output": "",
                                         "langfuse.observation.level": "ERROR",
                                         "langfuse.observation.status_message": "Error: 500 The server had an error"})
    assert (event.status, event.flag, event.error_type) == ("error", "failure", "error")
    assert event.metadata["error"]["message"] == "Error: 500 The server had an error"
    assert event.metadata["attributes"]["langfuse.observation.level"] == "ERROR"  # kept as sent
    for level in ("DEFAULT", "WARNING", "DEBUG", None):
        attrs = {} if level is None else {"langfuse.observation.level": level}
        assert generation(**attrs, **{"langfuse.observation.status_message": "slow"}).status == "ok", level

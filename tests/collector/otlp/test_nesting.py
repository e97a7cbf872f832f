"""Double instrumentation: nested spans of one call give one event and count its tokens once."""

from __future__ import annotations

import json

from tests.collector.dialect_helpers import INTERNAL, normalize, only_event
from tests.collector.otlp_factories import BASE_NS, make_span


def test_litellm_request_and_raw_request_pair_is_one_event_counted_once() -> None:
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Capital of Peru?"}]}])
    outer = make_span(
        "litellm_request",
        {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 3,
            "gen_ai.input.messages": messages,
            "gen_ai.output.messages": json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": "Lima."}]}]
            ),
            "gen_ai.cost.total_cost": 0.0002,
            "llm.user": "end-user-1",
            "metadata.user_api_key_team_id": "team-9",
        },
    )
    raw = make_span(
        "raw_gen_ai_request",
        {
            "gen_ai.system": "openai",
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 3,
            "llm.openai.choices": "[...]",
        },
        parent=outer,
    )
    batch = normalize(outer, raw)
    event = only_event(batch)
    assert event.span_id == raw.span_id.hex()  # innermost with usage
    assert (event.tokens_in, event.tokens_out) == (12, 3)
    assert (event.input, event.output) == ("Capital of Peru?", "Lima.")  # copied from the outer span
    assert event.model == "gpt-4o-mini-2024-07-18"
    assert event.cost_cents is not None and abs(event.cost_cents - 0.02) < 1e-12
    assert event.user_id == "end-user-1"
    assert event.metadata["custom"]["user_api_key_team_id"] == "team-9"
    assert event.metadata["merged_spans"][0]["span_id"] == outer.span_id.hex()


def test_langchain_over_openai_double_instrumentation_is_one_event() -> None:
    agent = make_span("AgentExecutor", {"openinference.span.kind": "CHAIN", "session.id": "s-1"}, kind=INTERNAL)
    langchain = make_span(
        "ChatOpenAI",
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "Capital of Peru?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "Lima.",
            "llm.token_count.prompt": 10,
            "llm.token_count.completion": 2,
        },
        parent=agent,
        kind=INTERNAL,
    )
    http = make_span("POST", {"http.method": "POST"}, parent=langchain)
    openai = make_span(
        "chat gpt-4o-mini",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 2,
        },
        parent=http,
    )
    batch = normalize(agent, langchain, http, openai)
    event = only_event(batch)
    assert event.span_id == openai.span_id.hex()
    assert (event.tokens_in, event.tokens_out) == (10, 2)
    assert (event.input, event.output) == ("Capital of Peru?", "Lima.")  # content only on the outer span
    assert event.model == "gpt-4o-mini-2024-07-18"
    assert [h.session_id for h in batch.trace_hints] == ["s-1"]


def test_outer_call_span_with_usage_is_kept_when_the_inner_has_none() -> None:
    outer = make_span(
        "litellm_request",
        {"gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 1, "gen_ai.request.model": "claude-3-5-haiku"},
    )
    inner = make_span("raw_gen_ai_request", {"gen_ai.system": "anthropic"}, parent=outer)
    event = only_event(normalize(outer, inner))
    assert event.span_id == outer.span_id.hex()
    assert (event.tokens_in, event.provider) == (7, "anthropic")


def test_outer_call_span_fanning_out_to_retries_keeps_each_inner_call() -> None:
    outer = make_span(
        "litellm_request", {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 20, "llm.user": "u-1"}
    )
    first = make_span("raw_gen_ai_request", {"gen_ai.usage.input_tokens": 10}, parent=outer, error="timeout")
    second = make_span("raw_gen_ai_request", {"gen_ai.usage.input_tokens": 10}, parent=outer, start_ns=BASE_NS + 10**9)
    events = normalize(outer, first, second).events
    assert sorted(e.span_id or "" for e in events) == sorted([first.span_id.hex(), second.span_id.hex()])
    assert sum(e.tokens_in or 0 for e in events) == 20
    assert {e.user_id for e in events} == {"u-1"} and {e.model for e in events} == {"gpt-4o"}


def test_a_failed_call_nested_in_another_keeps_the_outer_span_s_error_message_as_storage_would() -> None:
    """OpenInference's span around the Anthropic SDK's: the SDK's failed span says only `error.type`, the
    message is on the outer one. In one export request or apart (storage's `merge_call`), the same event."""
    from phosphobs.storage.calls import merge_call

    outer = make_span("messages.create", {"openinference.span.kind": "LLM", "llm.provider": "anthropic",
                                          "llm.model_name": "claude-sonnet-4-5",
                                          "llm.input_messages.0.message.role": "user",
                                          "llm.input_messages.0.message.content": "FAIL"},
                      error="500 Internal server error", kind=INTERNAL)
    inner = make_span("anthropic.messages.create", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5", "error.type": "api_error"},
        parent=outer, start_ns=BASE_NS + 1000, duration_ms=50, error="")
    event = only_event(normalize(outer, inner))
    assert (event.input, event.flag) == ("FAIL", "failure")
    assert event.metadata["error"] == {"type": "api_error", "message": "500 Internal server error"}
    apart = merge_call([only_event(normalize(outer)), only_event(normalize(inner))])
    assert apart.metadata["error"] == event.metadata["error"]

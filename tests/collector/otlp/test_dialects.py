"""Dialects without recorded fixtures, built from the mapping doc: one call → one event, right fields."""

from __future__ import annotations

import json

from phosphobs.collector.otlp.normalize import normalize_logs
from phosphobs.storage.enrichment import apply_patches

from tests.collector.dialect_helpers import CHAT, INTERNAL, normalize, only_event
from tests.collector.otlp_factories import BASE_NS, logs_request, make_log, make_span


def test_vercel_ai_sdk_counts_only_the_inner_do_generate_span() -> None:
    outer = make_span(
        "ai.generateText",
        {
            "ai.operationId": "ai.generateText",
            "ai.prompt": json.dumps({"system": "Be terse.", "prompt": "Capital of Peru?"}),
            "ai.response.text": "Lima.",
            "ai.usage.promptTokens": 9,
            "ai.usage.completionTokens": 2,
            "ai.telemetry.metadata.sessionId": "chat-42",
            "ai.telemetry.metadata.userId": "u-7",
            "ai.telemetry.functionId": "answer",
        },
        kind=INTERNAL,
    )
    prompt_messages = [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": [{"type": "text", "text": "Capital of Peru?"}]},
    ]
    inner = make_span(
        "ai.generateText.doGenerate",
        {
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.prompt.messages": json.dumps(prompt_messages),
            "ai.response.text": "Lima.",
            "ai.model.id": "gpt-4o-mini",
            "ai.model.provider": "openai.chat",
            "gen_ai.system": "openai.chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "ai.usage.promptTokens": 9,
            "ai.usage.completionTokens": 2,
            "ai.telemetry.metadata.sessionId": "chat-42",
        },
        parent=outer,
    )
    batch = normalize(outer, inner)
    event = only_event(batch)
    assert event.span_id == inner.span_id.hex()
    assert (event.input, event.output) == ("Capital of Peru?", "Lima.")
    assert (event.model, event.provider) == ("gpt-4o-mini-2024-07-18", "openai")
    assert (event.tokens_in, event.tokens_out) == (9, 2)
    assert event.session_id == "chat-42"
    assert event.metadata["system"] == "Be terse."
    assert event.metadata["custom"]["sessionId"] == "chat-42"
    assert {(h.session_id, h.user_id) for h in batch.trace_hints} == {("chat-42", "u-7"), ("chat-42", None)}


def test_vercel_tool_calls_only_output_shows_the_calls_also_kept_in_metadata() -> None:
    calls = [{"toolCallType": "function", "toolCallId": "c1", "toolName": "weather", "args": '{"city":"Lima"}'}]
    span = make_span(
        "ai.streamText.doStream",
        {
            "ai.operationId": "ai.streamText.doStream",
            "ai.prompt.messages": json.dumps([{"role": "user", "content": "Weather in Lima?"}]),
            "ai.response.toolCalls": json.dumps(calls),
            "ai.model.provider": "anthropic.messages",
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.output, event.provider) == ("Weather in Lima?", 'weather({"city": "Lima"})', "anthropic")
    assert event.metadata["tool_calls"] == [{"id": "c1", "name": "weather", "arguments": {"city": "Lima"}}]


def test_logfire_v2_span_with_reported_cost_and_json_string_finish_reasons() -> None:
    span = make_span(
        "Chat Completion with {request_data[model]!r}",
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.system": "openai",
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 30,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "2+2?"}]}]),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "4"}]}]),
            "gen_ai.response.finish_reasons": '["stop"]',
            "logfire.tags": ["LLM"],
            "logfire.msg": "Chat Completion with 'gpt-4o'",
            "operation.cost": 0.000125,
        },
    )
    pending = make_span(
        span.name, {**{"logfire.span_type": "pending_span"}, "gen_ai.operation.name": "chat"}, parent=span
    )
    event = only_event(normalize(span, pending))
    assert (event.input, event.output, event.model) == ("2+2?", "4", "gpt-4o-2024-08-06")
    assert event.cost_cents is not None and abs(event.cost_cents - 0.0125) < 1e-12
    assert event.cost_source == "reported"
    assert event.tags == ["LLM"]
    assert event.metadata["response"]["finish_reasons"] == ["stop"]


def test_logfire_v1_raw_request_and_response_data() -> None:
    request = {"model": "gpt-4o-mini", "messages": CHAT}
    response = {
        "message": {"role": "assistant", "content": "Lima."},
        "usage": {"prompt_tokens": 20, "completion_tokens": 3},
    }
    span = make_span(
        "Chat Completion with {request_data[model]!r}",
        {"request_data": json.dumps(request), "response_data": json.dumps(response), "gen_ai.system": "openai"},
    )
    event = only_event(normalize(span))
    assert (event.input, event.output, event.model) == ("Capital of Peru?", "Lima.", "gpt-4o-mini")
    assert (event.tokens_in, event.tokens_out) == (20, 3)


def test_litellm_legacy_log_events_use_the_event_name_attribute() -> None:
    span = make_span("litellm_request", {"gen_ai.system": "openai", "gen_ai.usage.input_tokens": 5})
    records = [
        make_log(
            span, "", {"role": "user", "content": "Ping?"}, {"event_name": "gen_ai.content.prompt"}, time_ns=BASE_NS + 1
        ),
        make_log(
            span,
            "",
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Pong."}},
            {"event_name": "gen_ai.content.completion"},
            time_ns=BASE_NS + 2,
        ),
    ]
    event = only_event(normalize(span))
    patches = normalize_logs(logs_request(records), now_us=0).patches
    merged = apply_patches(event, patches)
    assert (merged.input, merged.output) == ("Ping?", "Pong.")


def test_traceloop_era_a_indexed_prompt_and_completion_keys() -> None:
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.system": "OpenAI",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.prompt_tokens": 40,
        "gen_ai.usage.completion_tokens": 2,
        "llm.usage.total_tokens": 42,
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Lima.",
        "gen_ai.completion.0.finish_reason": "stop",
        "traceloop.association.properties.session_id": "s-9",
        "traceloop.association.properties.customer_id": "acme",
    }
    for i, message in enumerate(CHAT):
        attrs[f"gen_ai.prompt.{i}.role"] = message["role"]
        attrs[f"gen_ai.prompt.{i}.content"] = message["content"]
    event = only_event(normalize(make_span("openai.chat", attrs)))
    assert (event.input, event.output, event.provider) == ("Capital of Peru?", "Lima.", "openai")
    assert (event.tokens_in, event.tokens_out) == (40, 2)
    assert event.metadata["usage"]["total_tokens"] == 42
    assert [m["content"] for m in event.metadata["input_messages"]] == [m["content"] for m in CHAT]
    assert event.metadata["system"] == "Be terse."
    assert event.session_id == "s-9" and event.metadata["custom"]["customer_id"] == "acme"
    assert not any(key.startswith("gen_ai.prompt.") for key in event.metadata["attributes"])


def test_g0_content_in_span_events() -> None:
    span = make_span(
        "chat gpt-4",
        {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4",
            "gen_ai.usage.prompt_tokens": 8,
            "gen_ai.usage.completion_tokens": 1,
            "llm.request.type": "chat",
        },
        events=[
            ("gen_ai.content.prompt", {"gen_ai.prompt": json.dumps(CHAT)}),
            (
                "gen_ai.content.completion",
                {"gen_ai.completion": json.dumps([{"role": "assistant", "content": "Lima."}])},
            ),
        ],
    )
    event = only_event(normalize(span))
    assert (event.input, event.output) == ("Capital of Peru?", "Lima.")
    assert (event.tokens_in, event.tokens_out) == (8, 1)
    assert len(event.metadata["input_messages"]) == 4


def test_g2_message_events_inside_the_span() -> None:
    span = make_span(
        "chat gpt-4o",
        {"gen_ai.operation.name": "chat", "gen_ai.system": "openai"},
        events=[
            ("gen_ai.user.message", {"content": "Capital of Peru?"}),
            ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": json.dumps({"content": "Lima."})}),
        ],
    )
    event = only_event(normalize(span))
    assert (event.input, event.output) == ("Capital of Peru?", "Lima.")


def test_langfuse_attributes_override_and_decode_json_encoded_values() -> None:
    span = make_span(
        "generation",
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.input": json.dumps([{"role": "user", "content": "Capital of Peru?"}]),
            "langfuse.observation.output": json.dumps({"role": "assistant", "content": "Lima."}),
            "langfuse.observation.model.name": "gpt-4.1",
            "langfuse.observation.usage_details": json.dumps({"input": 11, "output": 2}),
            "langfuse.observation.cost_details": json.dumps({"total": 0.001}),
            "langfuse.session.id": "lf-session",
            "langfuse.trace.metadata.langfuse_user_id": json.dumps("lf-user"),
            "langfuse.trace.tags": ["a", "b"],
            "langfuse.trace.metadata.plan": json.dumps("pro"),
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.output, event.model) == ("Capital of Peru?", "Lima.", "gpt-4.1")
    assert (event.tokens_in, event.tokens_out, event.cost_cents) == (11, 2, 0.1)
    assert (event.session_id, event.user_id, event.tags) == ("lf-session", "lf-user", ["a", "b"])
    assert event.metadata["custom"]["plan"] == "pro"


def test_g3_output_with_only_a_tool_call() -> None:
    output = [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}],
        }
    ]
    span = make_span(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be nice."}]),
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Weather?"}]}]),
            "gen_ai.output.messages": json.dumps(output),
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.output) == ("Weather?", 'get_weather({"city": "Paris"})')
    assert event.metadata["tool_calls"] == [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert event.metadata["system"] == "Be nice."


def test_g3_parts_are_kept_only_when_they_carry_more_than_the_text() -> None:
    tool_part = {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
    inputs = [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {"role": "user", "parts": [{"type": "text", "content": "Wea"}, {"type": "text", "content": "ther?"}]},
        {"role": "user", "parts": [{"type": "text", "content": "__REDACTED__"}]},
    ]
    outputs = [{"role": "assistant", "parts": [{"type": "text", "content": "Checking."}, tool_part]}]
    span = make_span(
        "chat gpt-4o",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": json.dumps(inputs),
            "gen_ai.output.messages": json.dumps(outputs),
        },
    )
    event = only_event(normalize(span))
    single, split, redacted = event.metadata["input_messages"]
    assert single == {"role": "user", "content": "Weather?"}  # the text is in `content` once
    assert (split["content"], split["parts"]) == ("Weather?", inputs[1]["parts"])
    assert (redacted["content"], redacted["parts"]) == (None, inputs[2]["parts"])
    assert event.metadata["output_messages"][0]["parts"] == outputs[0]["parts"]


def test_openinference_redacted_content_counts_as_no_content() -> None:
    span = make_span(
        "ChatCompletion",
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "__REDACTED__",
            "output.value": "__REDACTED__",
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.output) == ("", "")


def test_openinference_multipart_contents_and_tool_calls() -> None:
    span = make_span(
        "ChatCompletion",
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.contents.0.message_content.type": "text",
            "llm.input_messages.0.message.contents.0.message_content.text": "What is in ",
            "llm.input_messages.0.message.contents.1.message_content.type": "image",
            "llm.input_messages.0.message.contents.1.message_content.image.image.url": "https://x/y.png",
            "llm.input_messages.0.message.contents.2.message_content.type": "text",
            "llm.input_messages.0.message.contents.2.message_content.text": "this image?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "c9",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "describe",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"detail": "high"}',
            "llm.provider": "mistralai",
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.provider) == ("What is in this image?", "mistral_ai")
    assert event.output == 'describe({"detail": "high"})'
    assert event.metadata["tool_calls"] == [{"id": "c9", "name": "describe", "arguments": {"detail": "high"}}]


def test_text_that_merely_looks_like_json_stays_text() -> None:
    span = make_span(
        "ChatCompletion",
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "[1, 2] sorted?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "[1, 2]",
            "embedding.model_name": "ignored-when-llm-model-present",
            "llm.model_name": "gpt-4o",
        },
    )
    event = only_event(normalize(span))
    assert (event.input, event.output, event.model) == ("[1, 2] sorted?", "[1, 2]", "gpt-4o")

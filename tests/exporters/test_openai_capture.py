"""OpenAI chat calls as native events: extraction from real `openai` objects, and `wrap_openai` end to end
(the real OpenAI SDK → a local stand-in endpoint; the event → the real server)."""

from __future__ import annotations

import asyncio

import pytest
from phosphobs.exporters import AsyncClient, Client, session, wrap_openai
from phosphobs.exporters.openai_capture import completion_fields, completion_text, last_user_message

from tests.support.fake_openai import FakeOpenAI, completion

openai = pytest.importorskip("openai")

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Explain quantum computing in simple terms"},
]


def chat_completion(**overrides):
    body = completion(MESSAGES, "gpt-4o-mini")
    body.update(overrides)
    return openai.types.chat.ChatCompletion.model_validate(body)


def test_input_is_the_last_user_message_and_output_the_first_choice() -> None:
    result = chat_completion()
    assert last_user_message(MESSAGES) == "Explain quantum computing in simple terms"
    assert completion_text(result) == "Echo: Explain quantum computing in simple terms"
    fields = completion_fields(result)
    assert (fields["model"], fields["token_count_input"], fields["token_count_output"]) == (
        "gpt-4o-mini-2024-07-18", result.usage.prompt_tokens, result.usage.completion_tokens)
    assert fields["metadata"] == {"response_id": "chatcmpl-fake0001", "finish_reason": "stop"}


def test_dicts_from_model_dump_work_the_same() -> None:
    result = chat_completion()
    assert completion_fields(result.model_dump()) == completion_fields(result)
    assert completion_text(result.model_dump()) == completion_text(result)


def test_multi_part_user_content_keeps_its_text_parts() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": "data:…"}}]}]
    assert last_user_message(messages) == "What is this?"


def test_a_tool_call_answer_becomes_a_json_list_of_calls() -> None:
    result = chat_completion(choices=[{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": '{"city": "Paris"}'}}]}}])
    assert completion_text(result) == '[{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]'


def test_wrapped_openai_client_logs_each_chat_call(backend, session_id) -> None:
    with FakeOpenAI() as fake, Client(backend.api_key, backend.url) as client:
        chat = wrap_openai(openai.OpenAI(base_url=fake.base_url, api_key="x"), client)
        with session(session_id, user_id="u-42"):
            response = chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert client.flush()
    [event] = backend.events(session_id)
    assert event["input"] == "Explain quantum computing in simple terms"
    assert event["output"] == response.choices[0].message.content
    meta = event["metadata"]
    assert (meta["model"], meta["provider"], meta["user_id"]) == ("gpt-4o-mini-2024-07-18", "openai", "u-42")
    assert (meta["token_count_input"], meta["token_count_output"]) == (
        response.usage.prompt_tokens, response.usage.completion_tokens)
    assert meta["latency_ms"] > 0


def test_wrapping_keeps_the_rest_of_the_client_untouched(backend) -> None:
    raw = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="x")
    with Client(backend.api_key, backend.url) as client:
        wrapped = wrap_openai(raw, client)
        assert wrapped.models is raw.models
        assert wrapped.chat.completions.with_raw_response is raw.chat.completions.with_raw_response


def test_wrapped_async_openai_client_logs_too(backend, session_id) -> None:
    async def app() -> None:
        async with AsyncClient(backend.api_key, backend.url) as client:
            chat = wrap_openai(openai.AsyncOpenAI(base_url=fake.base_url, api_key="x"), client, session_id=session_id)
            await chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            assert await client.flush()

    with FakeOpenAI() as fake:
        asyncio.run(app())
    [event] = backend.events(session_id)
    assert event["output"] == "Echo: Explain quantum computing in simple terms"


def test_log_openai_chat_matches_the_seed_helper(backend, session_id) -> None:
    with Client(backend.api_key, backend.url) as client:
        event_id = client.log_openai_chat(MESSAGES, chat_completion(), latency_ms=850, session_id=session_id,
                                          tags=["chatbot"])
        client.flush()
    stored = backend.get(f"/api/events/{event_id}").json()
    assert (stored["metadata"]["latency_ms"], stored["metadata"]["tags"]) == (850, ["chatbot"])

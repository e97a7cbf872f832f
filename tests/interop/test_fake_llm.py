"""The fake provider answers like the real APIs (the real OpenAI SDK parses it) and logs the truth."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.interop.fake_llm import FakeLLM

openai = pytest.importorskip("openai")

SYSTEM = {"role": "system", "content": "You are terse."}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def test_openai_json_stream_tool_call_and_failure_are_logged_as_they_were_answered() -> None:
    with FakeLLM() as llm:
        client = openai.OpenAI(base_url=f"{llm.url}/v1", api_key="x", max_retries=0)
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=[
            SYSTEM, {"role": "user", "content": "What is the capital of France?"}])
        chunks = list(client.chat.completions.create(
            model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Name three rivers in France."}]))
        tool = client.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER], messages=[
            {"role": "user", "content": "What is the weather in Paris?"}])
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[
                {"role": "user", "content": "FAIL_PLEASE now"}])
        log = llm.log()
    assert answer.choices[0].message.content == "The capital of France is Paris."
    assert answer.model == "gpt-4o-mini-2024-07-18"
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == "The Seine, the Loire and the Rhone."
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == log[1]["output_tokens"]
    call = tool.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert [c["status"] for c in log] == [200, 200, 200, 500]
    assert log[0]["response_id"] and answer.id == f"chatcmpl-{log[0]['response_id']}"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (log[0]["input_tokens"],
                                                                             log[0]["output_tokens"])
    assert log[2]["tool_calls"] == [{"id": call.id, "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert log[3]["response_model"] is None and log[3]["input_tokens"] is None


def test_anthropic_stream_counts_output_tokens_like_the_real_api() -> None:
    with FakeLLM() as llm:
        body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": True, "system": "Be brief.",
                "messages": [{"role": "user", "content": "Name three rivers in France."}]}
        text = httpx.post(f"{llm.url}/v1/messages", json=body, timeout=10).text
        log = llm.log()
    events = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    start = next(e for e in events if e["type"] == "message_start")
    delta = next(e for e in events if e["type"] == "message_delta")
    assert start["message"]["usage"]["output_tokens"] == 1  # the real API's placeholder
    assert delta["usage"]["output_tokens"] == log[0]["output_tokens"]  # cumulative total, not an increment
    streamed = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert streamed == log[0]["output_text"] == "The Seine, the Loire and the Rhone."
    assert log[0]["system"] == "Be brief." and log[0]["response_model"] == "claude-sonnet-4-5-20250929"


def test_gemini_generate_content_stream_and_failure_answer_like_the_real_api() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]}}
    with FakeLLM() as llm:
        base = f"{llm.url}/v1beta/models/gemini-2.0-flash"
        answer = httpx.post(f"{base}:generateContent", json=body, timeout=10).json()
        streamed = httpx.post(f"{base}:streamGenerateContent?alt=sse", timeout=10, json={
            "contents": [{"role": "user", "parts": [{"text": "Name three rivers in France."}]}]}).text
        failure = httpx.post(f"{base}:generateContent", timeout=10, json={
            "contents": [{"role": "user", "parts": [{"text": "FAIL_PLEASE now"}]}]})
        log = llm.log()
    assert answer["candidates"][0]["content"] == {"role": "model", "parts": [{"text": log[0]["output_text"]}]}
    assert log[0]["output_text"] == "The capital of France is Paris." and log[0]["system"] == "Be brief."
    assert (answer["modelVersion"], answer["responseId"]) == ("gemini-2.0-flash-001", log[0]["response_id"])
    assert (answer["usageMetadata"]["promptTokenCount"], answer["usageMetadata"]["candidatesTokenCount"]) == (
        log[0]["input_tokens"], log[0]["output_tokens"])
    chunks = [json.loads(line[6:]) for line in streamed.splitlines() if line.startswith("data: ")]
    text = "".join(part["text"] for c in chunks for part in c["candidates"][0]["content"]["parts"])
    assert text == log[1]["output_text"] == "The Seine, the Loire and the Rhone." and log[1]["stream"]
    assert [c["usageMetadata"].get("candidatesTokenCount") for c in chunks][-1] == log[1]["output_tokens"]
    assert all("candidatesTokenCount" not in c["usageMetadata"] for c in chunks[:-1])
    assert {c["responseId"] for c in chunks} == {log[1]["response_id"]}
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert failure.status_code == 500 and failure.json()["error"]["status"] == "INTERNAL"
    assert [(c["api"], c["status"], c["request_model"]) for c in log] == [
        ("gemini", 200, "gemini-2.0-flash"), ("gemini", 200, "gemini-2.0-flash"), ("gemini", 500, "gemini-2.0-flash")]
    assert log[2]["response_model"] is None and log[2]["last_user_text"] == "FAIL_PLEASE now"


def test_gemini_model_metadata_is_served_and_is_no_call() -> None:
    with FakeLLM() as llm:
        info = httpx.get(f"{llm.url}/v1beta/models/gemini-2.0-flash", timeout=10).json()
        log = llm.log()
    assert (info["name"], info["inputTokenLimit"]) == ("models/gemini-2.0-flash", 1_048_576)
    assert log == []


def test_gemini_function_call_and_its_response_are_logged_as_a_tool_round() -> None:
    weather = {"functionDeclarations": [{"name": "get_weather", "parameters": {
        "type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}
    question = {"role": "user", "parts": [{"text": "What is the weather in Paris?"}]}
    with FakeLLM() as llm:
        url = f"{llm.url}/v1beta/models/gemini-2.0-flash:generateContent"
        asked = httpx.post(url, json={"contents": [question], "tools": [weather]}, timeout=10).json()
        call = asked["candidates"][0]["content"]["parts"][0]["functionCall"]
        answered = httpx.post(url, timeout=10, json={"tools": [weather], "contents": [
            question, asked["candidates"][0]["content"],
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather",
                                                             "response": {"result": "Sunny in Paris"}}}]}]}).json()
        log = llm.log()
    assert call == {"name": "get_weather", "args": {"city": "Paris"}}
    assert log[0]["tool_calls"] == [{"id": "", "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert log[0]["tools_offered"] == ["get_weather"] and log[0]["output_text"] == ""
    assert (log[1]["tool_result"], log[1]["last_user_text"]) == ("Sunny in Paris", "What is the weather in Paris?")
    assert answered["candidates"][0]["content"]["parts"] == [{"text": "The tool says: Sunny in Paris"}]
    assert answered["usageMetadata"]["candidatesTokenCount"] == log[1]["output_tokens"]


def test_react_observation_is_a_tool_result_and_a_final_answer_tool_carries_the_answer() -> None:
    final = {"type": "function", "function": {"name": "final_answer", "parameters": {
        "type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}}}
    question = {"role": "user", "content": "What is the weather in Paris?"}
    with FakeLLM() as llm:
        client = openai.OpenAI(base_url=f"{llm.url}/v1", api_key="x", max_retries=0)
        asked = client.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER, final], messages=[question])
        call_id = asked.choices[0].message.tool_calls[0].id
        answered = client.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER, final], messages=[
            question, {"role": "assistant", "content": f"Calling tools:\n[{{'id': '{call_id}'}}]"},
            {"role": "user", "content": "Observation:\nSunny in Paris"}])
        log = llm.log()
    assert asked.choices[0].message.tool_calls[0].function.name == "get_weather"
    [answer] = answered.choices[0].message.tool_calls
    assert (answer.function.name, json.loads(answer.function.arguments)) == (
        "final_answer", {"answer": "The tool says: Sunny in Paris"})
    assert (log[1]["tool_result"], log[1]["last_user_text"]) == ("Sunny in Paris", "What is the weather in Paris?")

"""Agent turns read well: tool calls as the output, tool results said as such, tool events complete."""

from __future__ import annotations

import json

from phosphobs.collector.otlp.normalize import normalize_logs
from phosphobs.storage.enrichment import apply_patches

from tests.collector.dialect_helpers import normalize, only_event
from tests.collector.otlp_factories import logs_request, make_log, make_span

QUESTION = "What is 1234 * 1704?"
CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}


def test_g3_tool_result_in_a_user_message_is_said_readably_with_the_question_kept() -> None:
    history = [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "multiply",
                                         "arguments": {"a": 1234, "b": 1704}}]},
        {"role": "user", "parts": [{"type": "tool_call_response", "id": "c1", "response": 2102650}]},
    ]
    output = [{"role": "assistant", "parts": [{"type": "text", "content": "1234 * 1704 = 2102650."}]}]
    event = only_event(normalize(make_span("chat gpt-4o-mini", {
        **CHAT, "gen_ai.input.messages": json.dumps(history), "gen_ai.output.messages": json.dumps(output)})))
    assert event.input == "Tool result (multiply): 2102650"
    assert event.metadata["input_messages"][0]["content"] == QUESTION
    assert event.output == "1234 * 1704 = 2102650."


def test_openai_tool_role_messages_after_parallel_calls_are_all_shown() -> None:
    span = make_span("openai.chat", {
        "llm.request.type": "chat", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Weather in Paris and Lima?",
        "gen_ai.prompt.1.role": "assistant",
        "gen_ai.prompt.1.tool_calls.0.id": "a", "gen_ai.prompt.1.tool_calls.0.name": "weather",
        "gen_ai.prompt.1.tool_calls.0.arguments": '{"city": "Paris"}',
        "gen_ai.prompt.1.tool_calls.1.id": "b", "gen_ai.prompt.1.tool_calls.1.name": "weather",
        "gen_ai.prompt.1.tool_calls.1.arguments": '{"city": "Lima"}',
        "gen_ai.prompt.2.role": "tool", "gen_ai.prompt.2.tool_call_id": "a", "gen_ai.prompt.2.content": "18C",
        "gen_ai.prompt.3.role": "tool", "gen_ai.prompt.3.tool_call_id": "b", "gen_ai.prompt.3.content": "24C",
        "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Paris 18C, Lima 24C.",
    })
    event = only_event(normalize(span))
    assert event.input == "Tool result (weather): 18C\nTool result (weather): 24C"
    assert event.metadata["input_messages"][0]["content"] == "Weather in Paris and Lima?"


def test_anthropic_tool_result_blocks_are_said_readably() -> None:
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "multiply",
                                           "input": {"a": 1234, "b": 1704}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "2102650"}]},
    ]
    span = make_span("anthropic.chat", {**CHAT, "gen_ai.input.messages": json.dumps(history)})
    event = only_event(normalize(span))
    assert event.input == "Tool result (multiply): 2102650"
    assert event.metadata["input_messages"][1]["tool_calls"][0]["name"] == "multiply"


def test_a_call_that_answers_with_tool_calls_shows_them_as_its_output() -> None:
    output = [{"role": "assistant", "parts": [
        {"type": "tool_call", "id": "c1", "name": "multiply", "arguments": {"a": 1234, "b": 1704}}]}]
    event = only_event(normalize(make_span("chat gpt-4o-mini", {
        **CHAT, "gen_ai.input.messages": json.dumps([{"role": "user", "content": QUESTION}]),
        "gen_ai.output.messages": json.dumps(output)})))
    assert (event.input, event.output) == (QUESTION, 'multiply({"a": 1234, "b": 1704})')
    assert event.metadata["tool_calls"][0]["arguments"] == {"a": 1234, "b": 1704}


def test_tool_calls_and_result_that_arrive_as_log_records_read_the_same() -> None:
    span = make_span("chat gpt-4o-mini", CHAT)
    [base] = normalize(span).events
    records = [
        make_log(span, "gen_ai.user.message", {"content": QUESTION}, time_ns=1),
        make_log(span, "gen_ai.assistant.message", {"tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 1234}'}}]},
                 time_ns=2),
        make_log(span, "gen_ai.tool.message", {"id": "c1", "content": "2102650"}, time_ns=3),
        make_log(span, "gen_ai.choice", {"index": 0, "finish_reason": "tool_calls", "message": {"tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "check", "arguments": '{"n": 2102650}'}}]}},
                 time_ns=4),
    ]
    event = apply_patches(base, normalize_logs(logs_request(records), now_us=0).patches)
    assert event.input == "Tool result (multiply): 2102650"
    assert event.output == 'check({"n": 2102650})'


def test_pydantic_ai_tool_span_carries_name_arguments_and_result() -> None:
    span = make_span("running tool", {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "multiply", "gen_ai.tool.call.id": "c1",
        "tool_arguments": '{"a":1234,"b":1704}', "tool_response": "2102650",
    })
    event = only_event(normalize(span))
    assert (event.kind, event.input, event.output) == ("tool", '{"a":1234,"b":1704}', "2102650")
    assert event.metadata["tool"] == {"name": "multiply", "call_id": "c1"}


def test_a_failed_call_takes_its_input_from_the_agent_span_that_recorded_it() -> None:
    """pydantic-ai: the `chat` span of a call that raised has no messages; its agent span's history ends
    with them."""
    history = [{"role": "system", "parts": [{"type": "text", "content": "Be concise."}]},
               {"role": "user", "parts": [{"type": "text", "content": "FAIL_PLEASE"}]}]
    agent = make_span("invoke_agent geo", {"gen_ai.operation.name": "invoke_agent",
                                           "pydantic_ai.all_messages": json.dumps(history)}, duration_ms=500,
                      error="ModelServerError: status_code: 500")
    failed = make_span("chat gpt-4o-mini", CHAT, parent=agent, error="ModelServerError: status_code: 500")
    ok = make_span("chat gpt-4o-mini", {**CHAT, "gen_ai.input.messages": json.dumps([{"role": "user",
                                                                                      "content": "Hi"}])},
                   parent=agent)
    batch = normalize(agent, failed, ok)
    assert batch.patches == []  # the failed call took the history here: nothing left for storage to place
    events = {e.status: e for e in batch.events}
    assert (events["error"].input, events["error"].flag) == ("FAIL_PLEASE", "failure")
    assert events["error"].metadata["input_messages"][0]["content"] == "Be concise."
    assert events["ok"].input == "Hi"  # a call with its own input keeps it


def test_a_tool_result_sent_as_a_json_string_literal_reads_as_its_text() -> None:
    span = make_span("ai.toolCall", {"ai.operationId": "ai.toolCall", "ai.toolCall.name": "weather",
                                     "ai.toolCall.args": '{"city":"Paris"}',
                                     "ai.toolCall.result": '"Sunny and 21 C in Paris"'})
    event = only_event(normalize(span))
    assert (event.input, event.output) == ('{"city":"Paris"}', "Sunny and 21 C in Paris")
    assert event.metadata["tool"]["name"] == "weather"


def test_smolagents_tool_response_role_is_a_tool_result_and_its_call_turn_an_assistant_one() -> None:
    """smolagents reports its memory's own roles (`tool-call`, `tool-response`): the call answering a tool's
    observation shows that result as its input, not the task asked before it."""
    task, observation = "New task:\nWhat is the weather in Paris?", "Observation:\nSunny and 21 C in Paris"
    calling = "Calling tools:\n[{'id': 'call_1', 'type': 'function', 'function': {'name': 'get_weather'}}]"
    attributes: dict[str, object] = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                                     "llm.provider": "openai"}
    for n, (role, text) in enumerate([("system", "You solve tasks."), ("user", task), ("tool-call", calling),
                                      ("tool-response", observation)]):
        attributes[f"llm.input_messages.{n}.message.role"] = role
        attributes[f"llm.input_messages.{n}.message.contents.0.message_content.type"] = "text"
        attributes[f"llm.input_messages.{n}.message.contents.0.message_content.text"] = text
    attributes["llm.output_messages.0.message.role"] = "assistant"
    attributes["llm.output_messages.0.message.contents.0.message_content.text"] = "Sunny, 21 C."
    event = only_event(normalize(make_span("OpenAIModel.generate", attributes)))
    assert event.input == f"Tool result: {observation}"
    assert [m["role"] for m in event.metadata["input_messages"]] == ["system", "user", "assistant", "tool"]

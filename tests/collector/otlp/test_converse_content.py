"""Content as Bedrock Converse blocks in G2 span events (Strands Agents' default telemetry): `{"text"}`,
`{"toolUse"}` and `{"toolResult"}` blocks, sent as JSON strings in `content` / `message` attributes, and a
tool run's own `gen_ai.tool.message` (its arguments) and `gen_ai.choice` (its result)."""

from __future__ import annotations

import json

from phosphobs.collector.otlp.messages import message

from tests.collector.dialect_helpers import INTERNAL, normalize, only_event
from tests.collector.otlp_factories import make_span

SYSTEM = ("gen_ai.system.message", {"content": json.dumps([{"text": "Be terse."}])})
ASK = ("gen_ai.user.message", {"content": json.dumps([{"text": "Weather in Lima?"}])})
TOOL_USE = [{"toolUse": {"toolUseId": "call_1", "name": "weather", "input": {"city": "Lima"}}}]
TOOL_RESULT = [{"toolResult": {"toolUseId": "call_1", "status": "success", "content": [{"text": "Foggy, 17 C"}]}}]


def chat(*events: tuple[str, dict[str, str]], **extra: object) -> object:
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.system": "strands-agents", "gen_ai.request.model": "gpt-4o-mini",
             "gen_ai.usage.input_tokens": 20, "gen_ai.usage.output_tokens": 5, **extra}
    return make_span("chat", attrs, events=list(events), kind=INTERNAL)


def test_a_choice_of_text_blocks_is_the_answer() -> None:
    answer = ("gen_ai.choice", {"finish_reason": "end_turn", "message": json.dumps([{"text": "Lima is foggy."}])})
    event = only_event(normalize(chat(SYSTEM, ASK, answer)))  # type: ignore[arg-type]
    assert (event.input, event.output) == ("Weather in Lima?", "Lima is foggy.")
    assert event.metadata["system"] == "Be terse."
    assert event.metadata["output_messages"][0]["finish_reason"] == "end_turn"


def test_a_choice_that_only_calls_a_tool_shows_the_call() -> None:
    asks_tool = ("gen_ai.choice", {"finish_reason": "tool_use", "message": json.dumps(TOOL_USE)})
    event = only_event(normalize(chat(SYSTEM, ASK, asks_tool)))  # type: ignore[arg-type]
    assert event.output == 'weather({"city": "Lima"})'
    assert event.metadata["tool_calls"] == [{"id": "call_1", "name": "weather", "arguments": {"city": "Lima"}}]


def test_a_turn_answering_a_tool_result_says_the_result_and_names_its_tool() -> None:
    history = [ASK, ("gen_ai.assistant.message", {"content": json.dumps(TOOL_USE)}),
               ("gen_ai.tool.message", {"content": json.dumps(TOOL_RESULT)}),
               ("gen_ai.choice", {"message": json.dumps([{"text": "Foggy, 17 C in Lima."}])})]
    event = only_event(normalize(chat(SYSTEM, *history)))  # type: ignore[arg-type]
    assert event.input == "Tool result (weather): Foggy, 17 C"
    assert event.output == "Foggy, 17 C in Lima."
    assert "Weather in Lima?" in json.dumps(event.metadata["input_messages"])  # the question stays reachable


def test_a_structured_tool_result_block_reads_as_its_json() -> None:
    found = message({"content": json.dumps([{"toolResult": {"toolUseId": "c", "content": [{"json": {"t": 17}}]}}])},
                    "tool")
    assert found == {"role": "tool", "content": '{"t":17}', "tool_call_id": "c"}


def test_plain_text_that_starts_like_a_list_stays_as_sent() -> None:
    assert message({"content": "[1] first point"}, "user") == {"role": "user", "content": "[1] first point"}


def test_a_tool_span_s_events_are_its_arguments_and_result_not_a_conversation() -> None:
    span = make_span("execute_tool weather", {
        "gen_ai.operation.name": "execute_tool", "gen_ai.system": "strands-agents", "gen_ai.tool.name": "weather",
        "gen_ai.tool.call.id": "call_1"}, kind=INTERNAL, events=[
        ("gen_ai.tool.message", {"role": "tool", "content": json.dumps({"city": "Lima"}), "id": "call_1"}),
        ("gen_ai.choice", {"message": json.dumps([{"text": "Foggy, 17 C"}]), "id": "call_1"})])
    event = only_event(normalize(span))
    assert (event.kind, event.input, event.output) == ("tool", '{"city": "Lima"}', "Foggy, 17 C")
    assert event.provider is None  # a framework's name is no provider


def test_a_choice_whose_message_is_plain_text_is_the_answer() -> None:
    answer = ("gen_ai.choice", {"finish_reason": "end_turn", "message": "Lima is foggy.\n"})  # an agent span's
    event = only_event(normalize(chat(SYSTEM, ASK, answer)))  # type: ignore[arg-type]
    assert event.output == "Lima is foggy.\n"

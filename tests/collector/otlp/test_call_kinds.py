"""Tool-execution and embedding spans become `tool` and `embedding` events."""

from __future__ import annotations

import json

from tests.collector.dialect_helpers import INTERNAL, normalize, only_event
from tests.collector.otlp_factories import make_span


def test_vercel_tool_call_span_is_a_tool_event() -> None:
    span = make_span(
        "ai.toolCall",
        {
            "ai.operationId": "ai.toolCall",
            "ai.toolCall.name": "weather",
            "ai.toolCall.id": "c1",
            "ai.toolCall.args": '{"city":"Lima"}',
            "ai.toolCall.result": '{"temp":21}',
        },
    )
    event = only_event(normalize(span))
    assert (event.kind, event.input, event.output) == ("tool", '{"city":"Lima"}', '{"temp":21}')
    assert event.metadata["tool"] == {"name": "weather", "call_id": "c1"}
    assert event.model is None


def test_g3_tool_execution_span() -> None:
    span = make_span(
        "execute_tool get_weather",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": "sunny",
            "gen_ai.tool.type": "function",
        },
        kind=INTERNAL,
    )
    event = only_event(normalize(span))
    assert (event.kind, event.input, event.output) == ("tool", '{"city": "Paris"}', "sunny")
    assert event.metadata["tool"]["name"] == "get_weather"
    assert (event.tokens_in, event.cost_cents) == (None, None)


def test_openinference_and_traceloop_tool_spans() -> None:
    oi = make_span(
        "get_weather",
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "get_weather",
            "input.value": '{"city":"Oslo"}',
            "output.value": "rain",
        },
        kind=INTERNAL,
    )
    tl = make_span(
        "lookup.tool",
        {
            "traceloop.span.kind": "tool",
            "traceloop.entity.name": "lookup",
            "traceloop.entity.input": '{"args": ["x"], "kwargs": {}}',
            "traceloop.entity.output": '"found"',
        },
        kind=INTERNAL,
    )
    events = {e.metadata["tool"]["name"]: e for e in normalize(oi, tl).events}
    assert (events["get_weather"].input, events["get_weather"].output) == ('{"city":"Oslo"}', "rain")
    assert events["lookup"].kind == "tool" and events["lookup"].output == "found"  # JSON string literal: its text


def test_embedding_spans_of_three_dialects() -> None:
    g3 = make_span(
        "embeddings text-embedding-3-small",
        {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": 6,
        },
    )
    oi = make_span(
        "CreateEmbeddings",
        {
            "openinference.span.kind": "EMBEDDING",
            "embedding.model_name": "text-embedding-3-small",
            "embedding.embeddings.0.embedding.text": "first",
            "embedding.embeddings.0.embedding.vector": [0.1, 0.2],
            "embedding.embeddings.1.embedding.text": "second",
            "llm.token_count.prompt": 4,
        },
    )
    vercel = make_span(
        "ai.embed.doEmbed",
        {
            "ai.operationId": "ai.embed.doEmbed",
            "ai.values": json.dumps(["sunny day"]),
            "ai.model.id": "text-embedding-3-small",
            "ai.model.provider": "openai.embedding",
            "ai.embeddings": json.dumps([[0.3, 0.4]]),
            "ai.usage.tokens": 3,
        },
    )
    events = normalize(g3, oi, vercel).events
    assert [e.kind for e in events] == ["embedding"] * 3
    assert [e.input for e in events] == ["", "first\nsecond", "sunny day"]
    assert [e.tokens_in for e in events] == [6, 4, None]
    assert events[0].model == "text-embedding-3-small" and events[2].provider == "openai"
    assert all(e.output == "" for e in events)
    assert "embedding.embeddings.0.embedding.vector" not in events[1].metadata["attributes"]
    assert "ai.embeddings" not in events[2].metadata["attributes"]


def test_openinference_embedding_model_name_is_the_model() -> None:
    span = make_span("CreateEmbeddings", {"openinference.span.kind": "EMBEDDING", "embedding.model_name": "e5"})
    assert only_event(normalize(span)).model == "e5"

"""Agent-shaped OTLP traces for the benchmarks: per trace one agent span, two LLM spans (each with an
HTTP client child, as httpx instrumentation adds) and one tool span, GenAI semconv attributes.

Stored per trace: 3 events (the calls) and 1 span row (the agent); the HTTP children are dropped.
"""

from __future__ import annotations

import json
import random

from common import text
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SPANS_PER_TRACE = 6  # agent, 2 LLM, 2 HTTP children, tool
STORED_PER_TRACE = 4  # agent row + 3 call events


def kv(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def _messages(role: str, content: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": content}]}])


def agent_trace(rng: random.Random, start: int, session: str) -> list[Span]:
    """One agent run's spans, children first (the order a batch span processor exports them)."""
    trace_id = rng.randbytes(16)
    agent_id = rng.randbytes(8)
    spans: list[Span] = []

    def span(name: str, parent: bytes, begin: int, end: int, attrs: list[KeyValue], kind: int = 1) -> bytes:
        span_id = rng.randbytes(8)
        spans.append(Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=kind,
                          start_time_unix_nano=begin, end_time_unix_nano=end, attributes=attrs))
        return span_id

    t = start
    for step in range(2):
        llm_attrs = [
            kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"),
            kv("gen_ai.request.model", "gpt-4o-mini"), kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
            kv("gen_ai.usage.input_tokens", rng.randrange(10, 2000)),
            kv("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
            kv("gen_ai.input.messages", _messages("user", text(rng, 250))),
            kv("gen_ai.output.messages", _messages("assistant", text(rng, 200))),
        ]
        llm_id = rng.randbytes(8)
        span("POST", llm_id, t + 1_000_000, t + 700_000_000,
             [kv("http.request.method", "POST"), kv("url.full", "https://api.openai.com/v1/chat/completions")], 3)
        spans.append(Span(trace_id=trace_id, span_id=llm_id, parent_span_id=agent_id, name="chat gpt-4o-mini",
                          kind=3, start_time_unix_nano=t, end_time_unix_nano=t + 800_000_000, attributes=llm_attrs))
        t += 800_000_000
        if step == 0:
            span("execute_tool lookup", agent_id, t, t + 50_000_000, [
                kv("gen_ai.operation.name", "execute_tool"), kv("gen_ai.tool.name", "lookup"),
                kv("gen_ai.tool.call.arguments", json.dumps({"query": text(rng, 40)})),
                kv("gen_ai.tool.call.result", json.dumps({"answer": text(rng, 120)})),
            ])
            t += 50_000_000
    spans.append(Span(trace_id=trace_id, span_id=agent_id, name="invoke_agent support", kind=1,
                      start_time_unix_nano=start - 1_000_000, end_time_unix_nano=t + 1_000_000, attributes=[
                          kv("gen_ai.operation.name", "invoke_agent"), kv("gen_ai.agent.name", "support"),
                          kv("gen_ai.conversation.id", session)]))
    return spans


def agent_request(rng: random.Random, traces: int, start: int) -> ExportTraceServiceRequest:
    spans: list[Span] = []
    for i in range(traces):
        spans += agent_trace(rng, start + i * 1000, f"conv-{rng.randrange(1000)}")
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])

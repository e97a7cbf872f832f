# ruff: noqa: SIM117  (nested `with` blocks draw the span tree)
"""Agent-shaped traces recorded with the real OpenTelemetry SDK, in the GenAI conventions we read.

Each builder runs a small agent under a plain HTTP server span: an agent span, LLM calls (each with an
HTTP client child), a tool call (with a DB child), plain leaves. The spans the SDK exported are what
the tests send; `expected_tree` is what storage must keep of them: every GenAI span and its ancestors,
with the same parents (plain spans with no GenAI descendant dropped).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

GENAI_KEYS = ("gen_ai.operation.name", "openinference.span.kind", "traceloop.span.kind", "gen_ai.agent.name",
              "agent_name")

TOOL_ARGS = '{"city": "Paris"}'
TOOL_RESULT = '{"temperature_c": 21, "sky": "clear <b>sunny</b>"}'


def _messages(text: str) -> str:
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])


def semconv_agent(tracer: Tracer, session: str) -> None:
    """OTel GenAI semantic conventions (openai-v2, OpenAI Agents SDK and pydantic-ai style)."""
    with tracer.start_as_current_span("POST /chat", kind=SpanKind.SERVER, attributes={"http.route": "/chat"}):
        with tracer.start_as_current_span("invoke_agent weather-bot", attributes={
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather-bot", "session.id": session,
        }):
            for step in range(2):
                with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes={
                    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 40 + step,
                    "gen_ai.usage.output_tokens": 9, "gen_ai.input.messages": _messages(f"weather step {step}"),
                }):
                    with tracer.start_as_current_span("POST", kind=SpanKind.CLIENT,
                                                      attributes={"http.request.method": "POST"}):
                        pass
                if step == 0:
                    with tracer.start_as_current_span("execute_tool get_weather", attributes={
                        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                        "gen_ai.tool.call.arguments": TOOL_ARGS, "gen_ai.tool.call.result": TOOL_RESULT,
                    }) as tool:
                        with tracer.start_as_current_span("SELECT weather", attributes={"db.system": "sqlite"}):
                            pass
                        tool.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span("render template"):
            pass


def openinference_agent(tracer: Tracer, session: str) -> None:
    """LangChain through OpenInference: CHAIN / AGENT / LLM / TOOL / RETRIEVER span kinds."""
    with tracer.start_as_current_span("RunnableSequence", attributes={
        "openinference.span.kind": "CHAIN", "session.id": session, "input.value": "weather?",
    }):
        with tracer.start_as_current_span("AgentExecutor", attributes={"openinference.span.kind": "AGENT"}):
            with tracer.start_as_current_span("ChatOpenAI", attributes={
                "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                "llm.token_count.prompt": 30, "llm.token_count.completion": 5,
                "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "weather?",
            }):
                with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes={
                    "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 5,
                }):  # the OpenAI instrumentation under LangChain's span: one call, two spans (merged)
                    with tracer.start_as_current_span("POST", kind=SpanKind.CLIENT):
                        pass
            with tracer.start_as_current_span("get_weather", attributes={
                "openinference.span.kind": "TOOL", "tool.name": "get_weather", "input.value": TOOL_ARGS,
                "output.value": TOOL_RESULT,
            }) as tool:
                tool.set_status(Status(StatusCode.ERROR, "weather service down"))
            with tracer.start_as_current_span("VectorStoreRetriever", attributes={
                "openinference.span.kind": "RETRIEVER", "input.value": "weather?",
            }):
                pass


def pydantic_ai_agent(tracer: Tracer, session: str) -> None:
    """pydantic-ai through Logfire: `agent run` with agent_name, chat and tool spans, a plain middle span."""
    with tracer.start_as_current_span("agent run", attributes={
        "agent_name": "support", "gen_ai.agent.name": "support", "session.id": session,
        "logfire.msg": "support run",
    }):
        with tracer.start_as_current_span("chat gpt-4o", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3,
        }):
            pass
        with tracer.start_as_current_span("validate output"):  # a plain leaf of the agent
            pass
        with tracer.start_as_current_span("running tools"):  # plain, but the tool span is under it
            with tracer.start_as_current_span("running tool", attributes={
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup",
                "tool_arguments": TOOL_ARGS, "tool_response": TOOL_RESULT,
            }):
                pass


BUILDERS: dict[str, Callable[[Tracer, str], None]] = {
    "semconv": semconv_agent, "openinference": openinference_agent, "pydantic_ai": pydantic_ai_agent,
}


def record(builder: Callable[[Tracer, str], None], session: str = "s-agent") -> list[ReadableSpan]:
    """Run `builder` under a fresh SDK provider; the spans in export order (children first)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "agent-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    builder(provider.get_tracer("agent-test"), session)
    provider.shutdown()
    return list(exporter.get_finished_spans())


def request_of(spans: list[ReadableSpan]) -> ExportTraceServiceRequest:
    return encode_spans(spans)


def is_genai(span: ReadableSpan) -> bool:
    return any(key in (span.attributes or {}) for key in GENAI_KEYS)


def expected_tree(spans: list[ReadableSpan]) -> dict[str, str | None]:
    """span id → parent span id (hex) of the spans storage must keep: GenAI spans and their ancestors."""
    by_id = {span.context.span_id: span for span in spans}
    keep: set[int] = set()
    for span in spans:
        if not is_genai(span):
            continue
        current: ReadableSpan | None = span
        while current is not None and current.context.span_id not in keep:
            keep.add(current.context.span_id)
            current = by_id.get(current.parent.span_id) if current.parent else None
    return {f"{i:016x}": (f"{by_id[i].parent.span_id:016x}" if by_id[i].parent else None) for i in keep}

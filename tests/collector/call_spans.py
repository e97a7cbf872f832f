"""Hand-built spans of one provider call as real libraries report it twice (issue 13 behaviour classes)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.collector.otlp_factories import BASE_NS, key_values, make_span

SDK_SCOPE = ("com.anthropic.sdk.python", "2.0.0")
LIBRARY_SCOPE = ("opentelemetry.instrumentation.anthropic", "0.47.0")
LOGFIRE_SCOPE = ("logfire.openai", "4.0.0")
MS = 1_000_000


def scoped_request(*groups: tuple[tuple[str, str], Sequence[Span]]) -> ExportTraceServiceRequest:
    """One request whose spans come from several instrumentation scopes, in the order given."""
    res = Resource()
    res.attributes.extend(key_values({"service.name": "app"}))
    scope_spans = [ScopeSpans(scope=InstrumentationScope(name=n, version=v), spans=list(spans))
                   for (n, v), spans in groups]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=res, scope_spans=scope_spans)])


def workflow(name: str = "chat_workflow", start_ns: int = BASE_NS, **attrs: object) -> Span:
    return make_span(name, {"traceloop.span.kind": "workflow", **attrs}, start_ns=start_ns, duration_ms=5000,
                     kind=Span.SPAN_KIND_INTERNAL)


def sdk_span(parent: Span | None, *, response_id: str | None = "msg_01", tokens: tuple[int, int] = (25, 9),
             start_ns: int = BASE_NS + 10 * MS, duration_ms: float = 900, model: str = "claude-sonnet-4-5",
             error: str | None = None) -> Span:
    """The Anthropic SDK's own span: right usage, no content captured."""
    attrs: dict[str, object] = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic", "gen_ai.request.model": model,
        "gen_ai.response.model": model + "-20250929",
    }
    if error is None:
        attrs.update({"gen_ai.usage.input_tokens": tokens[0], "gen_ai.usage.output_tokens": tokens[1]})
    if response_id is not None:
        attrs["gen_ai.response.id"] = response_id
    return make_span("anthropic.messages.create", attrs, parent=parent, start_ns=start_ns,
                     duration_ms=duration_ms, error=error)


def library_span(parent: Span | None, *, question: str = "Capital of France?", answer: str | None = "Paris.",
                 response_id: str | None = "msg_01", tokens: tuple[int, int] = (25, 10),
                 start_ns: int = BASE_NS + 9 * MS, duration_ms: float = 905, model: str = "claude-sonnet-4-5",
                 session: str | None = "sess-1", error: str | None = None) -> Span:
    """`opentelemetry-instrumentation-anthropic`'s span of the same call: content, output tokens off by one."""
    attrs: dict[str, object] = {
        "gen_ai.system": "Anthropic", "llm.request.type": "chat", "gen_ai.request.model": model,
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": question,
    }
    if error is None:
        attrs.update({"gen_ai.usage.input_tokens": tokens[0], "gen_ai.usage.output_tokens": tokens[1]})
    if answer is not None:
        attrs.update({"gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": answer})
    if response_id is not None:
        attrs["gen_ai.response.id"] = response_id
    if session is not None:
        attrs["traceloop.association.properties.session_id"] = session
    return make_span("anthropic.chat", attrs, parent=parent, start_ns=start_ns, duration_ms=duration_ms,
                     error=error)


def logfire_request_span(parent: Span, *, question: str = "Capital of France?", model: str = "gpt-4o-mini",
                         start_ns: int = BASE_NS + 10 * MS) -> Span:
    """Logfire's span of a streamed OpenAI call: ends when the stream object is returned, no output."""
    request = {"model": model, "messages": [{"role": "user", "content": question}], "stream": True}
    return make_span("Chat Completion with {request_data[model]!r}", {
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": model,
        "request_data": json.dumps(request), "logfire.span_type": "span",
        "logfire.msg_template": "Chat Completion with {request_data[model]!r}",
    }, parent=parent, start_ns=start_ns, duration_ms=40)


def logfire_stream_span(parent: Span, *, question: str = "Capital of France?", answer: str = "Paris.",
                        model: str = "gpt-4o-mini", start_ns: int = BASE_NS + 700 * MS,
                        tokens: tuple[int, int] = (12, 3)) -> Span:
    """Logfire's zero-length "streaming response from …" log span: output and usage."""
    request = {"model": model, "messages": [{"role": "user", "content": question}], "stream": True}
    response = {"message": {"role": "assistant", "content": answer},
                "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]}}
    return make_span("streaming response from {request_data[model]!r} took {duration:.2f}s", {
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": model,
        "request_data": json.dumps(request), "response_data": json.dumps(response), "duration": 0.66,
        "logfire.span_type": "log", "gen_ai.usage.input_tokens": tokens[0], "gen_ai.usage.output_tokens": tokens[1],
    }, parent=parent, start_ns=start_ns, duration_ms=0)


LLAMA_INDEX_SCOPE = ("openinference.instrumentation.llama_index", "4.6.1")
GOOGLE_GENAI_SCOPE = ("opentelemetry.instrumentation.google_genai", "1.3b0")


def llama_index_stream_span(parent: Span | None, *, question: str = "Name three rivers in France.",
                            answer: str = "The Seine, the Loire and the Rhone.", tokens: tuple[int, int] = (16, 7),
                            start_ns: int = BASE_NS + 10 * MS, session: str | None = "sess-1") -> Span:
    """LlamaIndex's OpenInference span of a streamed call: ended when the generator is handed back (2 ms),
    before the request is made, yet carrying the answer and usage."""
    attrs: dict[str, object] = {
        "openinference.span.kind": "LLM", "llm.model_name": "gemini-2.0-flash",
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": question,
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": answer,
        "llm.token_count.prompt": tokens[0], "llm.token_count.completion": tokens[1],
    }
    if session is not None:
        attrs["session.id"] = session
    return make_span("GoogleGenAI.stream_chat", attrs, parent=parent, start_ns=start_ns, duration_ms=2,
                     kind=Span.SPAN_KIND_INTERNAL)


def google_genai_span(parent: Span | None, *, question: str = "Name three rivers in France.",
                      answer: str = "The Seine, the Loire and the Rhone.", tokens: tuple[int, int] = (16, 7),
                      start_ns: int = BASE_NS + 13 * MS, response_id: str = "resp-1") -> Span:
    """The Google GenAI instrumentation's span of the same streamed call, once it is iterated."""
    attrs: dict[str, object] = {
        "gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gemini",
        "gen_ai.request.model": "gemini-2.0-flash", "gen_ai.response.model": "gemini-2.0-flash-001",
        "gen_ai.response.id": response_id, "gen_ai.usage.input_tokens": tokens[0],
        "gen_ai.usage.output_tokens": tokens[1],
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": answer}],
                                               "finish_reason": "stop"}]),
    }
    return make_span("generate_content gemini-2.0-flash", attrs, parent=parent, start_ns=start_ns, duration_ms=50)

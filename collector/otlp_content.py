"""A span's prompt and response, read from whichever dialect's attributes carry them.

Sources are tried in the mapping doc's priority order (§1 input/output rows); every known content
key is marked as mapped even when a better source won, so raw duplicates (e.g. OpenInference's
whole request JSON in `input.value`) do not pile up in metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phosphobs.collector.otlp_attributes import SpanAttrs, parse_json
from phosphobs.collector.otlp_messages import (
    Message,
    clean_text,
    looks_like_chat,
    messages,
    response_messages,
    system_text,
    tool_call,
)
from phosphobs.storage.enrichment import last_user_text, output_text

Found = list[Message] | str | None


@dataclass(slots=True)
class SpanContent:
    """What a span says about its call's content; None means "not on the span"."""

    input: str | None = None
    output: str | None = None
    input_messages: list[Message] | None = None
    output_messages: list[Message] | None = None
    system: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


def llm_content(a: SpanAttrs) -> SpanContent:
    """Input/output of an LLM-call span (any dialect)."""
    content = SpanContent()
    found_in = _pick(_input_candidates(a))
    if isinstance(found_in, list):
        content.input_messages = found_in
        content.input = last_user_text(found_in) if looks_like_chat(found_in) else _last_content(found_in)
    else:
        content.input = found_in
    found_out = _pick(_output_candidates(a))
    if isinstance(found_out, list):
        content.output_messages = found_out
        content.output = output_text(found_out)
        calls = found_out[0].get("tool_calls")
        content.tool_calls = calls if isinstance(calls, list) and calls else None
    else:
        content.output = found_out
    if content.tool_calls is None:
        content.tool_calls = _vercel_tool_calls(a)
    content.system = system_text(a.first("gen_ai.system_instructions"), content.input_messages)
    return content


def tool_content(a: SpanAttrs) -> SpanContent:
    """A tool-execution span: input is the arguments, output the result."""
    args = a.first("gen_ai.tool.call.arguments", "ai.toolCall.args", "ai.toolCall.input", "input.value")
    result = a.first("gen_ai.tool.call.result", "ai.toolCall.result", "ai.toolCall.output", "output.value")
    args = args if args is not None else a.get("traceloop.entity.input")
    result = result if result is not None else a.get("traceloop.entity.output")
    return SpanContent(input=clean_text(args), output=clean_text(result))


def embedding_content(a: SpanAttrs) -> SpanContent:
    """An embeddings span: the embedded text(s) as input; vectors are dropped, not stored."""
    a.first("ai.embedding", "ai.embeddings")  # vectors: mark mapped so they never reach metadata
    items = a.unflatten("embedding.embeddings")
    texts: list[str] = []
    if isinstance(items, list):
        for item in items:
            inner = item.get("embedding") if isinstance(item, dict) else None
            text = inner.get("text") if isinstance(inner, dict) else None
            if isinstance(text, str):
                texts.append(text)
    if not texts:
        values = parse_json(a.first("ai.value", "ai.values", "gen_ai.embeddings.input"))
        if isinstance(values, list):
            texts = [t for t in (clean_text(v) for v in values) if t is not None]
        elif values is not None:
            texts = [t for t in [clean_text(values)] if t is not None]
    if not texts:
        prompts = messages(a.unflatten("gen_ai.prompt")) or []
        texts = [m["content"] for m in prompts if isinstance(m.get("content"), str)]
    if not texts and (raw := clean_text(a.get("input.value"))) is not None:
        texts = [raw]
    return SpanContent(input="\n".join(texts) if texts else None, output=None)


def _pick(candidates: list[Found]) -> Found:
    for found in candidates:
        if isinstance(found, list) and found:
            return found
        if isinstance(found, str):
            return found
    return None


def _last_content(items: list[Message]) -> str | None:
    content = items[-1].get("content") if items else None
    return content if isinstance(content, str) else None


def _loose(value: Any, role: str) -> Found:
    """Langfuse-style free JSON: a conversation when it looks like one, else its text."""
    parsed = parse_json(value)
    if parsed is None:
        return None
    found = messages(parsed, role) if not isinstance(parsed, str) else None
    if looks_like_chat(found):
        return found
    return clean_text(parsed)


def _input_candidates(a: SpanAttrs) -> list[Found]:
    vercel = parse_json(a.get("ai.prompt"))
    vercel_messages: Found = None
    if isinstance(vercel, dict):
        vercel_messages = messages(vercel.get("messages"))
        if not vercel_messages and isinstance(vercel.get("prompt"), str):
            vercel_messages = [{"role": "user", "content": clean_text(vercel["prompt"])}]
    elif isinstance(vercel, str):
        vercel_messages = vercel
    entity = parse_json(a.get("traceloop.entity.input"))
    entity_messages = None
    if isinstance(entity, dict) and isinstance(entity.get("kwargs"), dict):
        entity_messages = messages(entity["kwargs"].get("messages"))
    return [
        _loose(a.get("langfuse.observation.input"), "user"),
        messages(a.get("gen_ai.input.messages")),
        messages(a.unflatten("gen_ai.prompt")),
        messages(a.unflatten("llm.input_messages")),
        messages(a.get("ai.prompt.messages")),
        vercel_messages,
        messages(a.get("gen_ai.prompt")),
        _raw_request(a.get("input.value")),
        entity_messages or clean_text(a.get("traceloop.entity.input")),
        _raw_request(a.get("request_data")),
        clean_text(a.get("prompt")),
    ]


def _raw_request(value: Any) -> Found:
    """A raw request body: its messages when it is chat JSON, else the text itself."""
    parsed = parse_json(value)
    if isinstance(parsed, dict):
        found = messages(parsed.get("messages"))
        if found:
            return found
        if isinstance(parsed.get("prompt"), str):
            return clean_text(parsed["prompt"])
        if isinstance(parsed.get("input"), str):
            return clean_text(parsed["input"])
    return clean_text(value) if value is not None else None


def _output_candidates(a: SpanAttrs) -> list[Found]:
    vercel_text = a.first("ai.response.text", "ai.result.text", "ai.response.object", "ai.result.object")
    return [
        _loose(a.get("langfuse.observation.output"), "assistant"),
        messages(a.get("gen_ai.output.messages"), "assistant"),
        messages(a.unflatten("gen_ai.completion"), "assistant"),
        messages(a.unflatten("llm.output_messages"), "assistant"),
        clean_text(vercel_text),
        messages(a.get("gen_ai.completion"), "assistant"),
        _raw_response(a.get("output.value")),
        clean_text(a.get("traceloop.entity.output")),
        _raw_response(a.get("response_data")),
    ]


def _raw_response(value: Any) -> Found:
    found = response_messages(value)
    if found:
        return found
    return clean_text(value) if value is not None else None


def _vercel_tool_calls(a: SpanAttrs) -> list[dict[str, Any]] | None:
    raw = parse_json(a.first("ai.response.toolCalls", "ai.result.toolCalls"))
    if not isinstance(raw, list):
        return None
    calls = [c for c in (tool_call(item) for item in raw) if c]
    return calls or None

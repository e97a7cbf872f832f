"""A span's prompt and response, read from whichever dialect's attributes carry them.

Sources are tried in the mapping doc's priority order (§1 input/output rows); every known content
key is marked as mapped even when a better source won, so raw duplicates (e.g. OpenInference's
whole request JSON in `input.value`) do not pile up in metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phosphobs.collector.otlp.attributes import KeyShape, SpanAttrs, parse_json
from phosphobs.collector.otlp.messages import (
    Message,
    clean_text,
    looks_like_chat,
    messages,
    response_messages,
    system_text,
    tool_call,
)
from phosphobs.storage.enrichment import input_text, output_text, tool_calls_text

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
    plan: _LlmPlan = a.shape.plan(_LlmPlan, _LlmPlan)
    messages_in = messages_out = tool_calls = None
    found_in = _pick(a, plan.inputs)
    if isinstance(found_in, list):
        messages_in = found_in
        text_in = input_text(found_in) if looks_like_chat(found_in) else _last_content(found_in)
    else:
        text_in = found_in
    found_out = _pick(a, plan.outputs)
    if isinstance(found_out, list):
        messages_out = found_out
        text_out = output_text(found_out)
        calls = found_out[0].get("tool_calls")
        tool_calls = calls if isinstance(calls, list) and calls else None
    else:
        text_out = found_out
    if tool_calls is None and plan.vercel_calls:
        tool_calls = _vercel_tool_calls(a)
    if not text_out and tool_calls:  # an agent turn that answers with tool calls: they are its output
        text_out = tool_calls_text(tool_calls)
    system = system_text(a.get(_SYSTEM) if plan.system else None, messages_in)
    return SpanContent(text_in, text_out, messages_in, messages_out, system, tool_calls)


def tool_content(a: SpanAttrs) -> SpanContent:
    """A tool-execution span: input is the arguments, output the result (pydantic-ai/Logfire say
    `tool_arguments` / `tool_response`)."""
    args = a.first("gen_ai.tool.call.arguments", "ai.toolCall.args", "ai.toolCall.input", "tool_arguments",
                   "input.value")
    result = a.first("gen_ai.tool.call.result", "ai.toolCall.result", "ai.toolCall.output", "tool_response",
                     "output.value")
    args = args if args is not None else a.get("traceloop.entity.input")
    result = result if result is not None else a.get("traceloop.entity.output")
    return SpanContent(input=clean_text(args), output=_unquoted(clean_text(result)))


def _unquoted(text: str | None) -> str | None:
    """A result sent as a JSON string literal (Vercel's `"Sunny"`) reads as the string itself."""
    if text is not None and len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        parsed = parse_json(text)
        if isinstance(parsed, str):
            return parsed
    return text


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


def _vercel_prompt(value: Any) -> Found:
    """Vercel `ai.prompt`: `{"messages"}` or `{"prompt"}` JSON, or plain text."""
    vercel = parse_json(value)
    if isinstance(vercel, dict):
        found = messages(vercel.get("messages"))
        if not found and isinstance(vercel.get("prompt"), str):
            found = [{"role": "user", "content": clean_text(vercel["prompt"])}]
        return found
    return vercel if isinstance(vercel, str) else None


def _prompts(value: Any) -> Found:
    """OpenInference's completion prompts: `llm.prompts` as a list of strings, or flattened
    `llm.prompts.N.prompt.text`. Each is a user turn; `input.value` beside them is often the Python call's
    arguments (`{"args": [prompt]}`, LlamaIndex), never better."""
    items = parse_json(value)
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        return None
    texts = []
    for item in items:
        if isinstance(item, dict):
            item = (item.get("prompt") or {}).get("text") if isinstance(item.get("prompt"), dict) else None
        if isinstance(item, str) and (text := clean_text(item)) is not None:
            texts.append(text)
    return [{"role": "user", "content": text} for text in texts] or None


def _entity_input(value: Any) -> Found:
    """Traceloop `traceloop.entity.input`: LangChain-style `{"kwargs": {"messages"}}`, else its text."""
    entity = parse_json(value)
    found = None
    if isinstance(entity, dict) and isinstance(entity.get("kwargs"), dict):
        found = messages(entity["kwargs"].get("messages"))
    return found or clean_text(value)


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


def _raw_response(value: Any) -> Found:
    parsed = parse_json(value)
    if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], dict):
        parsed = parsed[0]  # the OpenAI Agents SDK's generation output: a list holding the response
    found = response_messages(parsed)
    if found:
        return found
    return clean_text(value) if value is not None else None


def _assistant(value: Any) -> Found:
    return messages(value, "assistant")


Fetch = Callable[[SpanAttrs, Any], Any]
Read = Callable[[Any], Found]


class Sources:
    """Content sources, best first: a key, a flattened prefix (`p.*`), or keys read with `first`.

    Every reader maps None to None, so only the sources present on a span need reading: `present`
    lists them with how each is fetched, once per key shape. All present sources are read (and so mapped).
    """

    def __init__(self, *sources: tuple[str | tuple[str, ...], Read]) -> None:
        self.sources = sources

    def present(self, shape: KeyShape) -> tuple[tuple[Fetch, Any, Read], ...]:
        """The sources spans of this shape have, best first, each with its fetcher, key and reader."""
        keys = set(shape.keys)
        plan: list[tuple[Fetch, Any, Read]] = []
        for key, read in self.sources:
            if isinstance(key, tuple):
                if not keys.isdisjoint(key):
                    plan.append((_first, key, read))
            elif key.endswith(".*"):
                if shape.under(key[:-2]):
                    plan.append((SpanAttrs.unflatten, key[:-2], read))
            elif key in keys:
                plan.append((SpanAttrs.get, key, read))
        return tuple(plan)


def _pick(a: SpanAttrs, present: tuple[tuple[Fetch, Any, Read], ...]) -> Found:
    """The best present source's content: the first non-empty message list or text."""
    best: Found = None
    for fetch, key, read in present:
        value = fetch(a, key)
        if value is not None:
            found = read(value)
            if best is None and (isinstance(found, str) or (isinstance(found, list) and found)):
                best = found
    return best


def _first(a: SpanAttrs, keys: tuple[str, ...]) -> Any:
    return a.first(*keys)


_INPUTS = Sources(
    ("langfuse.observation.input", lambda value: _loose(value, "user")),
    ("gen_ai.input.messages", messages),
    ("gen_ai.prompt.*", messages),
    ("llm.input_messages.*", messages),
    ("ai.prompt.messages", messages),
    ("ai.prompt", _vercel_prompt),
    ("gen_ai.prompt", messages),
    ("llm.prompts", _prompts),
    ("llm.prompts.*", _prompts),
    ("input.value", _raw_request),
    ("traceloop.entity.input", _entity_input),
    ("request_data", _raw_request),
    ("prompt", clean_text),
)
_OUTPUTS = Sources(
    ("langfuse.observation.output", lambda value: _loose(value, "assistant")),
    ("gen_ai.output.messages", _assistant),
    ("gen_ai.completion.*", _assistant),
    ("llm.output_messages.*", _assistant),
    (("ai.response.text", "ai.result.text", "ai.response.object", "ai.result.object"), clean_text),
    ("gen_ai.completion", _assistant),
    ("output.value", _raw_response),
    ("traceloop.entity.output", clean_text),
    ("response_data", _raw_response),
)


class _LlmPlan:
    """Where spans of one key shape carry an LLM call's content: present sources, tool calls, instructions."""

    __slots__ = ("inputs", "outputs", "system", "vercel_calls")

    def __init__(self, shape: KeyShape) -> None:
        self.inputs = _INPUTS.present(shape)
        self.outputs = _OUTPUTS.present(shape)
        self.vercel_calls = bool(shape.present(_VERCEL_CALLS))
        self.system = _SYSTEM in shape.keys


_SYSTEM = "gen_ai.system_instructions"
_VERCEL_CALLS = ("ai.response.toolCalls", "ai.result.toolCalls")


def _vercel_tool_calls(a: SpanAttrs) -> list[dict[str, Any]] | None:
    raw = parse_json(a.first(*_VERCEL_CALLS))
    if not isinstance(raw, list):
        return None
    calls = [c for c in (tool_call(item) for item in raw) if c]
    return calls or None

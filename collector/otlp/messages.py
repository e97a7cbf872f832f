"""Every dialect's chat-message shape reduced to one: `{"role", "content": str | None, ...}`.

Shapes met in the wild: G3 `{role, parts[]}`, OpenAI `{role, content: str | parts[], tool_calls}`,
OpenInference `{message: {role, content | contents[], tool_calls[{tool_call}]}}`, Vercel provider
parts (`tool-call`, `tool-result`), G2 event bodies, and Bedrock Converse content blocks (`{"text"}`,
`{"toolUse"}`, `{"toolResult"}`; Strands Agents sends its messages in that shape, as a JSON string).
Originals that carry more than text (G3 parts) are kept alongside the text so nothing is lost.
"""

from __future__ import annotations

import operator
from typing import Any

from phosphobs.collector.otlp.attributes import as_text, parse_json

Message = dict[str, Any]

REDACTED = "__REDACTED__"  # OpenInference's marker for hidden content
_TEXT_TYPES = {"text", "input_text", "output_text"}
_EXTRA_KEYS = ("tool_call_id", "name", "finish_reason", "id")
_GET_ROLE = operator.methodcaller("get", "role")
# Roles an agent framework reports in place of the ones it sends: smolagents' memory has `tool-call` (sent as an
# assistant message) and `tool-response` (a tool's result, sent as a user message `Observation: …`).
_ROLE_ALIASES = {"tool-response": "tool", "tool-call": "assistant"}


def _role(value: Any, default: str | None) -> Any:
    role = value or default
    return _ROLE_ALIASES.get(role, role) if isinstance(role, str) else role


def clean_text(value: Any) -> str | None:
    """Text content, with redaction markers read as "no content"."""
    text = as_text(value)
    return None if text is None or text == REDACTED else text


def content_text(content: Any) -> str | None:
    """Text of a `content` value: a string, a list of text parts, or a JSON string of those."""
    parsed = parse_json(content) if isinstance(content, str) and content[:1] == "[" else content
    if isinstance(content, str) and not (isinstance(parsed, list) and any(isinstance(p, dict) for p in parsed)):
        return clean_text(content)  # plain text that merely starts with "[" stays as sent
    if isinstance(parsed, list):
        texts = [_part_text(part) for part in parsed]
        found = [text for text in texts if text is not None]
        return "".join(found) if found else None
    if isinstance(parsed, dict):
        return _part_text(parsed) if "type" in parsed else clean_text(parsed.get("text") or parsed.get("content"))
    return clean_text(content)


def _part_text(part: Any) -> str | None:
    if isinstance(part, str):
        return clean_text(part)
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind in _TEXT_TYPES or (kind is None and ("text" in part or "content" in part)):
        value = part.get("content") if part.get("content") is not None else part.get("text")
        return clean_text(value)
    if kind is None and "json" in part:  # a Converse `{"json": …}` block (e.g. a tool's structured result)
        return as_text(part["json"])
    if isinstance(part.get("message_content"), dict):  # OpenInference contents.N.message_content
        inner = part["message_content"]
        return clean_text(inner.get("text")) if inner.get("type", "text") == "text" else None
    return None


def tool_call(raw: Any) -> dict[str, Any] | None:
    """One tool call as `{"id", "name", "arguments"}` from OpenAI, OpenInference, G3 or Vercel form."""
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("tool_call"), dict):
        raw = raw["tool_call"]
    if isinstance(raw.get("toolUse"), dict):  # a Bedrock Converse block
        raw = raw["toolUse"]
    function = raw.get("function") if isinstance(raw.get("function"), dict) else {}
    name = function.get("name") or raw.get("name") or raw.get("toolName")
    arguments = function.get("arguments", raw.get("arguments", raw.get("args", raw.get("input"))))
    call_id = raw.get("id") or raw.get("toolCallId") or raw.get("toolUseId")
    if name is None and arguments is None:
        return None
    return {"id": call_id, "name": name, "arguments": parse_json(arguments)}


def message(raw: Any, role: str | None = None) -> Message | None:
    """One message in our shape; None when `raw` is not message-like."""
    if type(raw) is dict and len(raw) == 2 and "role" in raw:  # maybe the usual G3 `{role, parts: [text]}`
        parts = raw.get("parts")
        text = _plain_text(parts) if type(parts) is list else None
        if text is not None:
            return {"role": _role(raw["role"], role), "content": text}
    if isinstance(raw, str):
        raw = parse_json(raw)
        if isinstance(raw, str):
            return {"role": role, "content": clean_text(raw)}
    if not isinstance(raw, dict):
        return None
    if "role" not in raw and isinstance(raw.get("message"), dict):  # OpenInference wrapper
        raw = raw["message"]
    out: Message = {"role": _role(raw.get("role"), role)}
    calls: list[dict[str, Any]] = []
    parts = raw.get("parts")
    if isinstance(parts, list):  # G3
        _read_parts(parts, out, calls)
    else:
        content = raw.get("content")
        if content is None and isinstance(raw.get("contents"), list):
            content = raw["contents"]
        out["content"] = content_text(content)
        if isinstance(content, str) and content[:2] == '[{':  # parts sent as a JSON string (Strands)
            parsed = parse_json(content)
            content = parsed if isinstance(parsed, list) else content
        if isinstance(content, list):
            calls = [c for c in (tool_call(p) for p in content if _is_call_part(p)) if c]
            if out["content"] is None:
                _tool_results(content, out)
    if isinstance(raw.get("tool_calls"), list):
        calls += [c for c in (tool_call(item) for item in raw["tool_calls"]) if c]
    if calls:
        out["tool_calls"] = calls
    if not raw.keys().isdisjoint(_EXTRA_KEYS):
        for key in _EXTRA_KEYS:
            if raw.get(key) is not None and key not in out:
                out[key] = raw[key]
    return out


def _read_parts(parts: list[Any], out: Message, calls: list[dict[str, Any]]) -> None:
    """G3 parts in one pass: text parts joined, tool calls collected, a tool response as content.

    `parts` are kept beside the text only when they carry more than it: one plain text part is all in `content`.
    """
    plain = _plain_text(parts)
    if plain is not None:  # the usual message
        out["content"] = plain
        return
    texts: list[str] = []
    response = None
    for part in parts:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            text = part.get("content")
            text = (None if text == REDACTED else text) if type(text) is str else clean_text(text)
            if text is not None:
                texts.append(text)
        elif kind == "tool_call":
            call = tool_call(part)
            if call:
                calls.append(call)
        elif kind == "tool_call_response" and response is None:
            response = part
    out["content"] = "".join(texts) if texts else None
    if response is not None and out["content"] is None:
        out["content"] = clean_text(response.get("response", response.get("result")))
        out["tool_call_id"] = response.get("id")
        if response.get("name"):
            out["name"] = response["name"]
    out["parts"] = parts


_RESULT_TYPES = ("tool_result", "tool-result", "function_call_output")


def _is_call_part(part: Any) -> bool:
    """A content part that asks for a tool: Vercel `tool-call`, Anthropic `tool_use`, Converse `toolUse`."""
    return isinstance(part, dict) and (part.get("type") in ("tool-call", "tool_use") or
                                       isinstance(part.get("toolUse"), dict))


def _tool_results(content: list[Any], out: Message) -> None:
    """Tool results inside a content list (Anthropic `tool_result`, Vercel `tool-result`, Converse
    `toolResult`): their text as the message's content, and the call they answer."""
    found = [p["toolResult"] if isinstance(p, dict) and isinstance(p.get("toolResult"), dict) else p
             for p in content]
    found = [p for p in found if isinstance(p, dict) and (p.get("type") in _RESULT_TYPES or "toolUseId" in p)]
    if not found:
        return
    texts = []
    for part in found:
        value = next((part[k] for k in ("content", "output", "result") if part.get(k) is not None), None)
        if isinstance(value, dict) and value.get("type") in ("text", "json") and "value" in value:
            value = value["value"]  # Vercel v5 `{type, value}` outputs
        text = content_text(value) if isinstance(value, list) else clean_text(value)
        if text is not None:
            texts.append(text)
    out["content"] = "\n".join(texts) if texts else None
    first = found[0]
    call_id = first.get("tool_use_id") or first.get("toolCallId") or first.get("call_id") or first.get("toolUseId")
    if call_id is not None:
        out["tool_call_id"] = call_id
    if first.get("toolName"):
        out["name"] = first["toolName"]


def _plain_text(parts: list[Any]) -> str | None:
    """The text of `parts` when they are exactly one `{"type": "text", "content": str}` (not redacted)."""
    if len(parts) != 1:
        return None
    part = parts[0]
    if type(part) is not dict or len(part) != 2 or part.get("type") != "text":
        return None
    text = part.get("content")
    return text if type(text) is str and text != REDACTED else None


def _is_type(part: Any, kind: str) -> bool:
    return isinstance(part, dict) and part.get("type") == kind


def _g3_text(parts: list[Any]) -> str | None:
    texts = [clean_text(p.get("content")) for p in parts if _is_type(p, "text")]
    found = [text for text in texts if text is not None]
    return "".join(found) if found else None


def messages(value: Any, role: str | None = None) -> list[Message] | None:
    """A message list from a list, `{"messages": [...]}`, one message, or plain text; None if none."""
    value = parse_json(value)
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if isinstance(value, list):
        found = []
        for item in value:
            one = message(item, role)
            if one is not None:
                found.append(one)
        return found or None
    if isinstance(value, dict) and ("role" in value or "parts" in value or "content" in value):
        found_one = message(value, role)
        return [found_one] if found_one else None
    if isinstance(value, str):
        return [{"role": role, "content": clean_text(value)}]
    return None


def looks_like_chat(items: list[Message] | None) -> bool:
    """True when at least one message has a role, i.e. the list is a conversation, not raw text."""
    return any(map(_GET_ROLE, items or ()))


def response_messages(value: Any) -> list[Message] | None:
    """Output messages from a raw provider response (OpenAI `choices`, Logfire `{message}`)."""
    value = parse_json(value)
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("choices"), list):
        found: list[Message] = []
        for choice in value["choices"]:
            if not isinstance(choice, dict):
                continue
            msg = message(choice.get("message") or {"content": choice.get("text")}, "assistant")
            if msg is not None:
                if choice.get("finish_reason") is not None:
                    msg.setdefault("finish_reason", choice["finish_reason"])
                found.append(msg)
        return found or None
    if isinstance(value.get("message"), dict):
        msg = message(value["message"], "assistant")
        return [msg] if msg else None
    if isinstance(value.get("output"), list):  # OpenAI Responses API: output items
        return _response_items(value["output"])
    if isinstance(value.get("content"), list):  # Anthropic messages response
        msg = message({"role": value.get("role", "assistant"), "content": value["content"]})
        return [msg] if msg else None
    return None


def _response_items(items: list[Any]) -> list[Message] | None:
    """Responses API output items as one assistant message: `message` texts joined, `function_call`s as
    tool calls."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            text = content_text(item.get("content"))
            if text:
                texts.append(text)
        elif item.get("type") == "function_call":
            call = tool_call({"id": item.get("call_id") or item.get("id"), "name": item.get("name"),
                              "arguments": item.get("arguments")})
            if call:
                calls.append(call)
    if not texts and not calls:
        return None
    msg: Message = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        msg["tool_calls"] = calls
    return [msg]


def system_text(instructions: Any, history: list[Message] | None) -> str | None:
    """The system prompt: explicit instructions (G3 parts or text) else the `system` messages."""
    if instructions is not None:
        parsed = parse_json(instructions)
        if isinstance(parsed, list):
            text = _g3_text([p for p in parsed if isinstance(p, dict)]) or content_text(parsed)
            if text:
                return text
        return clean_text(parsed)
    texts = []
    for item in history or ():
        if item.get("role") == "system" and isinstance(item.get("content"), str):
            texts.append(item["content"])
    return "\n".join(texts) if texts else None

"""GenAI content that travels as events (OTLP log records or span events) as patch fields.

One reader for both carriers: G2 per-message events (`gen_ai.user.message`, `gen_ai.choice`, …), the G3
`gen_ai.client.inference.operation.details` event, G0 `gen_ai.content.prompt`/`completion` span events
and LiteLLM's log variant of those. The field vocabulary is `phosphobs.storage.enrichment`'s.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from phosphobs.collector.otlp.attributes import Attrs, SpanAttrs, as_int, parse_json
from phosphobs.collector.otlp.fields import model_and_provider, models, provider, tokens
from phosphobs.collector.otlp.messages import message, messages, system_text

DETAILS = "gen_ai.client.inference.operation.details"
_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_CONTENT_NAMES = {*_ROLES, "gen_ai.choice", DETAILS, "gen_ai.content.prompt", "gen_ai.content.completion"}
_META_KEYS = {"event.name", "event_name", "gen_ai.system", "gen_ai.provider.name"}


def event_name(record_name: str, attrs: Attrs) -> str:
    """Rule 4: `LogRecord.event_name`, else attribute `event.name`, else LiteLLM's `event_name`."""
    return record_name or str(attrs.get("event.name") or attrs.get("event_name") or "")


def is_content_event(name: str) -> bool:
    return name in _CONTENT_NAMES


def content_fields(name: str, attrs: Attrs, body: Any) -> dict[str, Any] | None:
    """Patch fields for one content event; None when it carries nothing we can use."""
    if name not in _CONTENT_NAMES:
        return None
    if body is None:  # span events and some SDKs put the payload in attributes instead of the body
        body = {k: v for k, v in attrs.items() if k not in _META_KEYS} or None
    fields: dict[str, Any]
    if name in _ROLES:
        msg = message(body, _ROLES[name]) if body is not None else None
        if msg is None or (msg.get("content") is None and not msg.get("tool_calls")):
            return None  # G2 without content capture: the record says nothing
        msg["role"] = msg.get("role") or _ROLES[name]
        fields = {"input_message": msg}
    elif name == "gen_ai.choice" or (name == "gen_ai.content.completion" and "gen_ai.completion" not in attrs):
        fields = _choice(body)
    elif name == "gen_ai.content.prompt":
        found = messages(attrs.get("gen_ai.prompt"), "user") if "gen_ai.prompt" in attrs else None
        if found:
            fields = {"input_messages": found}
        else:
            one = message(body, "user") if isinstance(body, dict) else None
            listed = messages(body, "user") if isinstance(body, list) else None
            fields = {"input_messages": listed} if listed else ({"input_message": one} if one else {})
    elif name == "gen_ai.content.completion":
        fields = {"output_messages": messages(attrs.get("gen_ai.completion"), "assistant") or []}
    else:
        fields = _details(attrs)
    fields = {k: v for k, v in fields.items() if v not in (None, [], {})}
    return fields or None


def _choice(body: Any) -> dict[str, Any]:
    body = parse_json(body)
    if not isinstance(body, dict):
        return {}
    inner = parse_json(body.get("message"))  # a JSON string when it travelled as a span-event attribute
    if isinstance(inner, (list, str)):  # content parts (Strands: Converse blocks) or plain text, no wrapper
        inner = {"role": "assistant", "content": inner}
    raw = inner if isinstance(inner, dict) else body
    msg = message(raw, "assistant")
    if msg is None:
        return {}
    msg["role"] = msg.get("role") or "assistant"
    if body.get("finish_reason") is not None:
        msg["finish_reason"] = body["finish_reason"]
    return {"choice": {"index": as_int(body.get("index")) or 0, "message": msg}}


def _details(attrs: Attrs) -> dict[str, Any]:
    """The G3 operation.details event repeats the span's attributes with structured messages."""
    a = SpanAttrs(attrs)
    inputs = messages(attrs.get("gen_ai.input.messages"))
    outputs = messages(attrs.get("gen_ai.output.messages"), "assistant")
    tin, tout = tokens(a)
    model = models(a)[0]
    model, provider_name = model_and_provider(model, provider(a, model))
    return {
        "input_messages": inputs,
        "output_messages": outputs,
        "system": system_text(attrs.get("gen_ai.system_instructions"), None),
        "model": model,
        "provider": provider_name,
        "tokens_in": tin,
        "tokens_out": tout,
    }


def order_key(time_unix_nano: int, name: str, fields: dict[str, Any]) -> str:
    """Deterministic sort key: event time first (G2 sends history in order), then a content digest.

    A retried record gets the same key, so storage keeps one copy; distinct records never collide.
    """
    digest = hashlib.sha1(
        (name + json.dumps(fields, sort_keys=True, default=str)).encode("utf-8"), usedforsecurity=False
    ).hexdigest()[:16]
    return f"{max(time_unix_nano, 0):020d}:{digest}"

"""Making event content readable: chat messages as turns, long text folded. Returns data, never markup.

Templates escape everything this returns; nothing here may build HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from phosphobs.storage.protocol import StoredEvent

FOLD_CHARS = 600  # longer text is shown folded, with its start as the summary


@dataclass(slots=True, frozen=True)
class Turn:
    role: str
    text: str
    folded: bool


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI-style content parts
        texts = [p.get("text") if isinstance(p, dict) else p for p in content]
        if all(isinstance(t, str) for t in texts):
            return "\n".join(texts)  # type: ignore[arg-type]
    return json.dumps(content, ensure_ascii=False, indent=2, default=str)


def _messages(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value
    return None


def _parse_messages(text: str) -> list[dict[str, Any]] | None:
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(data, dict):
        data = data.get("messages")
    return _messages(data)


def turns(text: str, messages: Any = None) -> list[Turn]:
    """Chat turns when the event carries messages (metadata or JSON text), else one plain turn."""
    found = _messages(messages) or _parse_messages(text)
    if found is None:
        return [Turn("", text, len(text) > FOLD_CHARS)]
    result = []
    for message in found:
        body = _text_of(message.get("content"))
        calls = message.get("tool_calls")
        if calls:
            body = (body + "\n" if body else "") + json.dumps(calls, ensure_ascii=False, indent=2, default=str)
        result.append(Turn(str(message.get("role", "")), body, len(body) > FOLD_CHARS))
    return result


def preview(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(slots=True, frozen=True)
class TimelineItem:
    stored: StoredEvent
    inputs: list[Turn]
    outputs: list[Turn]
    extra: dict[str, Any]


def timeline_item(stored: StoredEvent) -> TimelineItem:
    e = stored.event
    meta = e.metadata
    extra = {k: v for k, v in meta.items() if k not in ("input_messages", "output_messages")}
    return TimelineItem(stored, turns(e.input, meta.get("input_messages")),
                        turns(e.output, meta.get("output_messages")), extra)

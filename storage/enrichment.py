"""Merging separately-delivered content (OTLP log records, span events) into a span's event.

Storage keeps a span's base event and every patch for it, and stores `apply_patches(base, patches)`.
The result depends only on the *set* of patches, never their arrival order: patches are sorted by
`order_key` (ties broken by content), duplicates collapse, and the base always wins over a patch.

Patch `fields` vocabulary (messages are `{"role", "content": str | None, ...}` dicts):
  input_messages  full input history (G3 operation.details, G0 prompt event)
  input_message   one message of the history (G2 per-message events), ordered by order_key
  output_messages full output list;  choice  `{"index", "message"}` (G2 `gen_ai.choice`)
  system          system prompt text
  model, provider, tokens_in, tokens_out  fill the event's field when the span lacked it
  metadata        extra metadata keys (the base's own keys win)
  member          another span of the same provider call (an `Event` as a dict), stored after the base:
                  the base and its members are first merged by `calls.merge_call`, then filled as above

Whenever model or tokens end up different from the base's, an estimated cost is estimated again.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from phosphobs.storage.calls import merge_call
from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.pricing import estimate_cost

_FILLABLE = ("model", "provider", "tokens_in", "tokens_out")


def last_user_text(messages: Sequence[dict[str, Any]]) -> str | None:
    """Text of the last `user` message that is not a tool result: what a person typed for this call."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user" and not is_tool_result(message):
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def input_text(messages: Sequence[dict[str, Any]]) -> str | None:
    """The event's input: the user's last question, or, in an agent turn that answers tool calls, the
    tool results said as such (`Tool result (name): …`); the question stays in the messages."""
    results: list[dict[str, Any]] = []
    for message in reversed(messages):  # the trailing run of tool results (parallel calls give several)
        if not (isinstance(message, dict) and is_tool_result(message)):
            break
        results.append(message)
    if not results:
        return last_user_text(messages)
    names = _tool_names(messages)
    lines = []
    for message in reversed(results):
        call_id = message.get("tool_call_id", message.get("id"))  # G2 `gen_ai.tool.message` says `id`
        name = message.get("name") or names.get(str(call_id))
        content = message.get("content")
        shown = content if isinstance(content, str) else json.dumps(content, default=str)
        lines.append(f"Tool result ({name}): {shown}" if name else f"Tool result: {shown}")
    return "\n".join(lines)


def is_tool_result(message: dict[str, Any]) -> bool:
    """A message that hands a tool's result back to the model (OpenAI `tool` role, G3 and Anthropic
    tool-result parts, which some libraries send in a `user` message)."""
    role = message.get("role")
    return role == "tool" or (message.get("tool_call_id") is not None and role != "assistant"
                              and not message.get("tool_calls"))


def _tool_names(messages: Sequence[dict[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for message in messages:
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            if isinstance(call, dict) and call.get("id") is not None and call.get("name"):
                names[str(call["id"])] = str(call["name"])
    return names


def output_text(messages: Sequence[dict[str, Any]]) -> str | None:
    """Text of the first output message (choice 0); when it only calls tools, those calls, readably."""
    if not messages or not isinstance(messages[0], dict):
        return None
    content = messages[0].get("content")
    if isinstance(content, str) and content:
        return content
    calls = messages[0].get("tool_calls")
    if isinstance(calls, list) and calls:
        return tool_calls_text(calls)
    return content if isinstance(content, str) else None


def tool_calls_text(calls: Sequence[Any]) -> str:
    """Tool calls as an answer reads: one `name(arguments)` line each, arguments as compact JSON."""
    lines = []
    for call in calls:
        if not isinstance(call, dict):
            continue
        arguments = call.get("arguments")
        shown = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str, ensure_ascii=False)
        lines.append(f"{call.get('name') or 'tool'}({'' if arguments is None else shown})")
    return "\n".join(lines)


def apply_patches(base: Event, patches: Iterable[EventPatch], *, fresh: bool = False) -> Event:
    """`base` with missing content filled from `patches`; a new Event, `base` is untouched.

    `fresh=True` is for a caller that just built `base` and the patches and drops them afterwards:
    their contents move into the result instead of being deep-copied.
    """
    clone = _keep if fresh else copy.deepcopy
    event = replace(base, metadata=clone(base.metadata), tags=list(base.tags))
    ordered = _ordered(patches)
    if not ordered:
        return event
    members = [m for m in (_member(f.get("member")) for f in ordered) if m is not None]
    if members:  # the row keeps its identity; its facts are the whole call's
        merged = merge_call([event, *members])
        event = replace(merged, event_id=base.event_id, trace_id=base.trace_id, span_id=base.span_id,
                        parent_span_id=base.parent_span_id, metadata=copy.deepcopy(merged.metadata))
        ordered = [f for f in ordered if "member" not in f]
    priced = (event.model, event.tokens_in, event.tokens_out)
    meta = event.metadata
    inputs = _first(ordered, "input_messages") or [f["input_message"] for f in ordered if "input_message" in f]
    outputs = _first(ordered, "output_messages") or _choices(ordered)
    if inputs and not meta.get("input_messages"):
        meta["input_messages"] = clone(inputs)
    if outputs and not meta.get("output_messages"):
        meta["output_messages"] = clone(outputs)
    system = _first(ordered, "system") or _system_messages(inputs)
    if system and not meta.get("system"):
        meta["system"] = system
    if not event.input:
        event.input = input_text(meta.get("input_messages") or []) or ""
    if not event.output:
        out_messages = meta.get("output_messages") or []
        event.output = output_text(out_messages) or ""
        calls = out_messages[0].get("tool_calls") if out_messages and isinstance(out_messages[0], dict) else None
        if calls and "tool_calls" not in meta:
            meta["tool_calls"] = copy.deepcopy(calls)
    for name in _FILLABLE:
        if getattr(event, name) is None:
            value = _first(ordered, name)
            if value is not None:
                setattr(event, name, value)
    for fields in ordered:
        for key, value in (fields.get("metadata") or {}).items():
            meta.setdefault(key, copy.deepcopy(value))
    if members or (event.model, event.tokens_in, event.tokens_out) != priced:
        estimate_cost(event)
    return event


_EVENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Event))


def _member(value: Any) -> Event | None:
    """A member patch's event; None for anything that is not one (never fails the op)."""
    if not isinstance(value, dict):
        return None
    try:
        return Event(**{k: v for k, v in value.items() if k in _EVENT_FIELDS})
    except TypeError:
        return None


def _keep(value: Any) -> Any:
    return value


def _ordered(patches: Iterable[EventPatch]) -> list[dict[str, Any]]:
    """Patch fields sorted by (order_key, content), exact duplicates (retries) removed."""
    keyed = {(p.order_key, _canonical(p.fields)): p.fields for p in patches}
    return [keyed[key] for key in sorted(keyed)]


def _canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)


def _first(ordered: list[dict[str, Any]], key: str) -> Any:
    for fields in ordered:
        value = fields.get(key)
        if value not in (None, "", []):
            return value
    return None


def _system_messages(messages: list[dict[str, Any]]) -> str | None:
    texts = [m["content"] for m in messages if m.get("role") == "system" and isinstance(m.get("content"), str)]
    return "\n".join(texts) if texts else None


def _choices(ordered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    choices = [(i, f["choice"]) for i, f in enumerate(ordered) if isinstance(f.get("choice"), dict)]
    choices.sort(key=lambda item: (_index(item[1].get("index")), item[0]))
    return [dict(choice.get("message") or {}) for _, choice in choices]


def _index(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

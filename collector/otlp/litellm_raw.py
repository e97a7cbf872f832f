"""LiteLLM's `raw_gen_ai_request` span: the provider's raw request and response as `llm.<provider>.*`.

When the app has a span of its own around the call, LiteLLM writes the call's `gen_ai.*` attributes onto
that span (each call overwriting the last) and the only per-call record is this child span, whose values
are Python reprs of the request (`messages`) and response (`choices`, `usage`, `id`, `model`). They are
read with `ast.literal_eval` (literals only, never code), within a size bound. The app's span is then no
call itself, except that a failed last call is recorded nowhere else (`as_failed_call`).
"""

from __future__ import annotations

import ast
import hashlib
from typing import Any

from phosphobs.collector.otlp.fields import normalize_provider
from phosphobs.collector.otlp.messages import messages, response_messages
from phosphobs.storage.enrichment import input_text, output_text
from phosphobs.storage.models import Event, otlp_event_id

SPAN_NAME = "raw_gen_ai_request"
_MAX_CHARS = 1 << 20


def fill_from_raw(event: Event, attrs: dict[str, Any]) -> None:
    """Fill `event` (a `raw_gen_ai_request` call) from its raw provider attributes where it has nothing."""
    raw = {key.split(".", 2)[2]: key for key in attrs if key.startswith("llm.") and key.count(".") == 2}
    if not raw:
        return
    meta = event.metadata
    found = messages(_literal(attrs.get(raw.get("messages", ""))))
    if found and "input_messages" not in meta:
        meta["input_messages"] = found
        event.input = event.input or input_text(found) or ""
    choices = _literal(attrs.get(raw.get("choices", "")))
    outputs = response_messages({"choices": choices}) if isinstance(choices, list) else None
    if outputs and "output_messages" not in meta:
        meta["output_messages"] = outputs
        event.output = event.output or output_text(outputs) or ""
    usage = _literal(attrs.get(raw.get("usage", "")))
    if isinstance(usage, dict):
        event.tokens_in = event.tokens_in if event.tokens_in is not None else _int(usage.get("prompt_tokens"))
        event.tokens_out = event.tokens_out if event.tokens_out is not None else _int(usage.get("completion_tokens"))
    if event.provider is None:  # `llm.<provider>.*`: the prefix names the provider LiteLLM called
        event.provider = normalize_provider(next(iter(raw.values())).split(".", 2)[1])
    model = attrs.get(raw.get("model", ""))
    if isinstance(model, str) and model and not event.model:
        event.model = model
    response_id = attrs.get(raw.get("id", ""))
    if isinstance(response_id, str) and response_id:
        meta.setdefault("response", {}).setdefault("id", response_id)
    leftover = meta.get("attributes")
    if isinstance(leftover, dict):  # read: no second copy in metadata
        for name in ("messages", "choices", "usage", "id", "model"):
            leftover.pop(raw.get(name, ""), None)


def _literal(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > _MAX_CHARS or value[:1] not in "[{":
        return value
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


CALL_ID = "litellm.call_id"
_OWN_SCOPE = "litellm"
_STALE = ("output_messages", "tool_calls", "usage", "response")


def wrote_onto_app_span(attrs: dict[str, Any], scope: dict[str, Any], span_name: str) -> bool:
    """LiteLLM put a call's attributes on a span of the app's own (not its `litellm_request`)."""
    return CALL_ID in attrs and scope.get("name") != _OWN_SCOPE and span_name != SPAN_NAME


def last_call_failed(attrs: dict[str, Any]) -> bool:
    """On such a span the last call's attributes win; a failed call leaves its error there."""
    return "error.message" in attrs or "error.type" in attrs


def as_failed_call(event: Event, attrs: dict[str, Any]) -> Event:
    """The failed call a LiteLLM-written app span records (as its last call), as an event of its own under
    that span: its input and error are the call's; output, usage and cost are an earlier call's, so dropped."""
    call_id = str(attrs[CALL_ID])
    span_id = hashlib.sha1(f"litellm:{call_id}".encode(), usedforsecurity=False).hexdigest()[:16]
    event.parent_span_id, event.span_id = event.span_id, span_id
    event.event_id = otlp_event_id(event.trace_id or "", span_id)
    event.output, event.tokens_in, event.tokens_out, event.cost_cents, event.cost_source = "", None, None, None, None
    if event.latency_ms is not None:  # the call was the span's last: its own start is not recorded, the
        event.timestamp_us += int(event.latency_ms * 1000)  # span's end keeps it after the calls before it
        event.metadata["timestamp_source"] = "app span end"
    event.latency_ms = None
    event.status, event.flag = "error", "failure"
    event.error_type = str(attrs.get("error.type") or "error")
    event.model = event.metadata.get("request", {}).get("model") or event.model
    for key in _STALE:
        event.metadata.pop(key, None)
    event.metadata["error"] = {"type": event.error_type, "message": attrs.get("error.message")}
    return event

"""The seed's `chat_with_logging`, done once: turn an OpenAI chat call into a native event.

Duck-typed on purpose: works with `openai` ChatCompletion objects, their `model_dump()` dicts and
compatible clients, and never imports `openai`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def message_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a multi-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [_get(part, "text") for part in content if _get(part, "type", "text") == "text"]
        return "\n".join(t for t in texts if isinstance(t, str))
    return str(content)


def last_user_message(messages: Sequence[Any] | None) -> str:
    for message in reversed(list(messages or [])):
        if _get(message, "role") == "user":
            return message_text(_get(message, "content"))
    return ""


def completion_text(completion: Any) -> str:
    """First choice's text; a tool-call-only answer becomes a JSON list of the calls."""
    choices = _get(completion, "choices") or []
    if not choices:
        return ""
    message = _get(choices[0], "message")
    text = message_text(_get(message, "content"))
    if text:
        return text
    calls = _get(message, "tool_calls") or []
    rendered = [
        {"name": _get(_get(call, "function"), "name"), "arguments": _get(_get(call, "function"), "arguments")}
        for call in calls
    ]
    return json.dumps(rendered, ensure_ascii=False) if rendered else ""


def completion_fields(completion: Any) -> dict[str, Any]:
    """model, token counts (Chat Completions or Responses naming) and a few ids for metadata."""
    usage = _get(completion, "usage")
    choices = _get(completion, "choices") or []
    fields = {
        "model": _get(completion, "model"),
        "token_count_input": _get(usage, "prompt_tokens", _get(usage, "input_tokens")),
        "token_count_output": _get(usage, "completion_tokens", _get(usage, "output_tokens")),
    }
    extra = {
        "response_id": _get(completion, "id"),
        "finish_reason": _get(choices[0], "finish_reason") if choices else None,
    }
    fields["metadata"] = {k: v for k, v in extra.items() if v is not None}
    return fields


class OpenAIHelpers:
    """Mixed into the clients; needs only their `log()`."""

    def log(self, *args: Any, **kwargs: Any) -> str:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def log_openai_chat(
        self,
        messages: Sequence[Any] | None,
        completion: Any,
        *,
        latency_ms: float | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        provider: str = "openai",
        model: str | None = None,
    ) -> str:
        """Log one chat call: input = last user message, output = first choice, usage as token counts."""
        fields = completion_fields(completion)
        merged = {**fields.pop("metadata"), **(metadata or {})}
        return self.log(
            last_user_message(messages),
            completion_text(completion),
            session_id=session_id,
            user_id=user_id,
            metadata=merged,
            model=fields["model"] or model,
            provider=provider,
            latency_ms=latency_ms,
            token_count_input=fields["token_count_input"],
            token_count_output=fields["token_count_output"],
            tags=tags,
        )


class _Proxy:
    """Delegates everything to `target` except the names in `overrides`."""

    def __init__(self, target: Any, overrides: Mapping[str, Any]) -> None:
        self._target = target
        self._overrides = dict(overrides)

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._target, name)


def wrap_openai(
    openai_client: Any,
    phosphobs_client: OpenAIHelpers,
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Sequence[str] | None = None,
    provider: str = "openai",
) -> Any:
    """An OpenAI (or AsyncOpenAI) client whose `chat.completions.create` logs each non-streaming call.

    Streaming calls pass through unlogged. Session and user default to the surrounding `session()`.
    """
    completions = openai_client.chat.completions
    create = completions.create

    def record(kwargs: Mapping[str, Any], result: Any, started: float) -> None:
        with contextlib.suppress(Exception):  # telemetry must never break the call it observes
            phosphobs_client.log_openai_chat(
                kwargs.get("messages"), result, latency_ms=round((time.perf_counter() - started) * 1000, 3),
                session_id=session_id, user_id=user_id, tags=tags, provider=provider, model=kwargs.get("model"),
            )

    @functools.wraps(create)
    def logged_create(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = create(*args, **kwargs)
        if kwargs.get("stream"):
            return result
        if inspect.isawaitable(result):  # AsyncOpenAI: `create` is a plain function returning a coroutine

            async def finish() -> Any:
                value = await result
                record(kwargs, value, started)
                return value

            return finish()
        record(kwargs, result, started)
        return result

    wrapped_completions = _Proxy(completions, {"create": logged_create})
    wrapped_chat = _Proxy(openai_client.chat, {"completions": wrapped_completions})
    return _Proxy(openai_client, {"chat": wrapped_chat})

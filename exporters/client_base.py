"""What the thread and asyncio clients share: settings, `log()`, `feedback()`, counters.

`log()` only builds a dict and appends it to the outbox, so it is safe to call on any hot path, from
any thread, while the server is down. It never raises.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from phosphobs.exporters.events import build_event, build_feedback, new_event_id
from phosphobs.exporters.openai_capture import OpenAIHelpers
from phosphobs.exporters.outbox import DeliveryStats, Kind, Outbox
from phosphobs.exporters.retry import RetryPolicy
from phosphobs.exporters.session_context import current_session

_log = logging.getLogger("phosphobs.exporters")

DEFAULT_BASE_URL = "http://localhost:4318"
FLAGS = ("success", "failure")


def resolve_base_url(base_url: str | None, env: Mapping[str, str]) -> str:
    return (base_url or env.get("PHOSPHOBS_ENDPOINT") or DEFAULT_BASE_URL).rstrip("/")


class ClientBase(OpenAIHelpers):
    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_queue: int = 10_000,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.api_key = api_key or env.get("PHOSPHOBS_API_KEY")
        self.base_url = resolve_base_url(base_url, env)
        self.batch_size = min(max(1, batch_size), 100)  # the API's batch limit
        self.flush_interval = max(0.0, flush_interval)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._outbox = Outbox(max_queue, self.batch_size)
        self._warned: set[str] = set()
        self._warn_lock = threading.Lock()
        if not self.api_key:
            self._warn("no-key", "phosphobs: no API key (api_key= or PHOSPHOBS_API_KEY); the server will answer 401")

    # -- the app's side ----------------------------------------------------------------------------
    def log(
        self,
        input: Any,
        output: Any,
        session_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        timestamp: datetime | float | str | None = None,
        event_id: str | uuid.UUID | None = None,
        *,
        model: str | None = None,
        provider: str | None = None,
        latency_ms: float | None = None,
        token_count_input: int | None = None,
        token_count_output: int | None = None,
        cost_cents: float | None = None,
        tags: Sequence[str] | None = None,
    ) -> str:
        """Queue one interaction and return its event_id at once; delivery happens in the background.

        Inside `with session(...)`, the session and user default to that block's.
        """
        event_id = new_event_id(event_id)
        try:
            current = current_session()
            if current is not None:
                session_id = session_id if session_id is not None else current.session_id
                user_id = user_id if user_id is not None else current.user_id
            known = {"model": model, "provider": provider, "latency_ms": latency_ms, "token_count_input":
                     token_count_input, "token_count_output": token_count_output, "cost_cents": cost_cents,
                     "tags": list(tags) if tags is not None else None}
            event = build_event(input, output, event_id=event_id, session_id=session_id, user_id=user_id,
                                metadata=metadata, timestamp=timestamp, known=known)
        except Exception as exc:  # a telemetry bug must not become the app's exception
            self._outbox.record(failed=1)
            self._warn("build", f"phosphobs: could not build an event: {exc!r}")
            return event_id
        self._enqueue("event", event)
        return event_id

    def feedback(self, event_id: str | uuid.UUID, flag: str, comment: str | None = None, source: str = "user") -> None:
        """Queue a success/failure flag for an event (it may be sent before the event itself: that is fine)."""
        if flag not in FLAGS:
            self._outbox.record(failed=1)
            self._warn("flag", f"phosphobs: feedback flag must be one of {FLAGS}, not {flag!r}; not sent")
            return
        self._enqueue("feedback", build_feedback(str(event_id), flag, comment, source))

    def _enqueue(self, kind: Kind, body: dict[str, Any]) -> None:
        self._before_enqueue()
        if not self._outbox.put(kind, body):
            closed = self._outbox.closed
            reason = "the client is shut down" if closed else f"the queue is full ({self._outbox.capacity})"
            self._warn(f"drop-{self._outbox.closed}", f"phosphobs: dropping {kind}s because {reason}")
            return
        self._after_enqueue()

    # -- hooks for the concrete clients ------------------------------------------------------------------
    def _before_enqueue(self) -> None:
        """Start the sender if needed."""

    def _after_enqueue(self) -> None:
        """Wake the sender if needed."""

    # -- introspection -------------------------------------------------------------------------------------
    @property
    def stats(self) -> DeliveryStats:
        return self._outbox.stats()

    @property
    def pending(self) -> int:
        """Items queued or being sent."""
        return self._outbox.pending

    def _warn(self, key: str, message: str) -> None:
        """Each kind of problem is logged once per client: a dead server must not flood the app's logs."""
        with self._warn_lock:
            if key in self._warned:
                return
            self._warned.add(key)
        _log.warning(message)

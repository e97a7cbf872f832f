"""`with session("s-1", user_id="u-42"):` — the current session and user, for spans and native events alike.

Held in a ContextVar, so each thread and each asyncio task sees its own value, and in OTel baggage, so
services downstream (with the default W3C baggage propagator) can see it too.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from opentelemetry import baggage
from opentelemetry import context as otel_context

BAGGAGE_SESSION = "session.id"
BAGGAGE_USER = "user.id"

# Where our collector and the common instrumentations look for the session and the user.
SESSION_ATTRIBUTES = (
    "session.id",
    "gen_ai.conversation.id",
    "langfuse.session.id",
    "traceloop.association.properties.session_id",
)
USER_ATTRIBUTES = ("user.id", "langfuse.user.id", "traceloop.association.properties.user_id")


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str | None = None
    user_id: str | None = None

    def span_attributes(self) -> dict[str, str]:
        attributes: dict[str, str] = {}
        if self.session_id:
            attributes.update(dict.fromkeys(SESSION_ATTRIBUTES, self.session_id))
        if self.user_id:
            attributes.update(dict.fromkeys(USER_ATTRIBUTES, self.user_id))
        return attributes


_current: ContextVar[SessionInfo | None] = ContextVar("phosphobs_session", default=None)


def current_session() -> SessionInfo | None:
    """The innermost active `session()`, or None outside any."""
    return _current.get()


def session_from_baggage(ctx: otel_context.Context | None = None) -> SessionInfo | None:
    """A session propagated from an upstream service via W3C baggage."""
    session_id = baggage.get_baggage(BAGGAGE_SESSION, ctx)
    user_id = baggage.get_baggage(BAGGAGE_USER, ctx)
    if session_id is None and user_id is None:
        return None
    return SessionInfo(str(session_id) if session_id else None, str(user_id) if user_id else None)


class session:  # lower case: it is used like a function, `with session(...)`
    """Context manager (sync and async) marking everything inside as one session of one user.

    A nested block inherits the outer user when it names none. `propagate=False` keeps the ids out of
    OTel baggage, which instrumented HTTP clients would otherwise send to every downstream host.
    """

    def __init__(self, session_id: str | None = None, *, user_id: str | None = None, propagate: bool = True) -> None:
        self.session_id = None if session_id is None else str(session_id)
        self.user_id = None if user_id is None else str(user_id)
        self.propagate = propagate
        self._token: Token[SessionInfo | None] | None = None
        self._otel_token: Any = None

    def __enter__(self) -> SessionInfo:
        outer = _current.get()
        info = SessionInfo(
            self.session_id if self.session_id is not None else (outer.session_id if outer else None),
            self.user_id if self.user_id is not None else (outer.user_id if outer else None),
        )
        self._token = _current.set(info)
        if self.propagate:
            ctx = otel_context.get_current()
            if info.session_id:
                ctx = baggage.set_baggage(BAGGAGE_SESSION, info.session_id, ctx)
            if info.user_id:
                ctx = baggage.set_baggage(BAGGAGE_USER, info.user_id, ctx)
            self._otel_token = otel_context.attach(ctx)
        return info

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._otel_token is not None:
            otel_context.detach(self._otel_token)
            self._otel_token = None
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    async def __aenter__(self) -> SessionInfo:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

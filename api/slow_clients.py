"""Slow and vanishing clients: deadlines for request headers and bodies, one log line per disconnect.

uvicorn closes idle keep-alive connections but has no deadline for a request's headers or body, so a
client trickling bytes holds a connection (and a body buffer) forever. Headers get a deadline in the
HTTP protocol (`protocol_class`), bodies in an ASGI middleware (`BodyDeadline`, which answers 408).
A client that goes away mid-request is logged on one line instead of a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("phosphobs.http")

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # pragma: no cover - httptools ships with uvicorn[standard]
    from uvicorn.protocols.http.h11_impl import H11Protocol as _BaseProtocol  # type: ignore[assignment]


def _peer(client: Any) -> str:
    return f"{client[0]}:{client[1]}" if client else "unknown client"


class _HeaderDeadlineProtocol(_BaseProtocol):
    """Closes a connection whose next request's headers are not complete `header_timeout` seconds after
    the connection opened or the request's first byte arrived."""

    header_timeout = 15.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._between_requests():
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is None or cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self._between_requests() and not self.transport.is_closing():
            log.info("closed connection from %s: no complete request headers within %g s",
                     _peer(self.client), self.header_timeout)
            self.transport.close()


def protocol_class(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with a deadline for request headers (pass as `http=`)."""
    return type("HeaderDeadlineProtocol", (_HeaderDeadlineProtocol,), {"header_timeout": header_timeout})


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


class BodyDeadline:
    """Pure ASGI middleware: the whole request body must arrive within `timeout` seconds of the request
    (408 and the connection closed otherwise); a client gone mid-request costs one log line."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        state = {"body_done": False, "started": False}

        async def timed_receive() -> Message:
            if state["body_done"]:
                return await receive()  # after the body: only the disconnect, whenever it comes
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        where = f"{scope.get('method', '')} {scope.get('path', '')} from {_peer(scope.get('client'))}"
        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTimeout:
            log.info("request body not complete within %g s: %s; answered 408", self.timeout, where)
            if not state["started"]:
                await _send_408(send, self.timeout)
        except ClientDisconnect:
            log.info("client disconnected before its request was read: %s", where)


async def _send_408(send: Send, timeout: float) -> None:
    body = (b'{"error":{"code":"request_timeout","message":"the request body did not arrive within '
            + f"{timeout:g}".encode() + b' s"}}')
    await send({"type": "http.response.start", "status": 408,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

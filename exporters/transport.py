"""Drivers that carry out delivery plans over HTTP: one blocking (sender thread, exit hook), one asyncio.

They turn every failure into a `Reply` so plans decide; nothing here raises into the sender loop.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
from phosphobs.exporters.delivery import Abandon, Plan, Reply, Send, Wait

_log = logging.getLogger("phosphobs.exporters")

USER_AGENT = "phosphobs-exporters/0.1"


def request_headers(api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def _reply(response: httpx.Response) -> Reply:
    return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content)


def _failure(exc: Exception) -> Reply:
    if isinstance(exc, httpx.TransportError):  # refused, reset, timed out: worth retrying
        return Reply(None, error=f"{type(exc).__name__}: {exc}")
    _log.warning("phosphobs: request failed unexpectedly: %r", exc)
    return Reply(0, error=f"{type(exc).__name__}: {exc}")  # status 0: permanent, never retried


class SyncTransport:
    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        self._timeout = timeout
        self._http = httpx.Client(base_url=base_url, headers=request_headers(api_key), timeout=timeout)

    def post(self, send: Send, timeout: float | None = None) -> Reply:
        try:
            return _reply(self._http.post(send.path, content=send.body, timeout=timeout or self._timeout))
        except Exception as exc:
            return _failure(exc)

    def run(self, plan: Plan, sleep: Callable[[float], bool], time_left: Callable[[], float | None]) -> None:
        """`sleep` returns False when the shutdown deadline cut it short; `time_left` bounds each request."""
        try:
            step = next(plan)
            while True:
                if isinstance(step, Send):
                    left = time_left()
                    step = plan.send(self.post(step, None if left is None else max(0.05, min(left, self._timeout))))
                elif isinstance(step, Wait) and not sleep(step.seconds):
                    step = plan.throw(Abandon())
                else:
                    step = plan.send(None)
        except StopIteration:
            pass

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        self._timeout = timeout
        self._http = httpx.AsyncClient(base_url=base_url, headers=request_headers(api_key), timeout=timeout)

    async def post(self, send: Send) -> Reply:
        try:
            return _reply(await self._http.post(send.path, content=send.body))
        except Exception as exc:
            return _failure(exc)

    async def run(self, plan: Plan, sleep: Callable[[float], Awaitable[bool]]) -> None:
        try:
            step = next(plan)
            while True:
                if isinstance(step, Send):
                    step = plan.send(await self.post(step))
                elif isinstance(step, Wait) and not await sleep(step.seconds):
                    step = plan.throw(Abandon())
                else:
                    step = plan.send(None)
        except StopIteration:
            pass

    async def aclose(self) -> None:
        await self._http.aclose()

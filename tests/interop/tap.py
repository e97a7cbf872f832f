"""A recording OTLP/HTTP proxy in front of a real phosphobs server.

Apps export to the tap; it keeps every request body exactly as it came (with its content type and encoding)
and forwards it unchanged, answering with the server's own response. The recordings become the captures
that the fast suite replays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx

from tests.interop.http_body import read_body
from tests.support.loopback import LoopbackServer, QuietHandler

# The Langfuse SDKs post to the same receiver under /api/public/otel.
SIGNALS = {f"{prefix}/v1/{signal}": signal for prefix in ("", "/api/public/otel")
           for signal in ("traces", "logs", "metrics")}
FORWARDED_HEADERS = ("content-type", "content-encoding", "authorization")


@dataclass(frozen=True)
class Recorded:
    """One export request as the library sent it, and the status the server gave it."""

    seq: int
    signal: str
    body: bytes
    content_type: str
    content_encoding: str | None
    user_agent: str | None
    status: int


class _Handler(QuietHandler):
    tap: OtlpTap
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = read_body(self)
        path = self.path.split("?")[0]
        headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers.get(name)}
        response = self.tap.client.post(self.tap.target + path, content=body, headers=headers)
        signal = SIGNALS.get(path)
        if signal is not None:
            self.tap.record(signal, body, self.headers, response.status_code)
        retry = {"retry-after": response.headers["retry-after"]} if response.headers.get("retry-after") else None
        self.reply(response.status_code, response.headers.get("content-type"), response.content, retry)

    def do_GET(self) -> None:
        """Passed through, not recorded (a Langfuse SDK's `auth_check()` reads its project)."""
        headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers.get(name)}
        response = self.tap.client.get(self.tap.target + self.path, headers=headers)
        self.reply(response.status_code, response.headers.get("content-type"), response.content, None)


class OtlpTap(LoopbackServer):
    """`with OtlpTap(server_url) as tap:` listens on a free loopback port; `tap.recorded` in arrival order."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.client = httpx.Client(timeout=60)
        self.recorded: list[Recorded] = []
        self.lock = threading.Lock()
        super().__init__(type("Handler", (_Handler,), {"tap": self}))

    def record(self, signal: str, body: bytes, headers: Any, status: int) -> None:
        with self.lock:
            self.recorded.append(Recorded(len(self.recorded) + 1, signal, body,
                                          headers.get("content-type", ""), headers.get("content-encoding"),
                                          headers.get("user-agent"), status))

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.client.close()

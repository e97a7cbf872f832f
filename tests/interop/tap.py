"""A recording OTLP/HTTP proxy in front of a real phosphobs server.

Apps export to the tap; it keeps every request body exactly as it came (with its content type and encoding)
and forwards it unchanged, answering with the server's own response. The recordings become the captures
that the fast suite replays.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.interop.http_body import read_body

SIGNALS = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
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


class _Handler(BaseHTTPRequestHandler):
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
        self.send_response(response.status_code)
        for name in ("content-type", "retry-after"):
            if response.headers.get(name):
                self.send_header(name, response.headers[name])
        self.send_header("content-length", str(len(response.content)))
        self.end_headers()
        self.wfile.write(response.content)

    def log_message(self, *args: Any) -> None:
        pass


class OtlpTap:
    """`with OtlpTap(server_url) as tap:` listens on a free loopback port; `tap.recorded` in arrival order."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.client = httpx.Client(timeout=60)
        self.recorded: list[Recorded] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"tap": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, signal: str, body: bytes, headers: Any, status: int) -> None:
        with self.lock:
            self.recorded.append(Recorded(len(self.recorded) + 1, signal, body,
                                          headers.get("content-type", ""), headers.get("content-encoding"),
                                          headers.get("user-agent"), status))

    def __enter__(self) -> OtlpTap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()

"""Real things for the client tests: the `phosphobs serve` process (tests/support), a fault-injecting
proxy in front of it, and an OTLP sink that records what exporters put on the wire."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.exporters.live import Backend
from tests.support.polling import wait_until
from tests.support.server import ServerProcess, free_port


@pytest.fixture
def backend(api: Any) -> Backend:
    """The shared server, through a fresh project of this test's own (no rate limit)."""
    return Backend(api.base_url, api.key)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server this test may kill and restart (same port, same data), with OTLP/gRPC on."""
    process = ServerProcess(tmp_path, grpc_port=free_port()).start()
    wait_until(lambda: process.api_key, 10.0)
    yield process
    process.stop()


@pytest.fixture
def session_id() -> str:
    return f"s-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dead_end() -> str:
    """A URL where nothing listens: the server is down."""
    return f"http://127.0.0.1:{free_port()}"


# -- small real HTTP servers ---------------------------------------------------------------------------------
class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: Any) -> None:
        handler_class = type("BoundHandler", (handler,), {"owner": owner})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    owner: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FaultProxy:
    """Forwards to the real server, except: the first `fail_first` requests get `fail_status` with
    `Retry-After`, and the next `lose_answers` requests are forwarded but their answer is never delivered."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fail_first = 0
        self.fail_status = 503
        self.retry_after: str | None = "0"
        self.lose_answers = 0
        self.log: list[tuple[str, str]] = []  # (path, what happened)
        self._lock = threading.Lock()
        self._server = _Server(_ProxyHandler, self)
        self.url = self._server.url

    def decide(self, path: str) -> str:
        with self._lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                action = "fail"
            elif self.lose_answers > 0:
                self.lose_answers -= 1
                action = "lose"
            else:
                action = "forward"
            self.log.append((path, action))
            return action

    def close(self) -> None:
        self._server.close()


class _ProxyHandler(_QuietHandler):
    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        proxy: FaultProxy = self.owner
        body = self.body()
        action = proxy.decide(self.path)
        if action == "fail":
            headers = {"content-type": "application/json"}
            if proxy.retry_after is not None:
                headers["retry-after"] = proxy.retry_after
            error = {"error": {"code": "injected", "message": "fault injected by the test proxy"}}
            self.answer(proxy.fail_status, json.dumps(error).encode(), headers)
            return
        forwarded = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
        response = httpx.request(method, proxy.upstream + self.path, content=body, headers=forwarded, timeout=30)
        if action == "lose":  # the server committed, the client never hears of it
            self.close_connection = True
            return
        keep = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "retry-after")}
        self.answer(response.status_code, response.content, keep)


@pytest.fixture
def fault_proxy(backend: Backend) -> Iterator[FaultProxy]:
    proxy = FaultProxy(backend.url)
    yield proxy
    proxy.close()


class OtlpSink:
    """Records OTLP/HTTP export requests (path, headers, decoded protobuf) and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self._server = _Server(_SinkHandler, self)
        self.url = self._server.url

    def spans(self) -> list[Any]:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        found = []
        for path, _, body in self.requests:
            if path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                found += [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
        return found

    def close(self) -> None:
        self._server.close()


class _SinkHandler(_QuietHandler):
    def do_POST(self) -> None:
        sink: OtlpSink = self.owner
        sink.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, self.body()))
        self.answer(200, b"", {"content-type": "application/x-protobuf"})


@pytest.fixture
def otlp_sink() -> Iterator[OtlpSink]:
    sink = OtlpSink()
    yield sink
    sink.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PHOSPHOBS_* / OTEL_* from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("PHOSPHOBS_", "OTEL_")):
            monkeypatch.delenv(name)


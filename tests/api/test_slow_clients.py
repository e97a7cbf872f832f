"""Slow and vanishing clients against a real server: request headers and bodies have deadlines, and each
abandoned request costs one log line, never a traceback."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import new_api_project
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PHOSPHOBS_HEADER_TIMEOUT_SECONDS": "1", "PHOSPHOBS_BODY_TIMEOUT_SECONDS": "1"}
    server = ServerProcess(tmp_path_factory.mktemp("slow"), env=env).start()
    yield server
    server.stop()


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket timeout fails the test)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def wait_for_log(server: ServerProcess, needle: str, count: int = 1) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = [line for line in server.output if needle in line]
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"no log line with {needle!r}:\n" + "".join(server.output[-40:]))


def test_trickled_headers_and_silent_connections_are_closed(strict_server: ServerProcess) -> None:
    silent = connect(strict_server)
    trickling = connect(strict_server)
    trickling.sendall(b"POST /api/ingest HTTP/1.1\r\nHost: x\r\n")
    assert read_all(trickling) == b""  # closed without an answer: there is no request to answer yet
    assert read_all(silent) == b""
    silent.close()
    trickling.close()
    assert len(wait_for_log(strict_server, "no complete request headers", 2)) >= 2
    assert httpx.get(strict_server.base_url + "/healthz").status_code == 200


def test_a_body_that_does_not_arrive_in_time_is_answered_408(strict_server: ServerProcess) -> None:
    api = new_api_project(strict_server)
    sock = connect(strict_server)
    sock.sendall(b"POST /api/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api.key.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"input\": ")
    answer = read_all(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"request_timeout" in answer
    wait_for_log(strict_server, "request body not complete")
    assert api.client.get("/api/events").json()["data"] == []


def test_a_client_gone_mid_body_costs_one_log_line_and_no_traceback(strict_server: ServerProcess) -> None:
    api = new_api_project(strict_server)
    before = len(strict_server.output)
    for _ in range(3):
        sock = connect(strict_server)
        sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + api.key.encode()
                     + b"\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5000\r\n\r\n" + b"\x0a" * 100)
        time.sleep(0.1)
        sock.close()
    lines = wait_for_log(strict_server, "client disconnected before its request was read", 3)
    assert len(lines) == 3
    time.sleep(1.5)  # past the body deadline: nothing more may be logged about these requests
    new = "".join(strict_server.output[before:])
    assert "Traceback" not in new and "Exception in ASGI application" not in new
    assert len([line for line in strict_server.output[before:] if line.strip()]) == 3, new

"""Dashboard forms under attack: login throttling, capped form bodies, odd CSRF tokens, Origin scheme."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_api_project
from tests.dashboards.conftest import admin_password
from tests.dashboards.test_web_auth import csrf_of, login
from tests.support.server import ServerProcess


def attempt(server: ServerProcess, username: str, password: str, source: str = "127.0.0.1") -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.base_url, timeout=30, transport=transport,
                      headers={"Origin": server.base_url}) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        return client.post("/login", data={"csrf": csrf, "username": username, "password": password})


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own: a lockout here must not lock the shared server's admin out."""
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def test_failed_logins_lock_the_address_and_the_username_even_for_the_right_password(
        own_server: ServerProcess) -> None:
    password = admin_password(own_server)
    for _ in range(4):
        assert attempt(own_server, "admin", "wrong-guess").status_code == 401
    locked = attempt(own_server, "admin", "wrong-guess")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "Too many failed logins" in locked.text
    right = attempt(own_server, "admin", password)
    assert right.status_code == 429 and "phosphobs_session" not in right.headers.get("set-cookie", "")
    # the username is locked from any address, the address for any username
    assert attempt(own_server, "admin", password, source="127.0.0.2").status_code == 429
    assert attempt(own_server, "someone-else", "x", source="127.0.0.1").status_code == 429
    assert attempt(own_server, "someone-else", "x", source="127.0.0.2").status_code == 401


def _post_chunked(server: ServerProcess, path: str, chunk: bytes, max_bytes: int) -> tuple[int, int]:
    """Streams a chunked form body until the server answers; returns (status, bytes sent)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        sent = 0
        sock.settimeout(0.0)
        while sent < max_bytes:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the server has answered
            except BlockingIOError:
                pass
            sock.settimeout(30)
            try:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            sock.settimeout(0.0)
        sock.settimeout(30)
        head = b""
        while b"\r\n" not in head:
            head += sock.recv(4096)
        return int(head.split(b" ", 2)[1]), sent


def test_login_body_is_capped_while_reading_not_after(server: ServerProcess) -> None:
    status, sent = _post_chunked(server, "/login", b"a" * 16384, max_bytes=64 * 1024 * 1024)
    assert status == 413
    assert sent < 8 * 1024 * 1024  # refused after the cap, long before the 64 MB the client would send
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:  # declares 200 MB, sends none
        sock.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {200 * 1024 * 1024}"
                     "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n".encode())
        assert sock.recv(4096).split(b" ", 2)[1] == b"413"


def test_every_form_refuses_a_non_ascii_csrf_token_with_403(server: ServerProcess) -> None:
    project = new_api_project(server)
    event_id = project.client.post("/api/ingest", json={"input": "q", "output": "a"}).json()["event_id"]
    client, _ = login(server, admin_password(server))
    settings = f"/p/{project.project.id}/settings"
    key_id = re.search(r"/settings/keys/([^/\"]+)/revoke", client.get(settings).text).group(1)
    forms = ["/logout", f"{settings}/keys", f"{settings}/keys/{key_id}/revoke", f"{settings}/plan",
             f"/p/{project.project.id}/events/{event_id}/feedback"]
    for path in forms:
        for token in ("é", "\u2603" * 40, "%ZZ"):
            response = client.post(path, content=f"csrf={httpx.QueryParams({'x': token})['x']}&flag=success"
                                                 "&name=n&plan=pro".encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert response.status_code == 403, (path, token, response.status_code)
    raw = client.post("/logout", content=b"csrf=%C3%A9", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert raw.status_code == 403
    login_page = httpx.Client(base_url=server.base_url, headers={"Origin": server.base_url})
    login_page.get("/login")
    assert login_page.post("/login", content=b"csrf=%C3%A9&username=admin&password=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 403
    assert client.get(settings).status_code == 200  # still logged in: nothing was logged out or changed


def test_origin_must_match_scheme_host_and_port(server: ServerProcess) -> None:
    project = new_api_project(server).project
    client, _ = login(server, admin_password(server))
    settings = f"/p/{project.id}/settings"
    other_scheme = server.base_url.replace("http://", "https://")
    for origin in (other_scheme, server.base_url + "0", "http://127.0.0.1", "ftp://127.0.0.1:" + str(server.port)):
        refused = client.post(f"{settings}/keys", data={"name": "cross", "csrf": csrf_of(client, settings)},
                              headers={"Origin": origin})
        assert refused.status_code == 403, origin
    assert "cross" not in client.get(settings).text

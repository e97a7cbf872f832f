"""Dashboard login, session cookie and CSRF, checked over plain HTTP against the real server."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

from tests.conftest import new_api_project
from tests.dashboards.conftest import admin_password
from tests.support.server import ServerProcess


def login(server: ServerProcess, password: str, next_url: str = "/") -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=server.base_url, timeout=30, headers={"Origin": server.base_url})
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"csrf": csrf, "username": "admin", "password": password, "next": next_url})
    return client, response


def csrf_of(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


@pytest.mark.parametrize("path", ["/", "/p/default/overview", "/p/default/sessions", "/p/default/settings"])
def test_every_page_redirects_to_login_without_a_session(server: ServerProcess, path: str) -> None:
    response = httpx.get(server.base_url + path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_wrong_password_is_refused_and_sets_no_session(server: ServerProcess) -> None:
    client, response = login(server, "not-the-password")
    assert response.status_code == 401 and "Wrong username or password" in response.text
    assert "phosphobs_session" not in client.cookies


def test_session_cookie_is_httponly_and_samesite_strict(server: ServerProcess) -> None:
    _, response = login(server, admin_password(server))
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "phosphobs_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_login_never_redirects_off_site(server: ServerProcess) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        _, response = login(server, admin_password(server), target)
        assert response.headers["location"] == "/"


def test_login_form_without_its_csrf_cookie_is_refused(server: ServerProcess) -> None:
    response = httpx.post(server.base_url + "/login", data={"csrf": "x", "username": "admin",
                                                            "password": admin_password(server)})
    assert response.status_code == 403 and "phosphobs_session" not in response.headers.get("set-cookie", "")


def test_state_changing_forms_need_the_session_csrf_token_and_same_origin(server: ServerProcess) -> None:
    project = new_api_project(server).project
    client, _ = login(server, admin_password(server))
    settings = f"/p/{project.id}/settings"
    forged = client.post(f"{settings}/keys", data={"name": "forged", "csrf": "wrong"})
    assert forged.status_code == 403
    cross_site = client.post(f"{settings}/keys", data={"name": "cross", "csrf": csrf_of(client, settings)},
                             headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    ok = client.post(f"{settings}/keys", data={"name": "legit", "csrf": csrf_of(client, settings)})
    assert ok.status_code == 200 and re.search(r'id="new-key">ph_', ok.text)
    assert "forged" not in client.get(settings).text and "cross" not in client.get(settings).text


def test_logout_ends_the_session_on_the_server(server: ServerProcess) -> None:
    client, _ = login(server, admin_password(server))
    cookie = client.cookies["phosphobs_session"]
    assert client.post("/logout", data={"csrf": csrf_of(client, "/p/default/overview")}).status_code == 303
    replay = httpx.get(server.base_url + "/p/default/overview", cookies={"phosphobs_session": cookie})
    assert replay.status_code == 303  # the old cookie no longer opens anything


def test_pages_carry_a_strict_content_security_policy(server: ServerProcess) -> None:
    client, _ = login(server, admin_password(server))
    for path in ("/p/default/overview", "/login", "/static/app.js"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and headers["x-content-type-options"] == "nosniff"


def test_password_set_by_the_cli_or_env_replaces_the_one_time_password(tmp_path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "admin", "set-password", "--password-stdin",
                    "--data-dir", str(data_dir)], input="chosen-by-cli\n", text=True, check=True, capture_output=True)
    first = ServerProcess(data_dir).start()
    try:
        assert not any("PHOSPHOBS_ADMIN_PASSWORD=" in line for line in first.output)  # nothing generated
        assert login(first, "chosen-by-cli")[1].status_code == 303
    finally:
        first.stop()
    second = ServerProcess(data_dir, env={"PHOSPHOBS_ADMIN_PASSWORD": "chosen-by-env"}).start()
    try:
        assert login(second, "chosen-by-env")[1].status_code == 303
        assert login(second, "chosen-by-cli")[1].status_code == 401
    finally:
        second.stop()

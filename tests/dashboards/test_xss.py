"""Event content is untrusted LLM output: on every page it renders as text and nothing of it executes."""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import new_api_project
from tests.dashboards.conftest import shot
from tests.support.server import ServerProcess

SCRIPT = "<script>window.__pwned = 'script'; alert('script')</script>"
IMG = "<img src=x onerror=\"window.__pwned = 'img'; alert('img')\">"
LINK = "<a href=\"javascript:window.__pwned='link'\" id=\"evil-link\">click me</a>"
SVG = "<svg onload=\"window.__pwned='svg'\"></svg>"
PAYLOAD = f"{SCRIPT} {IMG} {LINK} {SVG} javascript:alert(1) \"'><b onmouseover=alert(1)>x</b>"
CHAT = ('[{"role": "user", "content": "' + SCRIPT.replace('"', '\\"') + '"},'
        ' {"role": "assistant", "content": "' + IMG.replace('"', '\\"') + '"}]')


def test_script_img_and_javascript_payloads_render_as_text_and_never_run(page, server: ServerProcess) -> None:
    api = new_api_project(server)
    session_id = "xss-" + "<script>alert('sid')</script>"
    events = [
        {"input": PAYLOAD, "output": PAYLOAD, "session_id": session_id,
         "metadata": {"model": SCRIPT, "provider": IMG, "user_id": LINK, "tags": [SCRIPT, "javascript:alert(1)"],
                      "custom": {"html": PAYLOAD, "href": "javascript:alert(1)"}}},
        {"input": CHAT, "output": "x" * 700 + PAYLOAD, "session_id": session_id, "metadata": {"model": SCRIPT}},
    ]
    response = api.client.post("/api/ingest/batch", json={"events": events})
    assert response.status_code == 201, response.text
    event_id = response.json()["results"][0]["event_id"]

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = f"/p/{api.project.id}"
    pages = {
        "xss-session": f"{base}/sessions/{quote(session_id, safe='')}",
        "xss-event": f"{base}/events/{event_id}",
        "xss-events": f"{base}/events",
        "xss-sessions": f"{base}/sessions",
        "xss-users": f"{base}/users",
        "xss-overview": f"{base}/overview",
    }
    for name, path in pages.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        main = page.locator("main")
        page.mouse.move(10, 10)
        for element in main.locator("b, summary").all()[:20]:
            element.hover()  # would fire onmouseover payloads if any had become markup
        assert page.evaluate("window.__pwned") is None, name
        assert main.locator("img, svg:not(.chart):not(.bars), script, iframe, b").count() == 0, name
        assert main.locator("a[href^='javascript']").count() == 0, name
        assert page.locator("#evil-link").count() == 0, name
        shot(page, name)
        if name in ("xss-session", "xss-event"):
            text = main.inner_text()
            assert SCRIPT in text and IMG in text and "javascript:alert(1)" in text  # shown, as text
    assert dialogs == []

"""/docs renders every operation in a real browser with the network cut off (no CDN) under the strict CSP."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess


def test_swagger_ui_renders_offline(browser, server: ServerProcess) -> None:
    operations = sum(len(item) for item in httpx.get(server.base_url + "/openapi.json").json()["paths"].values())
    context = browser.new_context(base_url=server.base_url)
    outside: list[str] = []

    def only_local(route) -> None:
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.goto("/docs")
        tab.wait_for_selector(".opblock")
        assert tab.locator(".opblock").count() == operations
        tab.locator(".opblock-summary", has_text="/api/ingest/batch").first.click()
        tab.wait_for_selector(".opblock-body .body-param, .opblock-body .request-body, .opblock-section-request-body")
        assert outside == [] and errors == []
    finally:
        context.close()

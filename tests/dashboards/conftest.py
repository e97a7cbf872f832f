"""Browser fixtures: the system's Chromium driven by Playwright, logged in with the first-start password."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.conftest import (  # the dashboard's storage reads run on every backend (`--db`)
    empty_storage,
    postgres_url,
    project,
    pytest_generate_tests,
    storage,
)
from tests.support.server import ServerProcess

__all__ = ["empty_storage", "postgres_url", "project", "pytest_generate_tests", "storage"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"


def admin_password(server: ServerProcess) -> str:
    """The one-time password `phosphobs serve` printed on first start."""
    for line in server.output:
        found = re.search(r"PHOSPHOBS_ADMIN_PASSWORD=(\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the server printed no one-time admin password:\n" + "".join(server.output))


@pytest.fixture(scope="module")  # not session: a live sync Playwright owns the thread's event loop
def browser():
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server: ServerProcess) -> Iterator:
    """A fresh browser context (no cookies) that has logged in through the login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.base_url)
    tab = context.new_page()
    tab.goto("/")
    assert "/login" in tab.url
    tab.fill("input[name=username]", "admin")
    tab.fill("input[name=password]", admin_password(server))
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r".*/p/[^/]+/overview"))
    yield tab
    context.close()


def shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


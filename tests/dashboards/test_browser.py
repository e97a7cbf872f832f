"""The dashboard in real headless Chromium: keys, ingestion, sessions, timeline, feedback, revocation."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import new_api_project
from tests.dashboards.conftest import shot
from tests.support.server import ServerProcess


def ingest(base_url: str, key: str, body: dict) -> httpx.Response:
    return httpx.post(f"{base_url}/api/ingest", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_key_created_in_the_browser_ingests_then_stops_working_once_revoked(page, server: ServerProcess) -> None:
    project = new_api_project(server).project
    base = f"/p/{project.id}"

    # create a key: the full key is shown once, then only its prefix
    page.goto(f"{base}/settings")
    page.fill("input[name=name]", "browser-key")
    page.click("text=Create API key")
    key = page.inner_text("#new-key").strip()
    assert key.startswith("ph_")
    shot(page, "settings-new-key")
    page.goto(f"{base}/settings")
    assert key not in page.content()
    assert page.locator(f"tr[data-key-prefix='{key[:11]}']").count() == 1
    shot(page, "settings")

    # ingest a conversation (out of order) and an unrelated session through the public API with that key
    session_id = f"browser-{uuid.uuid4().hex[:8]}"
    turns = [("What is the capital of France?", "The capital of France is Paris."),
             ("And of Spain?", "Madrid is the capital of Spain."),
             ("Thanks!", "You're welcome.")]
    ids = [str(uuid.uuid4()) for _ in turns]
    start = datetime.now(UTC) - timedelta(minutes=10)
    for i in (2, 0, 1):
        response = ingest(server.base_url, key, {
            "event_id": ids[i], "input": turns[i][0], "output": turns[i][1], "session_id": session_id,
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
            "metadata": {"model": "gpt-4o", "provider": "openai", "user_id": "alice", "latency_ms": 800 + i,
                         "token_count_input": 10, "token_count_output": 20, "tags": ["geo"], "custom_key": "v1"}})
        assert response.status_code == 201, response.text
    assert ingest(server.base_url, key, {"input": "other", "output": "other", "session_id": "other-session",
                                         "metadata": {"user_id": "bob"}}).status_code == 201

    # find the session with a filter, open its timeline
    page.goto(f"{base}/sessions")
    page.fill("form.filters input[name=user]", "alice")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.sessions tbody tr[data-session-id]")
    assert rows.count() == 1 and rows.first.get_attribute("data-session-id") == session_id
    shot(page, "sessions-filtered")
    page.click(f"text={session_id}")
    page.wait_for_url(re.compile(f".*/sessions/{session_id}$"))
    cards = page.locator("article.event")
    assert cards.count() == 3
    for index, (question, answer) in enumerate(turns):
        card = cards.nth(index)
        assert card.get_attribute("data-event-id") == ids[index]
        assert question in card.locator(".turns").nth(0).inner_text()
        assert answer in card.locator(".turns").nth(1).inner_text()
    shot(page, "session-timeline")

    # mark the second answer a failure from the timeline
    cards.nth(1).locator("button[value=failure]").click()
    page.wait_for_url(re.compile(f".*/sessions/{session_id}#event-{ids[1]}$"))
    assert page.locator(f"#event-{ids[1]} .flag").inner_text().strip() == "failure"
    api = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert api.get(f"/api/events/{ids[1]}").json()["flag"] == "failure"
    assert api.get(f"/api/sessions/{session_id}").json()["failure_count"] == 1

    # events search, event detail with metadata and feedback, users, overview
    page.goto(f"{base}/events?q=Spain")
    assert page.locator("table.events tbody tr[data-event-id]").count() == 1
    shot(page, "events-search")
    page.click("table.events tbody tr[data-event-id] a >> nth=0")
    assert "dashboard:admin" in page.inner_text("main") and '"custom_key": "v1"' in page.inner_text("pre.json")
    page.fill("textarea[name=comment]", "good after all")
    page.click("main section.card button[value=success]")
    assert page.locator(f"#event-{ids[1]} .flag").inner_text().strip() == "success"
    assert "good after all" in page.inner_text("main")
    shot(page, "event-detail")
    page.goto(f"{base}/users")
    assert "alice" in page.inner_text("table.users") and "bob" in page.inner_text("table.users")
    shot(page, "users")
    page.goto(f"{base}/overview?range=90d")
    assert page.inner_text("#total-events").strip() == "4"
    shot(page, "overview")

    # revoke: ingestion with the key is refused from then on
    page.goto(f"{base}/settings")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr[data-key-prefix='{key[:11]}'] button", has_text="Revoke").click()
    page.wait_for_load_state()
    assert "revoked" in page.locator(f"tr[data-key-prefix='{key[:11]}']").inner_text()
    deadline = time.monotonic() + 15
    status = 0
    while time.monotonic() < deadline:
        status = ingest(server.base_url, key, {"input": "late", "output": "late"}).status_code
        if status == 401:
            break
        time.sleep(0.2)
    assert status == 401
    shot(page, "settings-revoked")

    # logout ends the session
    page.click("text=Log out")
    page.goto(f"{base}/overview")
    assert "/login" in page.url
    shot(page, "login")

"""The overview's quality card, the re-run action and the judge switch, in real headless Chromium."""

from __future__ import annotations

import uuid

from tests.api.detection.helpers import detected, wait_for
from tests.conftest import new_api_project
from tests.dashboards.conftest import shot
from tests.support.server import ServerProcess


def test_quality_card_disagreements_rerun_and_judge_switch(page, server: ServerProcess) -> None:
    api = new_api_project(server)
    marker = uuid.uuid4().hex
    refusal, fine = str(uuid.uuid4()), str(uuid.uuid4())
    for event_id, output in ((refusal, "I'm sorry, but I can't help with that."), (fine, "Paris.")):
        assert api.client.post("/api/ingest", json={"event_id": event_id, "input": f"q {marker}", "output": output,
                                                    "session_id": f"s-{marker}"}).status_code == 201
    wait_for(detected(api.client, refusal, "rules"), what="the rules verdict")
    wait_for(detected(api.client, fine, "rules"), what="the rules verdict")
    base = f"/p/{api.project.id}"
    page.goto(f"{base}/sessions/s-{marker}")
    # one failure found, the other answer unflagged: the rate says what it is over, not a bare "0%"
    assert page.inner_text("#success-rate").strip() == "0% (0 of 1 flagged)"
    # the human disagrees with the rules about the refusal
    assert api.client.post("/api/feedback", json={"event_id": refusal, "flag": "success"}).status_code in (200, 201)

    page.goto(f"{base}/overview?range=24h")
    row = page.locator("#agreement tr[data-detector=rules]").inner_text()
    assert "rules" in row and "0% (0 of 1 judged)" in row  # its one verdict: a failure
    assert "0%" in row  # agreement with the one human flag
    assert page.inner_text("#human-rate").strip() == "100% (1 of 1 flagged)"
    page.goto(f"{base}/sessions/s-{marker}")
    assert page.inner_text("#success-rate").strip() == "100% (1 of 1 flagged)"  # the human's flag wins
    page.goto(f"{base}/overview?range=24h")
    disagreement = page.inner_text("#disagreements")
    assert f"q {marker}" in disagreement and "failure" in disagreement and "success" in disagreement
    shot(page, "overview-quality")

    page.goto(f"{base}/events/{refusal}")
    assert page.inner_text("#final-flag") == "success" and page.inner_text("#flag-source") == "user"
    assert "refusal" in page.inner_text("#detection")

    page.goto(f"{base}/overview?range=24h")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#rerun")
    page.wait_for_load_state()
    assert "Re-run queued for 2 events" in page.inner_text("#quality")

    page.goto(f"{base}/settings")
    assert "<" not in page.title()  # the page title, no card markup pasted into it
    assert page.locator("#judge-toggle").count() == 1
    assert page.inner_text("#judge-state") == "on"
    page.click("#judge-toggle")
    page.wait_for_load_state()
    assert page.inner_text("#judge-state") == "off"
    api.client.close()

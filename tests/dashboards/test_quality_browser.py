"""The overview's quality card, the re-run action and the judge switch, in real headless Chromium."""

from __future__ import annotations

import uuid

import httpx
from phosphobs.storage.models import otlp_event_id

from tests.api.detection.helpers import detected, wait_for
from tests.collector.otlp_factories import make_span, new_trace_id, traces_request
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


def test_an_event_page_lists_its_evaluations_and_where_they_came_from(page, server: ServerProcess) -> None:
    """A Langfuse score of the whole trace, shown on the trace's final call beside the flag it set."""
    api = new_api_project(server)
    trace = new_trace_id()
    attrs = {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
             "langfuse.observation.input": "Capital of France?", "langfuse.observation.output": "Lyon."}
    span = make_span("generation", attrs, trace_id=trace)
    exported = httpx.post(api.base_url + "/v1/traces", content=traces_request([span]).SerializeToString(),
                          headers={"Authorization": f"Bearer {api.key}", "content-type": "application/x-protobuf"})
    assert exported.status_code == 200, exported.text
    scored = api.client.post("/api/public/scores", json=[{"traceId": trace.hex(), "name": "user-feedback",
                                                          "value": 0, "dataType": "BOOLEAN", "comment": "wrong"}])
    assert scored.status_code == 202, scored.text
    event_id = otlp_event_id(trace.hex(), span.span_id.hex())
    wait_for(lambda: api.client.get(f"/api/events/{event_id}").json().get("flag_source") == "otel",
             what="the score's flag")
    page.goto(f"/p/{api.project.id}/events/{event_id}")
    assert page.inner_text("#final-flag") == "failure" and page.inner_text("#flag-source") == "otel"
    row = page.inner_text("#evaluations tbody tr")
    assert "user-feedback" in row and "Langfuse score of the whole trace" in row and "wrong" in row
    shot(page, "event-evaluations")
    api.client.close()

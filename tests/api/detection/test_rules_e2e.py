"""The rules detector through a real server (no judge configured): errors, refusals, and a user's next
message that says the previous answer was wrong."""

from __future__ import annotations

import uuid

from tests.api.detection.helpers import detected, wait_for
from tests.conftest import ApiProject


def test_next_message_blames_the_previous_answer(api: ApiProject) -> None:
    session = f"s-{uuid.uuid4().hex}"
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    for event_id, text_in, text_out, second_of_minute in (
        (first, "What is the capital of Australia?", "Sydney.", 0),
        (second, "No, that's wrong. It is Canberra.", "You're right, it is Canberra.", 1),
        (third, "thanks!", "You're welcome.", 2),
    ):
        assert api.client.post("/api/ingest", json={
            "event_id": event_id, "input": text_in, "output": text_out, "session_id": session,
            "timestamp": f"2026-02-01T00:00:0{second_of_minute}Z"}).status_code == 201
    wait_for(detected(api.client, first, "rules"), what="the rules on the first answer")
    wait_for(detected(api.client, second, "rules"), what="the rules on the second answer")
    wait_for(detected(api.client, third, "rules"), what="the rules on the third answer")
    blamed = api.client.get(f"/api/events/{first}").json()
    [rules] = blamed["detections"]
    assert (rules["detector"], rules["flag"]) == ("rules", "failure")
    assert rules["reason"].startswith("the user's next message says it was wrong")
    assert (blamed["flag"], blamed["flag_source"], blamed["detected_flag"]) == ("failure", "detector", "failure")
    for event_id in (second, third):
        body = api.client.get(f"/api/events/{event_id}").json()
        assert body["flag"] is None and body["detections"][0]["flag"] is None  # the rules abstain
    session_body = api.client.get(f"/api/sessions/{session}").json()
    assert (session_body["success_rate"], session_body["failure_count"], session_body["success_rate_user"]) == (
        0.0, 1, None)

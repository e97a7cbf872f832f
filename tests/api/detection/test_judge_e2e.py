"""The judge through a real server and a real HTTP fake judge: verdicts land, the few-shot examples are
the project's own human-flagged events, failures are retried then recorded, the budget holds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.detection.helpers import detected, queue_empty, wait_for
from tests.conftest import ApiProject, new_api_project
from tests.support.fake_judge import FakeJudge
from tests.support.server import ServerProcess


def judge_env(judge: FakeJudge, **extra: str) -> dict[str, str]:
    return {"PHOSPHOBS_JUDGE_BASE_URL": judge.base_url, "PHOSPHOBS_JUDGE_MODEL": "judge-1",
            "PHOSPHOBS_JUDGE_API_KEY": "sk-judge", "PHOSPHOBS_DETECTION_SETTLE_SECONDS": "0",
            "PHOSPHOBS_KEY_CACHE_SECONDS": "1", **extra}


@pytest.fixture(scope="module")
def judge() -> Iterator[FakeJudge]:
    with FakeJudge(slow_seconds=60.0) as fake:  # far beyond the judge's timeout, even on a loaded machine
        yield fake


@pytest.fixture(scope="module")
def judged_server(judge: FakeJudge, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # A timeout well above scheduling noise on a busy 2-core CI box: a prompt answer must never time out.
    env = judge_env(judge, PHOSPHOBS_JUDGE_TIMEOUT_SECONDS="4", PHOSPHOBS_JUDGE_RETRIES="1",
                    PHOSPHOBS_JUDGE_MAX_PER_MINUTE="100000")
    proc = ServerProcess(tmp_path_factory.mktemp("judged"), env=env).start()
    yield proc
    proc.stop()


@pytest.fixture
def api(judged_server: ServerProcess) -> Iterator[ApiProject]:
    ap = new_api_project(judged_server)
    yield ap
    ap.client.close()


def ingest(api: ApiProject, text_in: str, text_out: str, **extra: object) -> str:
    event_id = str(uuid.uuid4())
    response = api.client.post("/api/ingest", json={"event_id": event_id, "input": text_in, "output": text_out,
                                                    **extra})
    assert response.status_code == 201
    return event_id


def test_judge_verdicts_land_with_usage_and_calibration_examples(api: ApiProject, judge: FakeJudge,
                                                                 judged_server: ServerProcess) -> None:
    marker = uuid.uuid4().hex
    liked = ingest(api, f"liked question {marker}", "a great answer")
    disliked = ingest(api, f"disliked question {marker}", "a BAD answer")
    for event_id, flag in ((liked, "success"), (disliked, "failure")):
        assert api.client.post("/api/feedback", json={"event_id": event_id, "flag": flag}).status_code in (200, 201)
    wait_for(queue_empty(api.client), what="the flagged events to be detected")

    target = ingest(api, f"what is 2+2? {marker}", "It is 4.", session_id=f"s-{marker}")
    body = wait_for(detected(api.client, target, "rules", "judge"), what="the judge's verdict")
    judged = next(d for d in body["detections"] if d["detector"] == "judge")
    assert (judged["flag"], judged["score"], judged["reason"]) == ("success", 0.9, "judged success")
    assert judged["version"] == "1:judge-1" and judged["usage"] == {"input_tokens": 50, "output_tokens": 12}
    assert (body["flag"], body["flag_source"], body["detected_flag"]) == ("success", "detector", "success")

    [request] = judge.calls_about(f"what is 2+2? {marker}")
    assert request["model"] == "judge-1" and request["response_format"] == {"type": "json_object"}
    assert request["_auth"] == "Bearer sk-judge"
    messages = request["messages"]
    assert messages[-1]["role"] == "user" and "It is 4." in messages[-1]["content"]
    examples = [m["content"] for m in messages[1:-1]]
    assert any(f"liked question {marker}" in m for m in examples)
    assert any(f"disliked question {marker}" in m for m in examples)
    verdicts = [json.loads(m["content"])["flag"] for m in messages[1:-1] if m["role"] == "assistant"]
    assert sorted(verdicts) == ["failure", "success"]

    # the human flags stay final; the detectors' opinions are shown beside them
    flagged = api.client.get(f"/api/events/{disliked}").json()
    assert (flagged["flag"], flagged["flag_source"], flagged["detected_flag"]) == ("failure", "user", "failure")

    metrics = httpx.get(api.base_url + "/metrics", headers=judged_server.metrics_headers).text  # for Prometheus
    assert "phosphobs_detection_queue_depth " in metrics and "phosphobs_detection_lag_seconds " in metrics
    assert 'phosphobs_detections_total{detector="judge",outcome="success"}' in metrics
    assert 'phosphobs_judge_tokens_total{type="input"}' in metrics


def test_fenced_json_and_failures_and_previous_turns(api: ApiProject, judge: FakeJudge) -> None:
    marker = uuid.uuid4().hex
    session = f"s-{marker}"
    first = ingest(api, f"first turn {marker}", "first answer", session_id=session,
                   timestamp="2026-01-01T00:00:00Z")
    fenced = ingest(api, f"second turn {marker}", "FENCED BAD answer", session_id=session,
                    timestamp="2026-01-01T00:00:01Z")
    body = wait_for(detected(api.client, fenced, "judge"), what="the fenced verdict")
    assert body["flag"] == "failure" and body["flag_source"] == "detector", body["detections"]
    [request] = judge.calls_about(f"second turn {marker}")
    assert f"first turn {marker}" in request["messages"][-1]["content"]  # the session's previous turns
    wait_for(detected(api.client, first, "judge"), what="the first turn")


def test_a_slow_or_garbage_judge_is_retried_then_recorded_as_an_error(api: ApiProject, judge: FakeJudge) -> None:
    marker = uuid.uuid4().hex
    slow = ingest(api, f"SLOW question {marker}", "an answer")
    garbage = ingest(api, f"GARBAGE question {marker}", "an answer")
    fine = ingest(api, f"fine question {marker}", "an answer")
    body = wait_for(detected(api.client, fine, "judge"))
    assert body["flag"] == "success", body["detections"]  # not blocked by the others
    for event_id, text, cause in ((slow, "SLOW", "timed out"), (garbage, "GARBAGE", "no JSON object")):
        body = wait_for(detected(api.client, event_id, "judge"), what=f"the {text} verdict")
        judged = next(d for d in body["detections"] if d["detector"] == "judge")
        assert judged["flag"] is None and "gave up after 2 attempts" in judged["error"] and cause in judged["error"]
        assert len(judge.calls_about(f"{text} question {marker}")) == 2  # first try + one retry
        assert body["flag"] is None  # no opinion from anyone


def test_a_project_with_the_judge_off_sends_nothing(api: ApiProject, judge: FakeJudge,
                                                    judged_server: ServerProcess) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "phosphobs.api.cli", "projects", "judge", api.project.name, "off",
                          "--data-dir", str(judged_server.data_dir)], capture_output=True, text=True, check=True)
    assert "judge off" in out.stdout
    marker = uuid.uuid4().hex
    event_id = ingest(api, f"private question {marker}", "I'm sorry, but I can't help with that.")
    body = wait_for(detected(api.client, event_id, "rules"), what="the rules verdict")
    wait_for(queue_empty(api.client), what="the queue to drain")
    assert [d["detector"] for d in body["detections"]] == ["rules"]
    assert (body["flag"], body["flag_source"]) == ("failure", "detector")
    assert judge.calls_about(marker) == []


def test_the_budget_holds(judge: FakeJudge, tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path, env=judge_env(judge, PHOSPHOBS_JUDGE_MAX_PER_MINUTE="3")).start()
    try:
        api = new_api_project(proc)
        marker = uuid.uuid4().hex
        ids = [ingest(api, f"budget {marker} {n}", "an answer") for n in range(6)]
        for event_id in ids:  # the rules verdict never waits for the judge's budget
            wait_for(detected(api.client, event_id, "rules"), what="rules verdicts")
        wait_for(lambda: len(judge.calls_about(f"budget {marker}")) >= 3, what="three judge calls")
        times = sorted(t for t, body in judge.requests if f"budget {marker}" in str(body["messages"][-1]))
        assert all(b - a >= 60.0 for a, b in zip(times, times[3:], strict=False))  # never 4 in one minute
        judged = [e for e in ids if any(d["detector"] == "judge"
                                        for d in api.client.get(f"/api/events/{e}").json()["detections"])]
        assert len(judged) == len(times)
        assert api.client.get("/api/quality").json()["queue"]["queued"] == 6 - len(judged)
        api.client.close()
    finally:
        proc.stop()


def test_sessions_rates_filters_quality_and_rerun(api: ApiProject, judge: FakeJudge) -> None:
    marker = uuid.uuid4().hex
    session = f"s-{marker}"
    good = ingest(api, f"good {marker}", "fine answer", session_id=session, timestamp="2026-01-01T00:00:00Z")
    bad = ingest(api, f"bad {marker}", "a BAD answer", session_id=session, timestamp="2026-01-01T00:00:01Z")
    for event_id in (good, bad):
        wait_for(detected(api.client, event_id, "judge"), what="the judge")
    # the human agrees about the good one and overrules the judge on the bad one
    for event_id in (good, bad):
        assert api.client.post("/api/feedback", json={"event_id": event_id, "flag": "success"}).status_code in (
            200, 201)
    other = f"o-{marker}"
    ingest(api, f"other {marker}", "another BAD answer", session_id=other, timestamp="2026-01-01T00:00:02Z")
    wait_for(queue_empty(api.client), what="the queue to drain")

    got = api.client.get(f"/api/sessions/{session}").json()
    assert (got["success_rate"], got["success_rate_user"]) == (1.0, 1.0)
    got = api.client.get(f"/api/sessions/{other}").json()
    assert (got["success_rate"], got["success_rate_user"]) == (0.0, None)
    listed = api.client.get("/api/sessions", params={"flag_source": "user"}).json()["data"]
    assert [s["session_id"] for s in listed] == [session]
    listed = api.client.get("/api/sessions", params={"detected_flag": "failure"}).json()["data"]
    assert sorted(s["session_id"] for s in listed) == sorted([session, other])
    events = api.client.get("/api/events", params={"flag_source": "detector"}).json()["data"]
    assert [e["input"] for e in events] == [f"other {marker}"]
    assert api.client.get("/api/events", params={"flag_source": "bogus"}).status_code == 422

    report = api.client.get("/api/quality", params={"from": "2026-01-01T00:00:00Z",
                                                    "to": "2026-01-02T00:00:00Z"}).json()
    [judged] = [d for d in report["detectors"] if d["detector"] == "judge"]
    assert (judged["events_judged"], judged["failures_found"], judged["human_flagged"]) == (3, 2, 2)
    assert (judged["agreement"], judged["precision"], judged["recall"]) == (0.5, 0.0, None)
    assert judged["counts"] == {"true_failure": 0, "false_failure": 1, "missed_failure": 0, "true_success": 1}
    assert report["human"] == {"flagged": 2, "success": 2, "success_rate": 1.0}
    [row] = api.client.get("/api/quality/disagreements", params={"from": "2026-01-01T00:00:00Z"}).json()["data"]
    assert (row["event_id"], row["detector_flag"], row["human_flag"]) == (bad, "failure", "success")
    assert api.client.get("/api/quality", params={"from": "2026-01-02T00:00:00Z",
                                                  "to": "2026-01-01T00:00:00Z"}).status_code == 422

    # re-run: the range is judged again, still one detection per detector version
    before = len(judge.calls_about(f"bad {marker}"))
    rerun = api.client.post("/api/detection/rerun", params={"from": "2026-01-01T00:00:01Z",
                                                            "to": "2026-01-01T00:00:02Z"})
    assert (rerun.status_code, rerun.json()) == (202, {"queued": 1})
    wait_for(lambda: len(judge.calls_about(f"bad {marker}")) == before + 1, what="the judge to be asked again")
    wait_for(queue_empty(api.client), what="the queue to drain")
    body = api.client.get(f"/api/events/{bad}").json()
    assert sorted(d["detector"] for d in body["detections"]) == ["judge", "rules"]

"""The quickstart's own curl and Python examples, run verbatim against a real server (URL and key swapped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ApiProject
from tests.support.fake_openai import FakeOpenAI

EXAMPLES = Path(__file__).parent / "seed_examples"
SEED_HOST = "https://co-phospho.nanocorp.app"


def run_example(name: str, api: ApiProject, tmp_path: Path, env: dict[str, str] | None = None,
                replace: dict[str, str] | None = None) -> str:
    text = (EXAMPLES / name).read_text().replace(SEED_HOST, api.base_url).replace("ph_your_api_key", api.key)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    script = tmp_path / name
    script.write_text(text)
    cmd = ["bash", str(script)] if name.endswith(".sh") else [sys.executable, str(script)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_curl_ingest_answers_201_with_the_event_id(api: ApiProject, tmp_path: Path) -> None:
    out = json.loads(run_example("ingest.sh", api, tmp_path))
    event = api.client.get(f"/api/events/{out['event_id']}").json()
    assert event["input"] == "What is the capital of France?"
    assert event["metadata"]["token_count_output"] == 18
    assert event["metadata"]["cost_source"] == "estimated"  # gpt-4 is priced from its tokens


def test_curl_batch_and_feedback(api: ApiProject, tmp_path: Path) -> None:
    out = json.loads(run_example("batch.sh", api, tmp_path))
    assert [r["status"] for r in out["results"]] == ["created", "created"]
    first = out["results"][0]["event_id"]
    feedback = json.loads(run_example("feedback.sh", api, tmp_path, replace={"the-event-uuid": first}))
    assert feedback["status"] == "recorded"
    event = api.client.get(f"/api/events/{first}").json()
    assert event["flag"] == "success"
    assert event["feedback"][0]["comment"] == "Great answer!"
    session = api.client.get("/api/sessions/session-abc").json()
    assert (session["event_count"], session["success_rate"]) == (2, 1.0)


def test_python_helper_batch_and_sessions(api: ApiProject, tmp_path: Path) -> None:
    assert "event_id" in run_example("helper.py", api, tmp_path)
    assert "results" in run_example("batch.py", api, tmp_path)
    session_id = run_example("sessions.py", api, tmp_path).strip()
    session = api.client.get(f"/api/sessions/{session_id}").json()
    assert [e["input"] for e in session["events"]] == [
        "What is machine learning?", "Can you give me a real-world example?"]
    assert (session["user_id"], session["tags"]) == ("user-42", ["education", "onboarding"])


def test_openai_chat_with_logging_example(api: ApiProject, tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        out = run_example("openai_example.py", api, tmp_path,
                          env={"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-test"})
    assert out.strip() == "Echo: Explain quantum computing in simple terms"
    [event] = api.client.get("/api/sessions/user-456-session").json()["events"]
    assert event["output"] == out.strip()
    assert event["metadata"]["provider"] == "openai"
    assert event["metadata"]["token_count_input"] == 15

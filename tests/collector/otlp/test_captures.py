"""Real captured payloads (see tests/interop/captures.py) against the fake provider's own log: one event per
call with its text, tokens and model; tool calls as output; tool results said readably. The captures are the
interop suite's (`tests/interop/captures/`, one copy; refresh them there)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phosphobs.collector.otlp.decode import decode_traces
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.models import Event

from tests.interop.captures import CAPTURES_DIR as CAPTURES
from tests.interop.libraries import BY_NAME
from tests.interop.truth import Truth

# captures whose content is all on spans (log-record content needs storage: tests/collector/receivers)
NAMES = sorted(p.name for p in CAPTURES.iterdir() if (p / "truth.json").is_file() and not any(p.glob("*_logs.bin")))


def events_of(name: str) -> tuple[dict[str, Any], list[Event]]:
    folder = CAPTURES / name
    events: list[Event] = []
    for body in sorted(folder.glob("*_traces.bin")):  # as sent: protobuf or JSON, maybe gzip (Langfuse's SDK)
        meta = json.loads(body.with_name(body.name.replace(".bin", ".meta.json")).read_text())
        request = decode_traces(body.read_bytes(), meta["content_type"], meta["content_encoding"], 64 << 20)
        batch = normalize_traces(request, now_us=0)
        assert batch.rejected == 0, batch.rejection_reasons
        events += batch.events
    return json.loads((folder / "truth.json").read_text()), events


def expected_input(call: dict[str, Any]) -> str:
    if call.get("tool_result") is not None:
        return call["tool_result"]  # said as `Tool result (name): …`, checked below
    return call["last_user_text"]


@pytest.mark.parametrize("name", NAMES)
def test_every_call_is_one_event_with_the_provider_s_facts(name: str, request: pytest.FixtureRequest) -> None:
    library = BY_NAME.get(name)
    if library is not None and library.open_splits_calls:
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"open: {library.open_issue}"))
    truth, events = events_of(name)
    calls = [e for e in events if e.kind == "llm"]
    real_calls = Truth.from_json(truth).real_calls()  # as the library could send them (its gaps)
    assert len(calls) == len(real_calls), [(e.input, e.output) for e in calls]
    for call in real_calls:
        found = [e for e in calls if expected_input(call) in e.input]
        if call.get("tool_result") is None:
            found = [e for e in found if e.input == call["last_user_text"]]
        if call["tool_calls"]:
            found = [e for e in found if call["tool_calls"][0]["name"] in e.output]
        elif call["status"] == 200:
            found = [e for e in found if e.output == call["output_text"] or "stream-output" in truth["gaps"]]
        assert len(found) == 1, (call["seq"], [(e.input, e.output) for e in calls])
        [event] = found
        if call["status"] != 200:
            assert (event.status, event.flag) == ("error", "failure")
            continue
        if not (call["stream"] and "stream-tokens" in truth["gaps"]):
            assert (event.tokens_in, event.tokens_out) == (call["input_tokens"], call["output_tokens"])
        assert event.model in (call["response_model"], call["request_model"])
        if call.get("tool_result") is not None:
            results = [m for m in event.metadata["input_messages"] if m.get("role") == "tool"]
            unlinked = bool(results) and not any(m.get("tool_call_id") or m.get("id") or m.get("name") for m in results)
            # named unless the result never says which call it answers (smolagents' observations do not)
            assert event.input.startswith("Tool result: " if unlinked else "Tool result (")
            texts = json.dumps(event.metadata["input_messages"])
            assert json.dumps(call["last_user_text"])[1:-1] in texts  # the question stays reachable
        for tool_call in call["tool_calls"]:
            assert event.output.startswith(f"{tool_call['name']}(")
            assert json.loads(event.output[len(tool_call["name"]) + 1 : -1]) == tool_call["arguments"]


AGENTS = ("pydantic-ai", "vercel-ai", "openai-agents", "strands-agents")


@pytest.mark.parametrize("name", [n for n in NAMES if n in AGENTS])
def test_agent_tool_events_carry_name_arguments_and_result(name: str) -> None:
    truth, events = events_of(name)
    [tool] = [e for e in events if e.kind == "tool"]
    [asked] = [c for c in truth["calls"] if c["tool_calls"]]
    [answered] = [c for c in truth["calls"] if c.get("tool_result") is not None]
    assert tool.metadata["tool"]["name"] == asked["tool_calls"][0]["name"]
    assert json.loads(tool.input) == asked["tool_calls"][0]["arguments"]
    assert tool.output == answered["tool_result"]

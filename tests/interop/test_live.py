"""The interop suite: each real library runs the scenario against the fake provider, exporting to a real server.

Only with `--interop` (installs the libraries on first use). Ground truth is the fake provider's log. Each run
is checked as it arrived, then replayed in reverse order into a fresh project and checked again;
`--refresh-captures` rewrites `captures/<library>/` from the run.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import new_api_project
from tests.exporters.live import Backend
from tests.interop.captures import Request, write_capture
from tests.interop.libraries import LIBRARIES, Library
from tests.interop.replay import replay, settled_problems
from tests.interop.runner import run_scenario
from tests.support.polling import wait_until
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.interop, pytest.mark.timeout(3600)]


@pytest.mark.parametrize("library", LIBRARIES, ids=[library.name for library in LIBRARIES])
def test_each_real_call_is_one_true_event(library: Library, server: ServerProcess,
                                          request: pytest.FixtureRequest) -> None:
    if library.open_issue:
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"open: {library.open_issue}"))
    live = new_api_project(server)
    outcome = run_scenario(library, server.base_url, live.key)
    if request.config.getoption("--refresh-captures"):
        write_capture(library.name, outcome.truth, outcome.recorded, outcome.versions)
    assert outcome.truth.real_calls(), "the driver made no call"
    found = settled_problems(server.base_url, live.key, outcome.truth)

    reverse = new_api_project(server)
    replay(server.base_url, reverse.key, [Request(r.signal, r.body, r.content_type, r.content_encoding)
                                          for r in reversed(outcome.recorded)])
    found_reversed = settled_problems(server.base_url, reverse.key, outcome.truth)
    assert not found and not found_reversed, "\n".join(
        ["as sent:", *found, "replayed in reverse order:", *found_reversed])



def _evaluated_call(server: ServerProcess, key: str, flag_source: str) -> dict[str, Any]:
    """The project's one event that has evaluations, once its flag comes from `flag_source`."""
    def evaluated() -> list[dict[str, Any]] | None:
        events = [e for e in Backend(server.base_url, key, timeout=30).events() if e.get("evaluations")]
        return events if events and events[0].get("flag_source") == flag_source else None

    [event] = wait_until(evaluated, 60, what=f"an evaluated call flagged by {flag_source}")
    return event


def test_a_langfuse_sdk_trace_score_reaches_the_trace_s_final_call(server: ServerProcess) -> None:
    """The Langfuse SDK's `score_current_trace` (its user-feedback guide) goes to `POST /api/public/scores`; the
    scenario's last call fails, so the thumbs-down lands on it, as an evaluation of the whole trace."""
    [library] = [library for library in LIBRARIES if library.name == "langfuse-openai"]
    live = new_api_project(server)
    run_scenario(library, server.base_url, live.key)
    event = _evaluated_call(server, live.key, "otel")
    assert [(v["name"], v["label"], v["source"], v["scope"]) for v in event["evaluations"]] == [
        ("user-feedback", "false", "langfuse", "trace")]
    assert event["flag"] == "failure" and "FAIL_PLEASE" in event["input"], event


def test_a_phoenix_client_annotation_of_the_app_span_reaches_the_turn_s_final_call(server: ServerProcess) -> None:
    """Phoenix's client posts a HUMAN annotation of the app's span around the turn (`/v1/span_annotations`); the
    span is no call, so the annotation is of the trace's final call (the failing one): the user's flag."""
    [library] = [library for library in LIBRARIES if library.name == "phoenix-openai"]
    live = new_api_project(server)
    run_scenario(library, server.base_url, live.key)
    event = _evaluated_call(server, live.key, "user")
    assert [(v["name"], v["label"], v["source"], v["scope"], v["human"]) for v in event["evaluations"]] == [
        ("user feedback", "thumbs-down", "phoenix", "trace", True)]
    assert event["flag"] == "failure" and "FAIL_PLEASE" in event["input"], event

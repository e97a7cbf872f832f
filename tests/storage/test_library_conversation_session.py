"""An app's own session beats an agent library's made-up `gen_ai.conversation.id` (pydantic-ai gives each run
a fresh UUID7 when the app passes none), whatever the arrival order; alone, the conversation id names the trace.
Real normalizer into real storage, both backends."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.models import otlp_event_id
from phosphobs.storage.protocol import IngestOp, Project, Storage

from tests.collector.otlp_factories import BASE_NS, make_span, traces_request

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 2}


def _store(storage: Storage, project: Project, requests: list) -> None:  # type: ignore[type-arg]
    for request in requests:
        batch = normalize_traces(request, now_us=0)
        storage.write([IngestOp(project.id, batch.events, None, trace_hints=batch.trace_hints)], 10**18)


def _sessions(storage: Storage, project: Project, spans: list) -> list[str | None]:  # type: ignore[type-arg]
    found = [storage.get_event(project.id, otlp_event_id(s.trace_id.hex(), s.span_id.hex())) for s in spans]
    return [event.session_id if event else None for event in found]


@pytest.mark.parametrize("app_first", [True, False], ids=["app-span-first", "agent-spans-first"])
def test_the_app_session_wins_over_a_library_conversation_id(storage: Storage, project: Project,
                                                             app_first: bool) -> None:
    app = make_span("conversation", {"session.id": "sess-app", "user.id": "u-1"}, start_ns=BASE_NS,
                    duration_ms=5000, kind=1)
    runs = [make_span("chat gpt-4o-mini", {**CHAT, "gen_ai.conversation.id": f"0197-run-{n}"}, parent=app,
                      start_ns=BASE_NS + (n + 1) * 1_000_000_000) for n in range(2)]
    requests = [traces_request([app]), traces_request(runs)]
    _store(storage, project, requests if app_first else list(reversed(requests)))
    assert _sessions(storage, project, runs) == ["sess-app", "sess-app"]


@pytest.mark.parametrize("reverse", [False, True])
def test_alone_the_conversation_id_is_the_session(storage: Storage, project: Project, reverse: bool) -> None:
    agent = make_span("invoke_agent", {"gen_ai.conversation.id": "conv-7"}, start_ns=BASE_NS, duration_ms=3000)
    chats = [make_span("chat gpt-4o-mini", {**CHAT, "gen_ai.conversation.id": "conv-7"}, parent=agent,
                       start_ns=BASE_NS + (n + 1) * 1_000_000_000) for n in range(2)]
    requests = [traces_request([agent]), *(traces_request([c]) for c in chats)]
    _store(storage, project, list(reversed(requests)) if reverse else requests)
    assert _sessions(storage, project, chats) == ["conv-7", "conv-7"]


def test_an_app_session_on_the_span_itself_beats_its_conversation_id(storage: Storage, project: Project) -> None:
    chat = make_span("chat gpt-4o-mini", {**CHAT, "gen_ai.conversation.id": "conv-1", "session.id": "sess-own"})
    _store(storage, project, [traces_request([chat])])
    assert _sessions(storage, project, [chat]) == ["sess-own"]

"""The stored span tree is the exported GenAI tree, whatever the arrival order and request split."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.protocol import IngestOp, Project, Storage
from phosphobs.storage.trace_records import TraceQuery

from tests.support.agent_traces import BUILDERS, expected_tree, record, request_of
from tests.support.factories import BASE_US

NOW = BASE_US + 3_600_000_000


def send(storage: Storage, project: Project, spans: list[ReadableSpan]) -> None:
    batch = normalize_traces(request_of(spans), NOW)
    assert batch.rejected == 0
    [result] = storage.write([IngestOp(project.id, batch.events, None, patches=batch.patches,
                                       trace_hints=batch.trace_hints, spans=batch.spans)], NOW)
    assert result.ok, result.error


def arrivals(spans: list[ReadableSpan]) -> dict[str, list[list[ReadableSpan]]]:
    rng = random.Random(7)
    shuffled = spans[:]
    rng.shuffle(shuffled)
    return {
        "one request": [spans],
        "forward, one span a request": [[s] for s in spans],
        "reverse, one span a request (root first)": [[s] for s in reversed(spans)],
        "shuffled pairs": [shuffled[i : i + 2] for i in range(0, len(shuffled), 2)],
    }


def stored_tree(storage: Storage, project: Project, trace_id: str) -> dict[str, str | None]:
    trace = storage.get_trace(project.id, trace_id)
    assert trace is not None
    return {s.span_id: s.parent_span_id for s in trace.spans}


@pytest.mark.parametrize("convention", sorted(BUILDERS))
def test_stored_tree_equals_exported_tree_in_any_order(convention: str,
                                                       empty_storage: Callable[[], Storage]) -> None:
    spans = record(BUILDERS[convention])
    trace_id = f"{spans[0].context.trace_id:032x}"
    expected = expected_tree(spans)
    assert len(expected) < len(spans)  # some plain leaves are dropped
    for name, requests in arrivals(spans).items():
        storage = empty_storage()
        project = storage.create_project("p", "free", NOW)
        for request in requests:
            send(storage, project, request)
        assert stored_tree(storage, project, trace_id) == expected, name
        for request in requests:  # retries change nothing
            send(storage, project, request)
        assert stored_tree(storage, project, trace_id) == expected, f"{name}, retried"


def test_trace_facts_kinds_and_listing(storage: Storage, project: Project) -> None:
    spans = record(BUILDERS["semconv"], session="s-1")
    for span in reversed(spans):
        send(storage, project, [span])
    trace_id = f"{spans[0].context.trace_id:032x}"
    trace = storage.get_trace(project.id, trace_id)
    assert trace is not None and trace.session_id == "s-1"
    kinds = {s.name: s.kind for s in trace.spans}
    assert kinds == {"POST /chat": "other", "invoke_agent weather-bot": "agent", "chat gpt-4o": "llm",
                     "execute_tool get_weather": "tool"}
    agent = next(s for s in trace.spans if s.kind == "agent")
    assert agent.agent_name == "weather-bot" and agent.event_id is None
    tool = next(s for s in trace.spans if s.kind == "tool")
    assert tool.event is not None and tool.tool_name == "get_weather"
    assert [s.start_us for s in trace.spans] == sorted(s.start_us for s in trace.spans)
    assert storage.get_trace("another-project", trace_id) is None
    assert storage.session_traces(project.id, "s-1") == [trace_id]
    page = storage.list_traces(project.id, TraceQuery(session_id="s-1"))
    [row] = page.items
    assert (row.trace_id, row.root_name, row.span_count, row.llm_calls) == (trace_id, "POST /chat", 5, 2)
    assert (row.tokens_in, row.tokens_out, row.has_error) == (81, 18, False)
    assert storage.list_traces(project.id, TraceQuery(has_errors=True)).items == []


def test_listing_pages_never_repeat_or_skip_a_trace(storage: Storage, project: Project) -> None:
    ids = []
    for n in range(7):
        spans = record(BUILDERS["openinference" if n % 2 else "semconv"], session=f"s-{n}")
        send(storage, project, spans)
        ids.append(f"{spans[0].context.trace_id:032x}")
    seen: list[str] = []
    after = None
    while True:
        page = storage.list_traces(project.id, TraceQuery(limit=2, after=after))
        seen += [t.trace_id for t in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    errors = storage.list_traces(project.id, TraceQuery(has_errors=True)).items
    assert {t.trace_id for t in errors} == {ids[n] for n in range(7) if n % 2}  # the failing tool


def test_prune_removes_spans_with_their_events(storage: Storage, project: Project) -> None:
    spans = record(BUILDERS["semconv"])
    send(storage, project, spans)
    trace_id = f"{spans[0].context.trace_id:032x}"
    end_us = max(s.end_time for s in spans) // 1000
    storage.prune(end_us + 1)
    assert storage.get_trace(project.id, trace_id) is None


def test_plain_spans_no_genai_span_claims_expire(storage: Storage, project: Project) -> None:
    """A plain span stays pending (unserved) for an hour in case a GenAI descendant arrives, then goes."""
    from phosphobs.storage.models import SpanRecord
    from phosphobs.storage.sql.span_tree import PENDING_TTL_US

    def plain(trace: str, received_us: int) -> None:
        stub = SpanRecord(trace, "1" * 16, None, "GET /health", "other", NOW, NOW + 5, pending=True)
        [result] = storage.write([IngestOp(project.id, [], None, spans=[stub], received_us=received_us)], NOW)
        assert result.ok

    plain("b" * 32, NOW)
    assert storage.get_trace(project.id, "b" * 32) is None  # pending: never served
    late = SpanRecord("b" * 32, "2" * 16, "1" * 16, "invoke_agent", "agent", NOW + 1, NOW + 4)
    storage.write([IngestOp(project.id, [], None, spans=[late], received_us=NOW + 10)], NOW)
    trace = storage.get_trace(project.id, "b" * 32)
    assert trace is not None and {s.span_id for s in trace.spans} == {"1" * 16, "2" * 16}  # promoted
    plain("c" * 32, NOW)
    plain("d" * 32, NOW + PENDING_TTL_US + 1)  # its arrival expires the hour-old pending span of trace c
    storage.write([IngestOp(project.id, [], None, spans=[SpanRecord("c" * 32, "2" * 16, "1" * 16, "agent",
                                                                    "agent", NOW + 1, NOW + 4)])], NOW)
    trace = storage.get_trace(project.id, "c" * 32)
    assert trace is not None and [s.span_id for s in trace.spans] == ["2" * 16]  # its plain parent expired
    assert storage.get_trace(project.id, "b" * 32) is not None  # kept spans never expire

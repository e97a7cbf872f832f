"""Spans of one call and their content arriving in separate requests, in every order, on both backends."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from phosphobs.collector.otlp.normalize import normalize_logs, normalize_traces
from phosphobs.storage.models import Event
from phosphobs.storage.pricing import estimate_costs, price_cents
from phosphobs.storage.protocol import EventQuery, IngestOp, Project, Storage

from tests.collector.call_spans import (
    GOOGLE_GENAI_SCOPE,
    LIBRARY_SCOPE,
    LLAMA_INDEX_SCOPE,
    LOGFIRE_SCOPE,
    SDK_SCOPE,
    google_genai_span,
    library_span,
    llama_index_stream_span,
    logfire_request_span,
    logfire_stream_span,
    scoped_request,
    sdk_span,
    workflow,
)
from tests.collector.otlp_factories import BASE_NS, logs_request, make_log, make_span, traces_request

Request = ExportTraceServiceRequest | ExportLogsServiceRequest
NOW = BASE_NS // 1000 + 60_000_000


def send(storage: Storage, project: Project, requests: Sequence[Request]) -> None:
    """Each request as its own op, in its own commit, as the receivers hand them over."""
    for request in requests:
        if isinstance(request, ExportTraceServiceRequest):
            batch = normalize_traces(request, now_us=NOW)
        else:
            batch = normalize_logs(request, now_us=NOW)
        assert batch.rejected == 0, batch.rejection_reasons
        estimate_costs(batch.events)
        op = IngestOp(project.id, batch.events, None, patches=batch.patches, trace_hints=batch.trace_hints)
        [result] = storage.write([op], NOW)
        assert result.ok, result.error


def calls(storage: Storage, project: Project) -> list[Event]:
    return [s.event for s in storage.list_events(project.id, EventQuery(kind="llm", limit=100)).items]


def every_order(storage_factory, requests: Sequence[Request]):  # type: ignore[no-untyped-def]
    """(storage, project, events stored) for each arrival order of `requests`, each in a fresh store."""
    for order in itertools.permutations(range(len(requests))):
        storage = storage_factory()
        project = storage.create_project(f"p-{''.join(map(str, order))}", "free", NOW)
        send(storage, project, [requests[i] for i in order])
        yield order, storage, project, calls(storage, project)


def test_sibling_spans_in_separate_requests_are_one_event(empty_storage) -> None:  # type: ignore[no-untyped-def]
    parent = workflow(**{"traceloop.association.properties.user_id": "u-1"})
    requests = [scoped_request((SDK_SCOPE, [sdk_span(parent)])),
                scoped_request((LIBRARY_SCOPE, [library_span(parent)])), scoped_request((LIBRARY_SCOPE, [parent]))]
    for order, storage, project, events in every_order(empty_storage, requests):
        assert len(events) == 1, order
        [event] = events
        assert (event.input, event.output, event.tokens_in, event.tokens_out) == (
            "Capital of France?", "Paris.", 25, 9), order
        [stored] = storage.list_events(project.id, EventQuery(kind="llm")).items
        assert (stored.session_id, stored.user_id) == ("sess-1", "u-1"), order
        assert event.model == "claude-sonnet-4-5-20250929"
        assert event.cost_cents == pytest.approx(price_cents(event.model, "anthropic", 25, 9, event.timestamp_us))
        [session] = storage.list_sessions(project.id, _sessions()).items
        assert (session.event_count, session.tokens_in, session.tokens_out) == (1, 25, 9), order
        assert session.cost_cents == pytest.approx(event.cost_cents)


def test_distinct_calls_in_separate_requests_stay_apart(empty_storage) -> None:  # type: ignore[no-untyped-def]
    parent = workflow()
    requests = [scoped_request((SDK_SCOPE, [sdk_span(parent, response_id="msg_a")])),
                scoped_request((LIBRARY_SCOPE, [library_span(parent, response_id="msg_b", answer="Lima.")]))]
    for order, _, _, events in every_order(empty_storage, requests):
        assert sorted((e.output, e.tokens_out) for e in events) == [("", 9), ("Lima.", 10)], order


def test_split_stream_in_separate_requests_is_one_event(empty_storage) -> None:  # type: ignore[no-untyped-def]
    parent = workflow()
    request, stream = logfire_request_span(parent), logfire_stream_span(parent)
    requests = [scoped_request((LOGFIRE_SCOPE, [request])), scoped_request((LOGFIRE_SCOPE, [stream]))]
    for order, _, _, events in every_order(empty_storage, requests):
        assert [(e.input, e.output, e.tokens_in, e.tokens_out) for e in events] == [
            ("Capital of France?", "Paris.", 12, 3)], order
        assert events[0].latency_ms == pytest.approx(690), order


def test_a_framework_s_echo_of_a_streamed_call_in_separate_requests_is_one_event(empty_storage) -> None:  # type: ignore[no-untyped-def]
    """LlamaIndex's span of a streamed call ends before the client's span of it begins (see storage/calls.py)."""
    parent = workflow()
    requests = [scoped_request((LLAMA_INDEX_SCOPE, [llama_index_stream_span(parent)])),
                scoped_request((GOOGLE_GENAI_SCOPE, [google_genai_span(parent)])),
                scoped_request((LIBRARY_SCOPE, [parent]))]
    for order, storage, project, events in every_order(empty_storage, requests):
        assert [(e.output, e.tokens_in, e.tokens_out, e.model) for e in events] == [
            ("The Seine, the Loire and the Rhone.", 16, 7, "gemini-2.0-flash-001")], order
        [stored] = storage.list_events(project.id, EventQuery(kind="llm")).items
        assert stored.session_id == "sess-1", order
        [session] = storage.list_sessions(project.id, _sessions()).items
        assert (session.event_count, session.tokens_in) == (1, 16), order


def events_mode(parent_gets_choice: bool = True):  # type: ignore[no-untyped-def]
    """Traceloop in events mode: the streamed call's content only in log records, the choice keyed to the
    parent workflow span."""
    parent = workflow()
    llm = make_span("anthropic.chat", {
        "gen_ai.system": "Anthropic", "llm.request.type": "chat", "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 25, "gen_ai.usage.output_tokens": 9, "llm.is_streaming": True,
    }, parent=parent, start_ns=BASE_NS + 10_000_000, duration_ms=900)
    question = make_log(llm, "gen_ai.user.message", {"content": "Capital of France?"}, time_ns=BASE_NS + 11_000_000)
    choice = make_log(parent if parent_gets_choice else llm, "gen_ai.choice",
                      {"index": 0, "finish_reason": "end_turn", "message": {"content": "Paris."}},
                      time_ns=BASE_NS + 905_000_000)
    return parent, llm, question, choice


def test_stray_choice_on_the_workflow_span_lands_on_the_call_in_any_order(empty_storage) -> None:  # type: ignore[no-untyped-def]
    parent, llm, question, choice = events_mode()
    requests = [scoped_request((LIBRARY_SCOPE, [llm, parent])), logs_request([question]), logs_request([choice])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert [(e.input, e.output) for e in events] == [("Capital of France?", "Paris.")], order


def test_stray_choice_goes_to_the_call_that_lacks_it_not_to_a_complete_one(empty_storage) -> None:  # type: ignore[no-untyped-def]
    parent, llm, question, choice = events_mode()
    done = library_span(parent, response_id=None, question="Q0", answer="A0", start_ns=BASE_NS + 2_000_000_000)
    requests = [scoped_request((LIBRARY_SCOPE, [llm, parent, done])), logs_request([question, choice])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert sorted((e.input, e.output) for e in events) == [("Capital of France?", "Paris."), ("Q0", "A0")], order


def test_content_logged_for_a_merged_sibling_reaches_the_call(empty_storage) -> None:  # type: ignore[no-untyped-def]
    """Events mode beside the SDK's own span: the library's logs name the library's span, which is merged."""
    parent = workflow()
    sdk = sdk_span(parent, response_id=None)
    library = library_span(parent, response_id=None, question="", answer=None)
    library.ClearField("attributes")
    library.attributes.extend(make_span("x", {"gen_ai.system": "Anthropic", "llm.request.type": "chat",
                                               "gen_ai.request.model": "claude-sonnet-4-5",
                                               "gen_ai.usage.input_tokens": 25,
                                               "gen_ai.usage.output_tokens": 10}).attributes)
    question = make_log(library, "gen_ai.user.message", {"content": "Capital of France?"}, time_ns=BASE_NS + 1)
    choice = make_log(library, "gen_ai.choice", {"index": 0, "message": {"content": "Paris."}}, time_ns=BASE_NS + 2)
    requests = [scoped_request((SDK_SCOPE, [sdk])), scoped_request((LIBRARY_SCOPE, [library])),
                logs_request([question, choice])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert [(e.input, e.output, e.tokens_out) for e in events] == [("Capital of France?", "Paris.", 9)], order
    for order, _, _, events in every_order(empty_storage, [
            scoped_request((SDK_SCOPE, [sdk]), (LIBRARY_SCOPE, [library])), logs_request([question, choice])]):
        assert [(e.input, e.output, e.tokens_out) for e in events] == [("Capital of France?", "Paris.", 9)], order


def test_cost_is_estimated_again_when_a_log_record_brings_model_and_tokens(empty_storage) -> None:  # type: ignore[no-untyped-def]
    span = make_span("chat", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"})
    details = make_log(span, "gen_ai.client.inference.operation.details", attrs={
        "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 500,
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Hi"}]}]),
    })
    requests = [scoped_request((LIBRARY_SCOPE, [span])), logs_request([details])]
    for order, storage, project, events in every_order(empty_storage, requests):
        [event] = events
        expected = price_cents("gpt-4o-mini", "openai", 1000, 500, event.timestamp_us)
        assert expected is not None and event.cost_cents == pytest.approx(expected), order
        assert event.cost_source == "estimated"
        [bucket] = [b for b in storage.usage_series(project.id, 0, NOW * 2, 3_600_000_000) if b.events]
        assert bucket.cost_cents == pytest.approx(expected), order


def _sessions():  # type: ignore[no-untyped-def]
    from phosphobs.storage.protocol import SessionQuery

    return SessionQuery()


def test_root_spans_of_one_call_in_two_traces_and_requests_are_one_event(empty_storage) -> None:  # type: ignore[no-untyped-def]
    sdk, library = sdk_span(None), library_span(None)
    other = sdk_span(None, response_id="msg_other", tokens=(5, 5))
    requests = [scoped_request((SDK_SCOPE, [sdk, other])), scoped_request((LIBRARY_SCOPE, [library]))]
    for order, _, _, events in every_order(empty_storage, requests):
        assert sorted((e.output, e.tokens_in, e.tokens_out) for e in events) == [("", 5, 5), ("Paris.", 25, 9)], order


def nested_pair():  # type: ignore[no-untyped-def]
    """LangChain's span (OpenInference) around the OpenAI instrumentation's span of the same call."""
    chain = make_span("AgentExecutor", {"openinference.span.kind": "CHAIN", "session.id": "s-n"})
    outer = make_span("ChatOpenAI", {
        "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
        "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "Capital of Peru?",
        "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": "Lima.",
        "llm.token_count.prompt": 10, "llm.token_count.completion": 3}, parent=chain, duration_ms=500)
    inner = make_span("chat gpt-4o-mini", {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2}, parent=outer, start_ns=BASE_NS + 1_000_000, duration_ms=400)
    return chain, outer, inner


def test_nested_spans_of_one_call_exported_apart_are_one_event(empty_storage) -> None:  # type: ignore[no-untyped-def]
    chain, outer, inner = nested_pair()
    requests = [traces_request([inner]), traces_request([outer]), traces_request([chain])]
    for order, storage, project, events in every_order(empty_storage, requests):
        assert [(e.input, e.output, e.tokens_in, e.tokens_out) for e in events] == [
            ("Capital of Peru?", "Lima.", 10, 2)], order  # the inner span's numbers
        assert events[0].model == "gpt-4o-mini-2024-07-18"
        [stored] = storage.list_events(project.id, EventQuery(kind="llm")).items
        assert stored.session_id == "s-n", order


def test_an_outer_call_with_two_inner_calls_exported_apart_keeps_both(empty_storage) -> None:  # type: ignore[no-untyped-def]
    chain, outer, inner = nested_pair()
    retry = make_span("chat gpt-4o-mini", {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4}, parent=outer, start_ns=BASE_NS + 420_000_000, duration_ms=50)
    requests = [traces_request([inner]), traces_request([retry]), traces_request([outer, chain])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert sorted(e.tokens_out for e in events) == [2, 4], order  # two calls, the outer span counted in none


def test_a_root_call_span_with_a_response_id_takes_in_its_inner_span_exported_first(empty_storage) -> None:  # type: ignore[no-untyped-def]
    """LiteLLM streaming: `litellm_request` (a root, with the response id) over an empty `raw_gen_ai_request`."""
    outer = make_span("litellm_request", {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.id": "chatcmpl-3",
        "gen_ai.input.messages": '[{"role": "user", "content": "Name three rivers."}]',
        "gen_ai.output.messages": '[{"role": "assistant", "content": "Seine, Loire, Rhone."}]',
        "gen_ai.usage.input_tokens": 22, "gen_ai.usage.output_tokens": 8}, duration_ms=900)
    inner = make_span("raw_gen_ai_request", {}, parent=outer, start_ns=BASE_NS + 1_000_000, duration_ms=10)
    requests = [traces_request([inner]), traces_request([outer])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert [(e.input, e.output, e.tokens_out) for e in events] == [
            ("Name three rivers.", "Seine, Loire, Rhone.", 8)], order


def test_a_failed_agent_run_s_history_reaches_its_failed_call_exported_apart(empty_storage) -> None:  # type: ignore[no-untyped-def]
    history = '[{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}, {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}, {"role": "user", "parts": [{"type": "text", "content": "FAIL_PLEASE"}]}]'  # noqa: E501
    agent = make_span("invoke_agent geo", {"gen_ai.operation.name": "invoke_agent", "session.id": "s-a",
                                           "pydantic_ai.all_messages": history}, duration_ms=900, error="500")
    earlier = make_span("chat gpt-4o-mini", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                                             "gen_ai.input.messages": '[{"role": "user", "content": "Hi"}]'},
                        parent=agent, start_ns=BASE_NS + 1_000_000, duration_ms=100)
    failed = make_span("chat gpt-4o-mini", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"},
                       parent=agent, start_ns=BASE_NS + 200_000_000, duration_ms=100, error="ModelServerError")
    requests = [traces_request([earlier]), traces_request([failed]), traces_request([agent])]
    for order, _, _, events in every_order(empty_storage, requests):
        assert sorted((e.input, e.status) for e in events) == [("FAIL_PLEASE", "error"), ("Hi", "ok")], order

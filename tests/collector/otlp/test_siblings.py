"""Sibling spans of one provider call and split streams become one event, in any span order."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.models import Event

from tests.collector.call_spans import (
    GOOGLE_GENAI_SCOPE,
    LIBRARY_SCOPE,
    LLAMA_INDEX_SCOPE,
    LOGFIRE_SCOPE,
    MS,
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
from tests.collector.otlp_factories import BASE_NS

ORDERS = pytest.mark.parametrize("reverse", [False, True], ids=["sdk-first", "library-first"])


def calls(*groups) -> list[Event]:  # type: ignore[no-untyped-def]
    batch = normalize_traces(scoped_request(*groups), now_us=0)
    assert batch.rejected == 0, batch.rejection_reasons
    return [e for e in batch.events if e.kind == "llm"]


def both(parent, sdk, library, reverse: bool) -> list[Event]:  # type: ignore[no-untyped-def]
    groups = [(SDK_SCOPE, sdk), (LIBRARY_SCOPE, library)]
    return calls(*(reversed(groups) if reverse else groups))


@ORDERS
def test_sdk_and_library_siblings_with_one_response_id_are_one_event(reverse: bool) -> None:
    parent = workflow()
    sdk, library = sdk_span(parent), library_span(parent)
    [event] = both(parent, [sdk], [library], reverse)
    assert (event.input, event.output) == ("Capital of France?", "Paris.")  # text from the library's span
    assert (event.tokens_in, event.tokens_out) == (25, 9)  # numbers from the SDK's own span
    assert event.span_id == sdk.span_id.hex() and event.session_id == "sess-1"
    assert event.model == "claude-sonnet-4-5-20250929"
    assert event.latency_ms == pytest.approx(900)  # the SDK span's own timing
    assert [m["span_id"] for m in event.metadata["merged_spans"]] == [library.span_id.hex()]


@ORDERS
def test_siblings_without_response_ids_but_overlapping_are_one_event(reverse: bool) -> None:
    parent = workflow()
    sdk, library = sdk_span(parent, response_id=None), library_span(parent, response_id=None)
    [event] = both(parent, [sdk], [library], reverse)
    assert (event.output, event.tokens_out) == ("Paris.", 9)


def test_parallel_calls_with_different_response_ids_stay_two_events() -> None:
    parent = workflow()
    sdk_a, sdk_b = sdk_span(parent, response_id="msg_a"), sdk_span(parent, response_id="msg_b", tokens=(30, 4))
    lib_a = library_span(parent, response_id="msg_a", answer="Paris.")
    lib_b = library_span(parent, response_id="msg_b", question="Capital of Peru?", answer="Lima.", tokens=(30, 5))
    events = calls((SDK_SCOPE, [sdk_a, sdk_b]), (LIBRARY_SCOPE, [lib_b, lib_a]))
    assert sorted((e.output, e.tokens_out) for e in events) == [("Lima.", 4), ("Paris.", 9)]


def test_parallel_calls_without_ids_but_different_questions_stay_two_events() -> None:
    parent = workflow()
    a = library_span(parent, response_id=None, question="Capital of France?", answer=None)
    b = library_span(parent, response_id=None, question="Capital of Peru?", answer=None)
    assert len(calls((LIBRARY_SCOPE, [a, b]))) == 2


def test_two_calls_one_after_the_other_stay_two_events() -> None:
    parent = workflow()
    first = sdk_span(parent, response_id=None)
    second = sdk_span(parent, response_id=None, start_ns=BASE_NS + 2000 * MS)
    assert len(calls((SDK_SCOPE, [first, second]))) == 2


def test_a_failed_call_and_its_retry_stay_two_events() -> None:
    parent = workflow()
    failed = library_span(parent, response_id=None, answer=None, error="overloaded", duration_ms=300)
    retry = library_span(parent, response_id=None, start_ns=BASE_NS + 320 * MS)
    events = calls((LIBRARY_SCOPE, [failed, retry]))
    assert sorted(e.status for e in events) == ["error", "ok"]


def test_the_failed_call_reported_twice_is_one_failure_event() -> None:
    parent = workflow()
    sdk = sdk_span(parent, response_id=None, error="Internal Server Error")
    library = library_span(parent, response_id=None, answer=None, error="Internal Server Error")
    [event] = calls((SDK_SCOPE, [sdk]), (LIBRARY_SCOPE, [library]))
    assert (event.status, event.flag, event.input) == ("error", "failure", "Capital of France?")


def test_calls_under_different_parents_are_never_merged() -> None:
    one, two = workflow(), workflow()
    assert len(calls((SDK_SCOPE, [sdk_span(one)]), (LIBRARY_SCOPE, [library_span(two)]))) == 2


@ORDERS
def test_split_stream_request_and_streaming_response_spans_are_one_event(reverse: bool) -> None:
    parent = workflow()
    request, stream = logfire_request_span(parent), logfire_stream_span(parent)
    [event] = calls((LOGFIRE_SCOPE, [stream, request] if reverse else [request, stream]))
    assert (event.input, event.output, event.tokens_in, event.tokens_out) == ("Capital of France?", "Paris.", 12, 3)
    assert event.timestamp_us == request.start_time_unix_nano // 1000
    assert event.latency_ms == pytest.approx(690)  # request start to stream end


def test_two_streams_in_a_row_each_pair_with_their_own_response() -> None:
    parent = workflow()
    first = logfire_request_span(parent, question="Q1")
    first_out = logfire_stream_span(parent, question="Q1", answer="A1", start_ns=BASE_NS + 700 * MS)
    second = logfire_request_span(parent, question="Q2", start_ns=BASE_NS + 800 * MS)
    second_out = logfire_stream_span(parent, question="Q2", answer="A2", start_ns=BASE_NS + 1500 * MS)
    events = calls((LOGFIRE_SCOPE, [second_out, first, second, first_out]))
    assert sorted((e.input, e.output) for e in events) == [("Q1", "A1"), ("Q2", "A2")]


def test_a_request_span_never_pairs_with_a_complete_call_of_another_model() -> None:
    parent = workflow()
    request = logfire_request_span(parent, model="gpt-4o")
    other = logfire_stream_span(parent, model="gpt-4o-mini")
    assert len(calls((LOGFIRE_SCOPE, [request, other]))) == 2


@ORDERS
def test_root_spans_of_one_call_in_two_traces_are_one_event_by_response_id(reverse: bool) -> None:
    """No app span around the call: the library starts its span without making it current, so the SDK's
    span starts a trace of its own; only the response id says they are one call."""
    sdk, library = sdk_span(None), library_span(None)
    assert sdk.trace_id != library.trace_id
    [event] = both(None, [sdk], [library], reverse)
    assert (event.output, event.tokens_out, event.session_id) == ("Paris.", 9, "sess-1")


def test_root_spans_with_different_response_ids_stay_apart() -> None:
    events = calls((SDK_SCOPE, [sdk_span(None, response_id="msg_a")]),
                   (LIBRARY_SCOPE, [library_span(None, response_id="msg_b")]))
    assert len(events) == 2


def echo(parent, reverse: bool, **framework_options) -> list[Event]:  # type: ignore[no-untyped-def]
    groups = [(LLAMA_INDEX_SCOPE, [llama_index_stream_span(parent, **framework_options)]),
              (GOOGLE_GENAI_SCOPE, [google_genai_span(parent)])]
    return calls(*(reversed(groups) if reverse else groups))


@ORDERS
def test_a_framework_span_that_ended_before_the_client_s_span_of_its_streamed_call_is_one_event(
        reverse: bool) -> None:
    """LlamaIndex ends its span of a streamed call when it hands back the generator; the client's span of the
    same call starts only when that is iterated: neither nested nor overlapping, one call."""
    [event] = echo(workflow(), reverse)
    assert (event.input, event.output, event.tokens_in, event.tokens_out) == (
        "Name three rivers in France.", "The Seine, the Loire and the Rhone.", 16, 7)
    assert (event.model, event.provider, event.session_id) == ("gemini-2.0-flash-001", "gcp.gemini", "sess-1")
    assert event.metadata["scope"]["name"] == GOOGLE_GENAI_SCOPE[0]  # the numbers nearest the provider


@ORDERS
def test_an_echo_in_two_traces_without_an_app_span_is_one_event_with_the_framework_s_session(reverse: bool) -> None:
    framework = llama_index_stream_span(None)
    groups = [(LLAMA_INDEX_SCOPE, [framework]), (GOOGLE_GENAI_SCOPE, [google_genai_span(None)])]
    [event] = calls(*(reversed(groups) if reverse else groups))
    assert (event.output, event.model, event.session_id) == (
        "The Seine, the Loire and the Rhone.", "gemini-2.0-flash-001", "sess-1")
    assert (event.trace_id, event.span_id) == (framework.trace_id.hex(), framework.span_id.hex())  # its place


@ORDERS
def test_a_framework_span_never_made_current_leaves_the_client_span_a_root_in_its_time(reverse: bool) -> None:
    """CrewAI's event-listener mode: its LLM span sits in the crew's trace, the client's span of the same request
    is a root of a trace of its own, inside the listener span's time. One call, in the crew's trace."""
    crew = workflow()
    framework = llama_index_stream_span(crew, start_ns=BASE_NS + 10 * MS)
    framework.end_time_unix_nano = BASE_NS + 80 * MS
    client = google_genai_span(None, start_ns=BASE_NS + 12 * MS)
    groups = [(LLAMA_INDEX_SCOPE, [framework]), (GOOGLE_GENAI_SCOPE, [client])]
    [event] = calls(*(reversed(groups) if reverse else groups))
    assert (event.trace_id, event.span_id, event.parent_span_id) == (
        crew.trace_id.hex(), framework.span_id.hex(), crew.span_id.hex())
    assert (event.model, event.tokens_in, event.session_id) == ("gemini-2.0-flash-001", 16, "sess-1")
    assert event.metadata["merged_spans"] == [{"span_id": client.span_id.hex(), "trace_id": client.trace_id.hex(),
                                               "name": "generate_content gemini-2.0-flash",
                                               "scope": GOOGLE_GENAI_SCOPE[0]}]
    other = google_genai_span(None, start_ns=BASE_NS + 12 * MS, tokens=(16, 8))
    assert len(calls((LLAMA_INDEX_SCOPE, [framework]), (GOOGLE_GENAI_SCOPE, [other]))) == 2  # other usage


def test_echo_needs_the_same_usage_and_question_or_answer_and_a_framework_first() -> None:
    parent = workflow()
    assert len(echo(parent, False, question="Name three rivers in Spain.", answer="The Ebro.")) == 2
    assert len(echo(parent, False, tokens=(16, 8))) == 2
    # a framework words a tool call or result its own way: the same usage and question still make one call
    [worded] = echo(parent, False, answer="assistant: The Seine, the Loire and the Rhone")
    assert worded.output == "The Seine, the Loire and the Rhone."  # the client's
    assert len(echo(parent, False, start_ns=BASE_NS - 1_500 * MS)) == 2  # ended long before the client's began
    client_first = [(GOOGLE_GENAI_SCOPE, [google_genai_span(parent, start_ns=BASE_NS)]),
                    (LLAMA_INDEX_SCOPE, [llama_index_stream_span(parent, start_ns=BASE_NS + 60 * MS)])]
    assert len(calls(*client_first)) == 2  # a framework span after the client's is another call


def test_two_identical_streamed_calls_in_a_row_stay_two_events() -> None:
    """Same question, same answer, one after the other: each framework span pairs with its own client span."""
    parent = workflow()
    spans = [(LLAMA_INDEX_SCOPE, [llama_index_stream_span(parent, start_ns=BASE_NS + n * 100 * MS) for n in (0, 1)]),
             (GOOGLE_GENAI_SCOPE, [google_genai_span(parent, start_ns=BASE_NS + (n * 100 + 3) * MS,
                                                     response_id=f"resp-{n}") for n in (0, 1)])]
    found = calls(*spans)
    assert len(found) == 2 and {e.metadata["response"]["id"] for e in found} == {"resp-0", "resp-1"}

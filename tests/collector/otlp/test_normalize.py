"""Normalization rules that hold for every dialect: rejection, hints, log patches, defaults."""

from __future__ import annotations

import json
import random

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from phosphobs.collector.otlp import spans as otlp_spans
from phosphobs.collector.otlp.fields import normalize_provider
from phosphobs.collector.otlp.normalize import MAX_REASONS, normalize_logs, normalize_traces
from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import Event, otlp_event_id

from tests.collector.otlp_factories import BASE_NS, logs_request, make_log, make_span, traces_request

CHAT = {"gen_ai.operation.name": "chat"}


def test_spans_with_bad_ids_are_rejected_with_reasons_and_the_rest_kept() -> None:
    good = make_span("chat a", CHAT)
    short_trace = make_span("chat b", CHAT, trace_id=b"\x01" * 5)
    zero_span = make_span("chat c", CHAT, span_id=b"\x00" * 8)
    no_span = make_span("chat d", CHAT, span_id=b"")
    batch = normalize_traces(traces_request([good, short_trace, zero_span, no_span]), now_us=0)
    assert [e.span_id for e in batch.events] == [good.span_id.hex()]
    assert batch.rejected == 3
    assert "trace_id (5 bytes)" in batch.rejection_reasons[0]
    assert "span_id" in batch.rejection_reasons[1] and "(empty)" in batch.rejection_reasons[2]
    assert batch.error_message().startswith("rejected 3: ")


def test_rejection_reasons_are_capped_but_every_rejection_counted() -> None:
    spans = [make_span(f"chat {i}", CHAT, span_id=b"") for i in range(MAX_REASONS + 5)]
    batch = normalize_traces(traces_request(spans), now_us=0)
    assert batch.rejected == MAX_REASONS + 5 and len(batch.rejection_reasons) == MAX_REASONS


def test_span_with_only_its_operation_still_becomes_an_event() -> None:
    span = make_span("chat", CHAT)
    span.ClearField("start_time_unix_nano")
    span.ClearField("end_time_unix_nano")
    event = normalize_traces(traces_request([span]), now_us=123).events[0]
    assert (event.input, event.output, event.model, event.tokens_in, event.latency_ms) == ("", "", None, None, None)
    assert event.timestamp_us == 123  # no time on the span: the receiver's clock
    assert event.event_id == otlp_event_id(span.trace_id.hex(), span.span_id.hex())
    assert (event.parent_span_id, event.status, event.flag) == (None, "ok", None)


def test_event_times_come_from_the_span() -> None:
    span = make_span("chat", CHAT, start_ns=BASE_NS + 1_500, duration_ms=250.5)
    event = normalize_traces(traces_request([span]), now_us=0).events[0]
    assert event.timestamp_us == (BASE_NS + 1_500) // 1000
    assert event.latency_ms == pytest.approx(250.5)


def test_wrapper_spans_are_hints_not_events() -> None:
    root = make_span(
        "invoke_agent helper",
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "conv_1", "enduser.id": "u-1"},
        kind=Span.SPAN_KIND_INTERNAL,
    )
    workflow = make_span("flow.workflow", {"traceloop.span.kind": "workflow"}, parent=root)
    chat = make_span("chat m", CHAT, parent=workflow, start_ns=BASE_NS + 5_000)
    batch = normalize_traces(traces_request([chat, workflow, root]), now_us=0)
    assert [e.span_id for e in batch.events] == [chat.span_id.hex()]
    assert batch.events[0].session_id is None and batch.events[0].parent_span_id == workflow.span_id.hex()
    [hint] = batch.trace_hints
    assert (hint.trace_id, hint.start_us, hint.session_id, hint.user_id) == (
        root.trace_id.hex(),
        BASE_NS // 1000,
        "conv_1",
        "u-1",
    )


def test_llm_span_with_its_own_session_keeps_it_and_also_hints_the_trace() -> None:
    span = make_span("chat m", {**CHAT, "session.id": "own", "user.id": "me"})
    batch = normalize_traces(traces_request([span]), now_us=0)
    assert (batch.events[0].session_id, batch.events[0].user_id) == ("own", "me")
    assert [(h.session_id, h.user_id) for h in batch.trace_hints] == [("own", "me")]


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ({"langfuse.session.id": "a", "session.id": "b", "gen_ai.conversation.id": "c"}, "a"),
        ({"session.id": "b", "traceloop.association.properties.session_id": "t", "gen_ai.conversation.id": "c"}, "b"),
        ({"ai.telemetry.metadata.sessionId": "v", "gen_ai.conversation.id": "c"}, "v"),
        ({"gen_ai.conversation.id": "c", "langfuse.trace.metadata.langfuse_session_id": '"l"'}, "c"),
        ({"langfuse.observation.metadata.langfuse_session_id": '"l"'}, "l"),
    ],
)
def test_session_attribute_precedence(attrs: dict[str, str], expected: str) -> None:
    event = normalize_traces(traces_request([make_span("chat", {**CHAT, **attrs})]), now_us=0).events[0]
    assert event.session_id == expected


def test_session_and_user_on_the_resource_apply_to_its_spans() -> None:
    request = traces_request([make_span("chat", CHAT)], resource={"session.id": "r-s", "user.id": "r-u"})
    event = normalize_traces(request, now_us=0).events[0]
    assert (event.session_id, event.user_id) == ("r-s", "r-u")
    assert event.metadata["resource"] == {"session.id": "r-s", "user.id": "r-u"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("openai", "openai"),
        ("OpenAI", "openai"),
        ("openai.chat", "openai"),
        ("anthropic.messages", "anthropic"),
        ("google.vertex.chat", "gcp.vertex_ai"),
        ("google-vertex", "gcp.vertex_ai"),
        ("google.generative-ai", "gcp.gemini"),
        ("google", "gcp.gemini"),
        ("amazon-bedrock", "aws.bedrock"),
        ("aws.bedrock", "aws.bedrock"),
        ("azure-openai.chat", "azure.ai.openai"),
        ("azure.ai.openai", "azure.ai.openai"),
        ("azure", "azure.ai.inference"),
        ("mistral.chat", "mistral_ai"),
        ("mistralai", "mistral_ai"),
        ("xai", "x_ai"),
        ("vertexai", "gcp.vertex_ai"),
        ("aws", "aws.bedrock"),
        ("ollama", "ollama"),
        ("", None),
    ],
)
def test_provider_names_map_to_one_vocabulary(raw: str, expected: str | None) -> None:
    assert normalize_provider(raw) == expected


def test_provider_is_inferred_from_the_server_host_when_not_named() -> None:
    span = make_span("chat", {**CHAT, "server.address": "api.anthropic.com"})
    local = make_span("chat", {**CHAT, "gen_ai.openai.api_base": "http://127.0.0.1:8000/v1/"})
    events = normalize_traces(traces_request([span, local]), now_us=0).events
    assert [e.provider for e in events] == ["anthropic", None]


def test_unmapped_attributes_and_request_params_land_in_metadata() -> None:
    span = make_span(
        "chat gpt-4o",
        {
            **CHAT,
            "gen_ai.request.temperature": 0.3,
            "gen_ai.request.max_tokens": 50,
            "gen_ai.usage.cache_read.input_tokens": 4,
            "app.feature": "search",
        },
    )
    meta = normalize_traces(traces_request([span]), now_us=0).events[0].metadata
    assert meta["request"] == {"temperature": 0.3, "max_tokens": 50}
    assert meta["usage"] == {"cache_read_input_tokens": 4}
    assert meta["attributes"] == {"gen_ai.operation.name": "chat", "app.feature": "search"}
    assert meta["span"] == {"name": "chat gpt-4o", "kind": "client"}
    assert meta["scope"] == {"name": "test.instrumentation", "version": "1.0"}


def test_error_type_falls_back_to_the_exception_event() -> None:
    span = make_span(
        "chat",
        CHAT,
        error="boom",
        events=[("exception", {"exception.type": "httpx.ReadTimeout", "exception.message": "timed out"})],
    )
    event = normalize_traces(traces_request([span]), now_us=0).events[0]
    assert (event.status, event.flag, event.error_type) == ("error", "failure", "httpx.ReadTimeout")
    assert event.metadata["error"] == {"type": "httpx.ReadTimeout", "message": "boom"}


def g2_records(span: Span) -> list:
    turns = [
        ("gen_ai.system.message", {"content": "Be terse."}),
        ("gen_ai.user.message", {"content": "Hi"}),
        ("gen_ai.assistant.message", {"content": "Hello."}),
        ("gen_ai.user.message", {"content": "Peru capital?"}),
        ("gen_ai.choice", {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Lima."}}),
    ]
    return [
        make_log(span, name, body, {"gen_ai.system": "openai"}, time_ns=BASE_NS + i, name_as_attribute=True)
        for i, (name, body) in enumerate(turns)
    ]


def test_g2_log_records_become_ordered_patches_that_fill_the_span_event() -> None:
    span = make_span("chat gpt-4o", {**CHAT, "gen_ai.system": "openai"})
    event = normalize_traces(traces_request([span]), now_us=0).events[0]
    records = g2_records(span)
    random.Random(3).shuffle(records)
    batch = normalize_logs(logs_request(records), now_us=0)
    assert batch.rejected == 0 and len(batch.patches) == 5
    assert {p.event_id for p in batch.patches} == {event.event_id}
    merged = apply_patches(event, batch.patches)
    assert (merged.input, merged.output) == ("Peru capital?", "Lima.")
    assert [m["role"] for m in merged.metadata["input_messages"]] == ["system", "user", "assistant", "user"]
    assert merged.metadata["system"] == "Be terse."
    assert merged.metadata["output_messages"][0]["finish_reason"] == "stop"


def test_g2_records_without_captured_content_add_nothing() -> None:
    span = make_span("chat", CHAT)
    records = [
        make_log(span, "gen_ai.user.message", None, observed_ns=1),
        make_log(span, "gen_ai.system.message", {}, observed_ns=2),
    ]
    batch = normalize_logs(logs_request(records), now_us=0)
    assert (batch.patches, batch.rejected) == ([], 0)


def test_g3_details_event_with_structured_messages_fills_model_and_usage_too() -> None:
    span = make_span("chat gpt-4o", CHAT)
    attrs = {
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": "Peru capital?"}], "name": None}
        ],
        "gen_ai.output.messages": [{"role": "assistant", "parts": [{"type": "text", "content": "Lima."}]}],
    }
    record = make_log(span, "gen_ai.client.inference.operation.details", None, attrs, observed_ns=BASE_NS)
    [patch] = normalize_logs(logs_request([record]), now_us=0).patches
    assert patch.order_key.startswith(f"{BASE_NS:020d}:")  # time_unix_nano 0 → observed time
    base = normalize_traces(traces_request([span]), now_us=0).events[0]
    merged = apply_patches(base, [patch])
    assert (merged.input, merged.output, merged.model, merged.provider) == (
        "Peru capital?",
        "Lima.",
        "gpt-4o-2024-08-06",
        "openai",
    )
    assert (merged.tokens_in, merged.tokens_out) == (10, 2)


def test_content_log_without_span_context_is_rejected_and_plain_logs_ignored() -> None:
    span = make_span("chat", CHAT)
    orphan = make_log(span, "gen_ai.user.message", {"content": "hi"}, observed_ns=1)
    orphan.ClearField("span_id")
    app_log = make_log(span, "", "GET /health 200", observed_ns=2)
    batch = normalize_logs(logs_request([orphan, app_log]), now_us=0)
    assert batch.patches == [] and batch.rejected == 1
    assert "trace_id/span_id" in batch.rejection_reasons[0]


def test_event_name_field_wins_over_attributes() -> None:
    span = make_span("chat", CHAT)
    record = make_log(span, "gen_ai.user.message", {"content": "hi"}, {"event.name": "something.else"}, observed_ns=1)
    [patch] = normalize_logs(logs_request([record]), now_us=0).patches
    assert patch.fields == {"input_message": {"role": "user", "content": "hi"}}


def test_log_order_keys_are_stable_across_retries_and_distinct_per_record() -> None:
    span = make_span("chat", CHAT)
    first = normalize_logs(logs_request(g2_records(span)), now_us=1).patches
    again = normalize_logs(logs_request(g2_records(span)), now_us=999).patches
    assert [p.order_key for p in first] == [p.order_key for p in again]
    assert len({p.order_key for p in first}) == len(first)


def test_logfire_events_attribute_carries_g2_messages() -> None:
    events = [
        {"event.name": "gen_ai.user.message", "content": "Peru capital?", "role": "user"},
        {"event.name": "gen_ai.choice", "index": 0, "message": {"role": "assistant", "content": "Lima."}},
    ]
    span = make_span("chat", {**CHAT, "events": json.dumps(events)})
    event = normalize_traces(traces_request([span]), now_us=0).events[0]
    assert (event.input, event.output) == ("Peru capital?", "Lima.")


def test_events_built_by_position_or_by_name_are_the_same() -> None:
    """The positional fast path and its fallback (for a reordered storage model) agree field by field."""
    values = [f"v{i}" for i in range(len(otlp_spans._EVENT_FIELDS))]
    assert otlp_spans._event_by_name(*values) == Event(**dict(zip(otlp_spans._EVENT_FIELDS, values, strict=True)))
    assert otlp_spans._new_event(*values) == otlp_spans._event_by_name(*values)


def test_an_id_logfire_scrubbed_is_no_session_or_user() -> None:
    span = make_span("chat", {**CHAT, "session.id": "[Scrubbed due to 'session']", "user.id": "u-1"})
    [event] = normalize_traces(traces_request([span]), now_us=0).events
    assert (event.session_id, event.user_id) == (None, "u-1")

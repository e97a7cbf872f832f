"""Real recorded OTLP payloads, in every wire form, normalize to the ground truth in expected.json."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from phosphobs.collector.otlp.decode import count_data_points, decode_logs, decode_metrics, decode_traces
from phosphobs.collector.otlp.normalize import normalize_logs, normalize_traces
from phosphobs.storage.enrichment import apply_patches
from phosphobs.storage.models import Event, EventPatch, TraceHint

from tests.collector.fixtures import WIRE_FORMS, fixture_names, load_fixture

CAP = 64 * 1024 * 1024
NOW_US = 1_900_000_000_000_000
NAMES = fixture_names()


@dataclass(frozen=True)
class Normalized:
    events: list[Event]
    patches: list[EventPatch]
    hints: list[TraceHint]
    rejected: int


@cache
def normalized(name: str, form: str) -> Normalized:
    events: list[Event] = []
    patches: list[EventPatch] = []
    hints: list[TraceHint] = []
    rejected = 0
    for payload in load_fixture(name).payloads:
        body, content_type, encoding = payload.wire(form)
        if payload.signal == "traces":
            batch = normalize_traces(decode_traces(body, content_type, encoding, CAP), NOW_US)
        elif payload.signal == "logs":
            batch = normalize_logs(decode_logs(body, content_type, encoding, CAP), NOW_US)
        else:
            continue
        events += batch.events
        patches += batch.patches
        hints += batch.trace_hints
        rejected += batch.rejected
    return Normalized(events, patches, hints, rejected)


def enriched(result: Normalized) -> list[Event]:
    """Events as storage keeps them (base + all patches), in call order."""
    merged = [apply_patches(e, [p for p in result.patches if p.event_id == e.event_id]) for e in result.events]
    return sorted(merged, key=lambda e: e.timestamp_us)


def resolved(event: Event, hints: list[TraceHint], field: str) -> str | None:
    """Storage's precedence: the event's own value, else the earliest hint of its trace."""
    own = getattr(event, field)
    if own:
        return own
    candidates = sorted((h.start_us, getattr(h, field)) for h in hints if h.trace_id == event.trace_id)
    return next((value for _, value in candidates if value), None)


def calls(name: str) -> list[dict[str, Any]]:
    return load_fixture(name).expected["calls"]


def test_fixtures_are_found() -> None:
    assert {"openai-v2-latest", "openai-v2-legacy", "openinference", "traceloop"} <= set(NAMES)


@pytest.mark.parametrize("form", WIRE_FORMS)
@pytest.mark.parametrize("name", NAMES)
def test_every_call_becomes_one_event_with_the_user_text_and_answer(name: str, form: str) -> None:
    result = normalized(name, form)
    assert result.rejected == 0
    events = enriched(result)
    expected = calls(name)
    assert len(events) == len(expected)
    for event, call in zip(events, expected, strict=True):
        assert event.kind == "llm"
        assert event.source == "otlp"
        assert event.input == call["last_user_text"]
        assert event.output == (call["output_text"] or "")
        messages = [(m["role"], m["content"]) for m in event.metadata["input_messages"]]
        assert messages == [(m["role"], m["content"]) for m in call["input_messages"]]
        assert event.metadata["system"] == call["system_text"]


@pytest.mark.parametrize("form", WIRE_FORMS)
@pytest.mark.parametrize("name", NAMES)
def test_model_provider_and_tokens_match_ground_truth(name: str, form: str) -> None:
    expected = load_fixture(name).expected
    for event, call in zip(enriched(normalized(name, form)), expected["calls"], strict=True):
        assert event.provider == expected["provider"]
        usage = call["usage"]
        if usage is None:  # the failed call: no response, so only the request model is known
            assert event.model == expected["request_model"]
            assert (event.tokens_in, event.tokens_out) == (None, None)
        else:
            assert event.model == expected["response_model"]
            assert event.metadata["request"]["model"] == expected["request_model"]
            assert (event.tokens_in, event.tokens_out) == (usage["input_tokens"], usage["output_tokens"])
        assert event.cost_cents is None  # none of these libraries reports cost; the pipeline estimates
    totals = expected["totals"]
    events = enriched(normalized(name, form))
    assert sum(e.tokens_in or 0 for e in events) == totals["input_tokens"]
    assert sum(e.tokens_out or 0 for e in events) == totals["output_tokens"]


@pytest.mark.parametrize("form", WIRE_FORMS)
@pytest.mark.parametrize("name", NAMES)
def test_session_and_user_resolve_from_the_span_or_its_trace(name: str, form: str) -> None:
    expected = load_fixture(name).expected
    result = normalized(name, form)
    for event in enriched(result):
        assert resolved(event, result.hints, "session_id") == expected["session_id"]
        assert resolved(event, result.hints, "user_id") == expected["user_id"]


@pytest.mark.parametrize("name", NAMES)
def test_failed_call_is_flagged_failure_with_its_error_type(name: str) -> None:
    events = enriched(normalized(name, "recorded"))
    for event, call in zip(events, calls(name), strict=True):
        if call.get("error"):
            assert (event.status, event.flag) == ("error", "failure")
            assert event.error_type is not None
            assert event.error_type.split(".")[-1] == call["error"]["sdk_exception"].split(".")[-1]
            assert event.output == ""
        else:
            assert (event.status, event.flag, event.error_type) == ("ok", None, None)


@pytest.mark.parametrize("name", NAMES)
def test_events_carry_ids_timing_and_raw_context(name: str) -> None:
    expected = load_fixture(name).expected
    for event in enriched(normalized(name, "recorded")):
        assert event.trace_id is not None and len(event.trace_id) == 32 and event.trace_id == event.trace_id.lower()
        assert event.span_id is not None and len(event.span_id) == 16
        assert event.latency_ms is not None and event.latency_ms > 0
        assert event.timestamp_us > 1_700_000_000_000_000
        assert event.metadata["resource"]["service.name"] == expected["service_name"]
        assert event.metadata["scope"]["name"]
        assert event.metadata["span"]["name"]


@pytest.mark.parametrize("name", NAMES)
def test_json_and_protobuf_forms_give_identical_events(name: str) -> None:
    reference = enriched(normalized(name, "recorded"))
    for form in WIRE_FORMS[1:]:
        assert enriched(normalized(name, form)) == reference


@pytest.mark.parametrize("name", NAMES)
def test_events_do_not_depend_on_patch_order(name: str) -> None:
    result = normalized(name, "recorded")
    shuffled = list(result.patches)
    random.Random(7).shuffle(shuffled)
    for event in result.events:
        mine = [p for p in result.patches if p.event_id == event.event_id]
        again = [p for p in shuffled if p.event_id == event.event_id]
        forward = apply_patches(event, mine)
        assert apply_patches(event, list(reversed(mine))) == forward
        assert apply_patches(event, again) == forward
        assert apply_patches(event, mine + mine) == forward  # a retried log export changes nothing


@pytest.mark.parametrize("name", NAMES)
def test_retried_payloads_yield_the_same_ids_and_order_keys(name: str) -> None:
    first, second = normalized(name, "recorded"), normalized(name, "json")
    assert [e.event_id for e in first.events] == [e.event_id for e in second.events]
    assert [(p.event_id, p.order_key) for p in first.patches] == [(p.event_id, p.order_key) for p in second.patches]


def test_legacy_content_arrives_only_through_log_patches() -> None:
    result = normalized("openai-v2-legacy", "recorded")
    assert all(e.input == "" and e.output == "" for e in result.events)
    assert {p.event_id for p in result.patches} <= {e.event_id for e in result.events}


@pytest.mark.parametrize("form", WIRE_FORMS)
@pytest.mark.parametrize("name", NAMES)
def test_metrics_payloads_decode_and_count_their_points(name: str, form: str) -> None:
    for payload in load_fixture(name).payloads:
        if payload.signal != "metrics":
            continue
        body, content_type, encoding = payload.wire(form)
        decoded = decode_metrics(body, content_type, encoding, CAP)
        assert count_data_points(decoded) == count_data_points(payload.message()) > 0

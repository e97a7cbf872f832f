"""The edge's cleaning: what no backend can hold becomes the closest value that every backend stores."""

from __future__ import annotations

import json
import math

import orjson
import pytest
from phosphobs.collector.storable import (
    MAX_DEPTH,
    make_event_storable,
    storable_hint,
    storable_mapping,
    storable_patch,
    storable_text,
    storable_value,
    without_surrogates,
)
from phosphobs.storage.models import EventPatch, TraceHint

from tests.support.factories import make_event


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int) -> dict:
    value: dict = {"leaf": 10**30}
    for _ in range(levels):
        value = {"k": value}
    return value


def test_a_storable_mapping_is_returned_as_is() -> None:
    meta = {"model": "gpt-4o", "n": 2**63 - 1, "f": 1.5, "tags": ["a", "é", "😀"], "none": None}
    assert storable_mapping(meta) is meta


@pytest.mark.parametrize(("value", "expected"), [
    (10**30, "1000000000000000000000000000000"),
    (-(2**63) - 1, "-9223372036854775809"),
    (-(2**63), -(2**63)),
    (float("nan"), None),
    (float("-inf"), None),
    ("a\x00b", "ab"),
    ("x\ud800y", "x\ufffdy"),
    ("\ud83d\ude00", "😀"),  # a surrogate *pair* is one character again
    (True, True),
])
def test_scalars(value: object, expected: object) -> None:
    assert storable_value(value) == expected


def test_keys_and_nesting() -> None:
    cleaned = storable_mapping({"k\x00": {"\udc00": [float("inf")]}, "deep": nested(300)})
    assert cleaned["k"] == {"\ufffd": [None]}
    assert depth(cleaned) <= MAX_DEPTH + 1
    text = cleaned["deep"]
    for _ in range(MAX_DEPTH - 1):
        text = text["k"]
    assert isinstance(text, str) and json.loads(text)["k"]["k"]  # kept below the cap as JSON text
    orjson.dumps(cleaned)  # and now encodable, like every backend needs


def test_event_fields_are_made_storable_in_place() -> None:
    event = make_event(input="in\x00put", output="out\ud800", model="m\x00", session_id="s\x00",
                       tags=["a\x00", "a", "\x00"], tokens_in=2**60, tokens_out=5, latency_ms=math.inf,
                       cost_cents=-1.0, metadata={"x": 10**20})
    make_event_storable(event)
    assert (event.input, event.output, event.model, event.session_id) == ("input", "out\ufffd", "m", "s")
    assert event.tags == ["a"]
    assert (event.tokens_in, event.tokens_out, event.latency_ms, event.cost_cents) == (None, 5, None, None)
    assert event.metadata == {"x": "100000000000000000000"}


def test_patches_and_hints() -> None:
    patch = EventPatch("e", "t", "s", "k", {"input": "a\x00", "metadata": {"n": 10**25}})
    assert storable_patch(patch).fields == {"input": "a", "metadata": {"n": "10000000000000000000000000"}}
    clean = EventPatch("e", "t", "s", "k", {"input": "a"})
    assert storable_patch(clean) is clean
    assert storable_hint(TraceHint("t", 1, "s\x00", "\x00")) == TraceHint("t", 1, "s", None)


def test_surrogates_only_are_replaced_before_validation() -> None:
    document = {"input": "a\ud800", "metadata": {"user_id": "u\x00", "\udfff": ["\ud800"]}}
    assert without_surrogates(document) == {"input": "a\ufffd",
                                            "metadata": {"user_id": "u\x00", "\ufffd": ["\ufffd"]}}
    assert storable_text("plain") == "plain"


def test_span_records_become_storable_and_storable_ones_stay_the_same_object() -> None:
    from phosphobs.collector.storable import storable_span
    from phosphobs.storage.models import SpanRecord

    fine = SpanRecord("a" * 32, "b" * 16, None, "agent run", "agent", 1, 2, tokens_in=3, cost_cents=0.5)
    assert storable_span(fine) is fine
    bad = SpanRecord("a" * 32, "b" * 16, None, "agent\x00 run \ud800", "agent", 5, 2, error="x\x00",
                     tokens_in=2**60, tokens_out=-1, cost_cents=float("inf"))
    clean = storable_span(bad)
    assert (clean.name, clean.error) == ("agent run \ufffd", "x")
    assert (clean.tokens_in, clean.tokens_out, clean.cost_cents) == (None, None, None)
    assert clean.start_us <= clean.end_us

"""The native JSON schema: exact validation, field paths in errors, conversion to Event."""

from __future__ import annotations

import json

import pytest
from phosphobs.collector.native import InvalidPayload, MalformedJson, parse_batch, parse_event, to_event


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def test_seed_event_converts_with_custom_metadata_verbatim() -> None:
    item = parse_event(body({
        "input": "What is the capital of France?", "output": "Paris.", "session_id": "s",
        "timestamp": "2024-05-01T10:00:00",
        "metadata": {"model": "gpt-4", "provider": "openai", "latency_ms": 850, "token_count_input": 12,
                     "token_count_output": 18, "cost_cents": 2.3, "user_id": "u", "tags": ["a", "b", "a"],
                     "custom_key": {"any": ["thing", 1]}},
    }))
    event = to_event(item, now_us=0)
    assert (event.model, event.provider, event.latency_ms, event.tokens_in, event.tokens_out) == (
        "gpt-4", "openai", 850, 12, 18)
    assert (event.cost_cents, event.user_id, event.tags) == (2.3, "u", ["a", "b"])
    assert event.metadata == {"custom_key": {"any": ["thing", 1]}}
    assert event.timestamp_us == 1714557600 * 1_000_000  # naive means UTC


def test_timezone_offsets_are_honoured() -> None:
    item = parse_event(body({"input": "a", "output": "b", "timestamp": "2024-05-01T12:00:00+02:00"}))
    assert to_event(item, 0).timestamp_us == 1714557600 * 1_000_000


def test_missing_timestamp_and_id_are_filled() -> None:
    event = to_event(parse_event(body({"input": "", "output": ""})), now_us=42)
    assert event.timestamp_us == 42 and len(event.event_id) == 36


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"output": "x"}, ["input"]),
        ({"input": 1, "output": "x"}, ["input"]),
        ({"input": "x", "output": None}, ["output"]),
        ({"input": "x", "output": "y", "event_id": "not-a-uuid"}, ["event_id"]),
        ({"input": "x", "output": "y", "timestamp": "yesterday"}, ["timestamp"]),
        ({"input": "x", "output": "y", "metadata": {"latency_ms": -1}}, ["metadata", "latency_ms"]),
        ({"input": "x", "output": "y", "metadata": {"token_count_input": 1.5}}, ["metadata", "token_count_input"]),
        ({"input": "x", "output": "y", "metadata": {"token_count_output": -3}}, ["metadata", "token_count_output"]),
        ({"input": "x", "output": "y", "metadata": {"cost_cents": "free"}}, ["metadata", "cost_cents"]),
        ({"input": "x", "output": "y", "metadata": {"tags": "prod"}}, ["metadata", "tags"]),
        ({"input": "x", "output": "y", "metadata": {"tags": [1]}}, ["metadata", "tags", 0]),
        ({"input": "x", "output": "y", "metadata": []}, ["metadata"]),
        ({"input": "nul\u0000", "output": "y"}, ["input"]),
    ],
)
def test_invalid_fields_are_named_by_path(payload, loc) -> None:
    with pytest.raises(InvalidPayload) as err:
        parse_event(body(payload))
    assert loc in [d["loc"] for d in err.value.details]


def test_batch_errors_name_every_bad_index() -> None:
    events = [{"input": "ok", "output": "ok"}, {"input": 1, "output": "x"}, {"input": "x"}]
    with pytest.raises(InvalidPayload) as err:
        parse_batch(body({"events": events}))
    assert sorted(tuple(d["loc"][:3]) for d in err.value.details) == [("events", 1, "input"), ("events", 2, "output")]


@pytest.mark.parametrize("count", [0, 101])
def test_batch_size_must_be_1_to_100(count: int) -> None:
    with pytest.raises(InvalidPayload) as err:
        parse_batch(body({"events": [{"input": "a", "output": "b"}] * count}))
    assert err.value.details[0]["loc"] == ["events"]


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b'{"input": "a",}', b"nul"])
def test_malformed_json_is_told_apart_from_invalid_fields(raw: bytes) -> None:
    with pytest.raises(MalformedJson):
        parse_event(raw)

"""Building and encoding native payloads (pure)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from phosphobs.exporters.events import as_text, build_event, build_feedback, encode, iso_timestamp, new_event_id


def make_event(**overrides):
    fields = {"event_id": "e-1", "session_id": None, "user_id": None, "metadata": None, "timestamp": None, "known": {}}
    fields.update(overrides)
    return build_event("in", "out", **fields)


def test_keyword_metadata_wins_over_the_metadata_dict_and_none_is_left_out() -> None:
    event = make_event(metadata={"model": "old", "custom": 1}, known={"model": "gpt-4o", "latency_ms": None})
    assert event["metadata"] == {"model": "gpt-4o", "custom": 1}


def test_user_id_goes_into_metadata_and_session_id_to_the_top() -> None:
    event = make_event(session_id="s-1", user_id="u-42")
    assert event["session_id"] == "s-1"
    assert event["metadata"]["user_id"] == "u-42"


def test_an_event_without_session_has_no_session_key() -> None:
    assert "session_id" not in make_event()


def test_a_single_tag_string_becomes_a_list() -> None:
    assert make_event(metadata={"tags": "prod"})["metadata"]["tags"] == ["prod"]


def test_non_text_input_and_output_are_coerced_to_text() -> None:
    assert as_text(None) == ""
    assert as_text(b"caf\xc3\xa9") == "café"
    assert json.loads(as_text([{"role": "user", "content": "hi"}])) == [{"role": "user", "content": "hi"}]
    assert as_text(42) == "42"


def test_timestamps_become_iso_utc() -> None:
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05+00:00"
    assert iso_timestamp(0) == "1970-01-01T00:00:00+00:00"
    assert iso_timestamp("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05Z"
    assert datetime.fromisoformat(iso_timestamp(None)).tzinfo == UTC


def test_event_ids_are_fresh_uuid4_unless_given() -> None:
    assert uuid.UUID(new_event_id(None)).version == 4
    assert new_event_id(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"


def test_feedback_defaults_its_source_to_user() -> None:
    assert build_feedback("e-1", "success", None, None) == {"event_id": "e-1", "flag": "success", "source": "user"}


def test_encoding_turns_nan_into_null_and_odd_objects_into_strings() -> None:
    body = {"metadata": {"score": float("nan"), "when": datetime(2026, 1, 1, tzinfo=UTC), (1, 2): "tuple key"}}
    decoded = json.loads(encode(body))
    assert decoded["metadata"]["score"] is None
    assert decoded["metadata"]["when"] == "2026-01-01 00:00:00+00:00"
    assert decoded["metadata"]["(1, 2)"] == "tuple key"

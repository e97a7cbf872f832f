"""apply_patches: content from log records fills a span's event, whatever order the patches come in."""

from __future__ import annotations

import itertools
from typing import Any

from phosphobs.storage.enrichment import apply_patches, last_user_text, output_text
from phosphobs.storage.models import Event, EventPatch

from tests.support.factories import make_event


def patch(order_key: str, **fields: Any) -> EventPatch:
    return EventPatch("e-1", "t" * 32, "s" * 16, order_key, fields)


def bare_event(**overrides: Any) -> Event:
    """An OTLP span's event before log content arrived (fixed time, so two calls compare equal)."""
    values: dict[str, Any] = {"event_id": "e-1", "input": "", "output": "", "source": "otlp", "timestamp_us": 1}
    return make_event(**{**values, **overrides})


G2 = [
    patch("01", input_message={"role": "system", "content": "Be terse."}),
    patch("02", input_message={"role": "user", "content": "Hi"}),
    patch("03", input_message={"role": "assistant", "content": "Hello."}),
    patch("04", input_message={"role": "user", "content": "Peru capital?"}),
    patch("05", choice={"index": 0, "message": {"role": "assistant", "content": "Lima.", "finish_reason": "stop"}}),
]


def test_no_patches_returns_an_equal_but_separate_event() -> None:
    base = make_event(metadata={"k": [1]}, tags=["x"])
    result = apply_patches(base, [])
    assert result == base and result is not base
    result.metadata["k"].append(2)
    assert base.metadata == {"k": [1]}


def test_g2_patches_fill_input_output_messages_and_system() -> None:
    result = apply_patches(bare_event(), G2)
    assert (result.input, result.output) == ("Peru capital?", "Lima.")
    assert [m["content"] for m in result.metadata["input_messages"]] == ["Be terse.", "Hi", "Hello.", "Peru capital?"]
    assert result.metadata["system"] == "Be terse."


def test_every_patch_order_gives_the_same_event() -> None:
    base = bare_event()
    expected = apply_patches(base, G2)
    for order in itertools.permutations(G2):
        assert apply_patches(base, order) == expected


def test_every_subset_is_order_independent_too() -> None:
    base = bare_event()
    for size in range(len(G2) + 1):
        for subset in itertools.combinations(G2, size):
            assert apply_patches(base, subset) == apply_patches(base, reversed(subset))


def test_duplicate_patches_from_retries_collapse() -> None:
    assert apply_patches(bare_event(), G2 + G2[:2]) == apply_patches(bare_event(), G2)


def test_the_span_own_content_and_fields_win_over_patches() -> None:
    base = bare_event(
        input="from span",
        output="span answer",
        model="m-span",
        tokens_in=5,
        metadata={"input_messages": [{"role": "user", "content": "from span"}]},
    )
    details = patch("01", input_messages=[{"role": "user", "content": "log"}], model="m-log", tokens_in=9, tokens_out=3)
    result = apply_patches(base, [details])
    assert (result.input, result.output, result.model, result.tokens_in) == ("from span", "span answer", "m-span", 5)
    assert result.tokens_out == 3  # a gap the span left
    assert result.metadata["input_messages"] == [{"role": "user", "content": "from span"}]


def test_full_message_lists_beat_single_messages_and_choices_sort_by_index() -> None:
    patches = [
        patch("02", input_message={"role": "user", "content": "single"}),
        patch("01", input_messages=[{"role": "user", "content": "full"}]),
        patch("03", choice={"index": 1, "message": {"role": "assistant", "content": "second"}}),
        patch("04", choice={"index": 0, "message": {"role": "assistant", "content": "first"}}),
    ]
    result = apply_patches(bare_event(), patches)
    assert (result.input, result.output) == ("full", "first")


def test_tool_call_only_choice_shows_the_calls_as_output_and_keeps_them() -> None:
    call = {"id": "c1", "name": "weather", "arguments": {"city": "Lima"}}
    result = apply_patches(
        bare_event(),
        [patch("01", choice={"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]}})],
    )
    assert result.output == 'weather({"city": "Lima"})' and result.metadata["tool_calls"] == [call]


def test_error_event_stays_a_failure_when_only_the_prompt_arrives() -> None:
    base = bare_event(status="error", flag="failure", error_type="InternalServerError")
    result = apply_patches(base, G2[:4])
    assert (result.input, result.output, result.flag) == ("Peru capital?", "", "failure")


def test_patch_metadata_never_overrides_the_base() -> None:
    base = bare_event(metadata={"a": 1})
    result = apply_patches(base, [patch("01", metadata={"a": 2, "b": 3})])
    assert result.metadata == {"a": 1, "b": 3}


def test_message_text_helpers() -> None:
    msgs = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": None},
    ]
    assert last_user_text(msgs) is None and last_user_text(msgs[:2]) == "one" and last_user_text([]) is None
    assert output_text([{"role": "assistant", "content": "a"}, {"content": "b"}]) == "a" and output_text([]) is None

"""AnyValue conversion and the reshaping helpers: tolerant of every odd shape, never raising."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.attributes import (
    SpanAttrs,
    any_value,
    as_int,
    as_str_list,
    json_scalar,
    key_values,
    parse_json,
    unflatten,
)

from tests.collector.otlp_factories import any_value as to_any
from tests.collector.otlp_factories import key_values as to_key_values


def test_any_values_become_plain_python() -> None:
    value = {"s": "x", "i": 7, "f": 0.5, "b": True, "n": None, "list": [1, "a", [2]], "kv": {"k": {"deep": False}}}
    assert any_value(to_any(value)) == value
    assert any_value(to_any(b"\x00\xff")) == "AP8="


def test_repeated_keys_keep_the_last_value() -> None:
    assert key_values(to_key_values({"a": 1}) + to_key_values({"a": 2})) == {"a": 2}


def test_unflatten_rebuilds_openinference_messages() -> None:
    attrs = {
        "llm.input_messages.0.message.role": "system",
        "llm.input_messages.0.message.content": "Be terse.",
        "llm.input_messages.1.message.role": "user",
        "llm.input_messages.1.message.contents.0.message_content.text": "Hi",
        "llm.input_messages.10.message.role": "user",
        "llm.model_name": "m",
    }
    assert unflatten(attrs, "llm.input_messages") == [
        {"message": {"role": "system", "content": "Be terse."}},
        {"message": {"role": "user", "contents": [{"message_content": {"text": "Hi"}}]}},
        {"message": {"role": "user"}},  # index 10 sorts numerically, after 1, gaps dropped
    ]


def test_unflatten_ignores_the_bare_prefix_and_tolerates_conflicts() -> None:
    attrs = {
        "gen_ai.prompt": "[G0 json]",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "a",
        "gen_ai.prompt.0.content.extra": "b",
    }
    assert unflatten(attrs, "gen_ai.prompt") == [{"role": "user", "content": {"extra": "b"}}]
    assert unflatten(attrs, "nothing") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", [1, 2]),
        ('{"trunc', '{"trunc'),
        ("plain", "plain"),
        ("12", "12"),
        ('"quoted"', "quoted"),
        ("", ""),
        (None, None),
        (5, 5),
    ],
)
def test_parse_json_never_raises(raw: object, expected: object) -> None:
    assert parse_json(raw) == expected


def test_scalars_lists_and_numbers_are_read_leniently() -> None:
    assert json_scalar('"abc"') == "abc" and json_scalar('{"a":1}') == '{"a":1}'
    assert [as_int(v) for v in (3, "4", 5.0, "6.0", "x", True, None)] == [3, 4, 5, 6, None, None, None]
    assert as_str_list(["a", "b"]) == as_str_list('["a","b"]') == as_str_list("a, b") == ["a", "b"]
    assert as_str_list(None) == []


def test_span_attrs_report_what_no_reader_mapped() -> None:
    attrs = SpanAttrs({"a": 1, "b": "", "c.0": 1, "c.1": 2, "d": 4}, {"r": 1})
    assert attrs.first("b", "a") == 1
    assert attrs.get("r", resource=True) == 1
    attrs.unflatten("c")
    assert attrs.unmapped() == {"d": 4}

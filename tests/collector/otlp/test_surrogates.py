"""Lone surrogates (valid JSON escapes, refused by protobuf and every database) become U+FFFD."""

from __future__ import annotations

from phosphobs.collector.otlp.decode import decode_traces
from phosphobs.collector.otlp.surrogates import without_lone_surrogates


def test_lone_halves_are_replaced_and_pairs_joined() -> None:
    assert without_lone_surrogates("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert without_lone_surrogates("\ud83d\ude00") == "😀"
    text = "plain ascii"
    assert without_lone_surrogates(text) is text


def test_an_otlp_json_attribute_with_a_lone_surrogate_costs_nothing_else() -> None:
    body = (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0102030405060708090a0b0c0d0e0f10",'
            b' "spanId": "0102030405060708", "name": "chat \\udc00", "attributes": [{"key": "k\\ud800",'
            b' "value": {"stringValue": "v\\ud800"}}]}]}]}]}')
    span = decode_traces(body, "application/json", None, 1_000_000).resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "chat \ufffd"
    assert (span.attributes[0].key, span.attributes[0].value.string_value) == ("k\ufffd", "v\ufffd")

"""OTLP/JSON values protobuf cannot hold cost only themselves: lone surrogates become U+FFFD, integers
beyond int64 their digits as a string."""

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


def test_an_otlp_json_integer_beyond_int64_is_kept_as_its_digits() -> None:
    body = (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0102030405060708090a0b0c0d0e0f10",'
            b' "spanId": "0102030405060708", "name": "chat", "attributes": ['
            b'{"key": "big", "value": {"intValue": "100000000000000000000000000000"}},'
            b'{"key": "negative", "value": {"intValue": -99999999999999999999}},'
            b'{"key": "max", "value": {"intValue": "9223372036854775807"}}]}]}]}]}')
    span = decode_traces(body, "application/json", None, 1_000_000).resource_spans[0].scope_spans[0].spans[0]
    values = {a.key: a.value for a in span.attributes}
    assert values["big"].string_value == "100000000000000000000000000000"
    assert values["negative"].string_value == "-99999999999999999999"
    assert values["max"].int_value == 2**63 - 1

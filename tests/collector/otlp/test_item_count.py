"""Counting spans and log records from an OTLP body's bytes agrees with the parsed message."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.item_count import items_over

from tests.collector.otlp_factories import logs_request, make_log, make_span, traces_request
from tests.collector.otlp_json import to_otlp_json

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.input.messages": '[{"role": "user", "startTimeUnixNano": 1}]'}


def spans(n: int):
    resource_a = traces_request([make_span("chat", CHAT, events=[("e", {"k": 1})]) for _ in range(n // 2)])
    resource_b = traces_request([make_span("chat", CHAT) for _ in range(n - n // 2)])
    resource_a.resource_spans.extend(resource_b.resource_spans)  # items spread over resources
    return resource_a


@pytest.mark.parametrize("form", ["protobuf", "json", "json-snake"])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 40])
def test_spans_over_the_limit_are_counted_from_bytes(form: str, n: int) -> None:
    message = spans(n)
    data = message.SerializeToString() if form == "protobuf" else to_otlp_json(message, snake_case=form == "json-snake")
    over = items_over(data, "traces", form != "protobuf", 8)
    if n <= 8:
        assert over is None
    else:
        assert over is not None and 8 < over <= n


@pytest.mark.parametrize("form", ["protobuf", "json"])
def test_log_records_over_the_limit_are_counted_from_bytes(form: str) -> None:
    span = make_span("chat", CHAT)
    message = logs_request([make_log(span, "gen_ai.user.message", {"content": "hi"}, time_ns=i + 1)
                            for i in range(5)])
    data = message.SerializeToString() if form == "protobuf" else to_otlp_json(message)
    assert items_over(data, "logs", form == "json", 5) is None
    assert items_over(data, "logs", form == "json", 4) == 5


def test_malformed_or_uncounted_bodies_are_left_to_the_parser() -> None:
    assert items_over(b"\x0a\xff\xff\xff\xff\x0f", "traces", False, 1) is None  # length past the end
    assert items_over(b"anything", "metrics", False, 0) is None

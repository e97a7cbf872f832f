"""Events crossing into the SQLite writer process keep every value; their metadata arrives as JSON text."""

from __future__ import annotations

from phosphobs.storage.models import EventPatch, TraceHint
from phosphobs.storage.protocol import IngestOp
from phosphobs.storage.rows import JsonText, event_row, with_decoded_metadata
from phosphobs.storage.sqlite import wire

from tests.support.factories import make_event


def test_an_event_arrives_with_the_same_row_and_its_metadata_already_encoded() -> None:
    event = make_event(metadata={"attributes": {"k": [1, 2.5, None, "é"]}, "span": {"kind": "client"}},
                       tags=["a", "b"], session_id="s", tokens_in=3)
    op = IngestOp("p", [event, event], None)
    (arrived, now), = [wire.decode(wire.encode((op, 7)))]
    first, second = arrived.events
    assert now == 7 and type(first.metadata) is JsonText
    assert event_row("p", first, "s", "explicit", None, None, 1) == event_row("p", event, "s", "explicit", None,
                                                                               None, 1)
    assert with_decoded_metadata(second) == event
    assert with_decoded_metadata(event) is event  # nothing to decode


def test_patches_and_trace_hints_arrive_equal() -> None:
    patch = EventPatch("e", "t" * 32, "s" * 16, "0001", {"output": "hi", "tokens_out": 2})
    hint = TraceHint("t" * 32, 5, session_id="sess", user_id=None)
    op = IngestOp("p", [], None, patches=[patch, patch], trace_hints=[hint])
    (arrived, _), = [wire.decode(wire.encode((op, 7)))]
    assert arrived.patches == [patch, patch] and arrived.trace_hints == [hint]


def test_span_records_cross_with_every_value() -> None:
    from phosphobs.storage.models import SpanRecord

    record = SpanRecord("t" * 32, "s" * 16, None, "agent", "agent", 1, 2, "error", "boom", None, "a", None, "m", 3,
                        4, 0.5, '{"k":1}', True)
    op = IngestOp("p", [], None, spans=[record, record])
    (arrived, _), = [wire.decode(wire.encode((op, 7)))]
    assert arrived.spans == [record, record]

"""How group commits cross into the SQLite writer process: pickled, each event's metadata already JSON.

The one place records learn how to cross: `Event`, `EventPatch`, `TraceHint` and `SpanRecord` pickle as
`cls(*field values)`; the slots-dataclass default walks `fields()` in Python per object and costs
about twice as much.

The child runs every commit and is the first thing to saturate, so work moves out of it where it can.
Unpickling the nested metadata dicts there, only for `event_row` to serialize them again, cost ~7 µs per
span of the child's ~100 (measured under OTLP load); the parent now encodes each event's metadata
once and the child stores the text as it arrived (`JsonText` passes through `rows.dumps`).
"""

from __future__ import annotations

import copyreg
import io
import operator
import pickle
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from phosphobs.storage.models import Event, EventPatch, SpanRecord, TraceHint
from phosphobs.storage.rows import JsonText, dumps

_FIELDS = tuple(f.name for f in fields(Event))
_METADATA = _FIELDS.index("metadata")
_values = operator.attrgetter(*_FIELDS)


def _reduce_event(event: Event) -> tuple[Any, tuple[Any, ...]]:
    values = list(_values(event))
    values[_METADATA] = dumps(values[_METADATA])
    return _event_from_wire, tuple(values)


def _event_from_wire(*values: Any) -> Event:
    event = Event(*values)
    event.metadata = JsonText(event.metadata)  # type: ignore[assignment]
    return event


def _by_fields(cls: type) -> Callable[[Any], tuple[type, tuple[Any, ...]]]:
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    return lambda record: (cls, values(record))


_DISPATCH = {**copyreg.dispatch_table, Event: _reduce_event, EventPatch: _by_fields(EventPatch),
             TraceHint: _by_fields(TraceHint), SpanRecord: _by_fields(SpanRecord)}


def encode(message: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(message)
    return buffer.getvalue()


def decode(data: bytes) -> Any:
    return pickle.loads(data)

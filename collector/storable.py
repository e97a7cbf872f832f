"""Making accepted records storable on every backend, at the edge, before they reach a group commit.

Whatever a receiver accepts must commit: a value that one backend cannot hold would otherwise fail its
op late (or, encoded with its group, the whole group). JSON text, SQLite and Postgres disagree on what
they hold, so the common subset is enforced here, once, for native JSON and OTLP alike:

- integers outside the signed 64-bit range are kept as their decimal string (no digit is lost);
- NaN and ±Infinity, which JSON cannot express, become null (what `JSON.stringify` does);
- structures nested deeper than `MAX_DEPTH` levels are kept from that depth on as compact JSON text;
- NUL characters are removed (Postgres text and jsonb cannot hold them) and lone UTF-16 surrogates
  become U+FFFD (no UTF-8 encoder accepts them);
- typed numbers outside what sessions can sum (tokens above 2**53, non-finite latency or cost) are
  dropped to null rather than failing the event.

The common case (already storable) is checked with one orjson encode and left untouched.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
from typing import Any

import orjson
from phosphobs.collector.otlp.surrogates import without_lone_surrogates
from phosphobs.storage.models import Event, EventPatch, SpanRecord, TraceHint

MAX_DEPTH = 64  # levels of objects/arrays kept as such: far under orjson's 254 and SQLite's 1000, with
ORJSON_MAX_DEPTH = 254  # room for the envelope of every API answer that carries metadata
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_COUNT = 2**53  # token counts are summed per session: keep far from overflow on every backend
_frames = threading.local()
_TEXT_FIELDS = ("event_id", "input", "output", "session_id", "user_id", "model", "provider", "error_type",
                "trace_id", "span_id", "parent_span_id")


def storable_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return without_lone_surrogates(text)


def without_surrogates(value: Any) -> Any:
    """A parsed JSON document with lone surrogates in its strings and keys replaced (U+FFFD), nothing else
    changed: typed validation then sees valid text, and its own rules (e.g. NUL in a label) still apply."""
    if isinstance(value, str):
        return without_lone_surrogates(value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value


def storable_value(value: Any, depth: int = 0) -> Any:
    """A JSON-like value that every backend stores as given (see the module docstring)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return storable_text(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))
    if isinstance(value, dict):
        return {storable_text(str(k)): storable_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_value(v, depth + 1) for v in value]
    return storable_text(str(value))


def _already_storable(value: dict[str, Any]) -> bool:
    """One orjson encode decides the usual case: it refuses big ints and surrogates, and writes
    NaN/Infinity as null exactly as storage's own encode will. Depth: few brackets means shallow;
    otherwise the value is encoded again at the bottom of a frame of empty levels, so that orjson's
    own limit of 254 levels leaves it only `MAX_DEPTH`."""
    try:
        encoded = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return False
    if b"\\u0000" in encoded:
        return False
    if encoded.count(b"{") + encoded.count(b"[") <= MAX_DEPTH:
        return True
    outer, inner = _frame()
    inner[0] = value
    try:
        orjson.dumps(outer)
    except orjson.JSONEncodeError:
        return False
    finally:
        inner[0] = None
    return True


def _frame() -> tuple[list[Any], list[Any]]:
    """(outermost, innermost) of `254 - MAX_DEPTH` nested lists, one frame per thread, built once."""
    frame = getattr(_frames, "frame", None)
    if frame is None:
        inner: list[Any] = [None]
        outer = inner
        for _ in range(ORJSON_MAX_DEPTH - MAX_DEPTH - 1):
            outer = [outer]
        frame = _frames.frame = (outer, inner)
    return frame


def storable_mapping(value: dict[str, Any]) -> dict[str, Any]:
    """A metadata-like mapping, returned as is when it is already storable."""
    if _already_storable(value):
        return value
    cleaned = storable_value(value)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


def _count(value: int | None) -> int | None:
    return value if value is None or 0 <= value <= MAX_COUNT else None


def _amount(value: float | None) -> float | None:
    return value if value is None or (math.isfinite(value) and value >= 0) else None


def make_event_storable(event: Event) -> None:
    """Clean one event in place (it is not shared yet: the receiver just built it)."""
    for name in _TEXT_FIELDS:
        text = getattr(event, name)
        if text is not None and ("\x00" in text or not text.isascii()):
            setattr(event, name, storable_text(text))
    if event.tags:
        event.tags = [t for t in dict.fromkeys(storable_text(t) for t in event.tags) if t]
    event.tokens_in = _count(event.tokens_in)
    event.tokens_out = _count(event.tokens_out)
    event.latency_ms = _amount(event.latency_ms)
    event.cost_cents = _amount(event.cost_cents)
    if event.metadata:
        event.metadata = storable_mapping(event.metadata)


def storable_patch(patch: EventPatch) -> EventPatch:
    fields = storable_mapping(patch.fields)
    return patch if fields is patch.fields else dataclasses.replace(patch, fields=fields)


def storable_hint(hint: TraceHint) -> TraceHint:
    session = storable_text(hint.session_id) if hint.session_id is not None else None
    user = storable_text(hint.user_id) if hint.user_id is not None else None
    if session == hint.session_id and user == hint.user_id:
        return hint
    return dataclasses.replace(hint, session_id=session or None, user_id=user or None)


def make_storable(events: list[Event], patches: list[EventPatch],
                  hints: list[TraceHint]) -> tuple[list[EventPatch], list[TraceHint]]:
    """Clean everything one request hands to storage; events in place, patches and hints as new lists."""
    for event in events:
        make_event_storable(event)
    return [storable_patch(p) for p in patches], [storable_hint(h) for h in hints]


_SPAN_TEXT = ("trace_id", "span_id", "parent_span_id", "name", "error", "event_id", "agent_name", "tool_name",
              "model", "attributes")


def storable_span(record: SpanRecord) -> SpanRecord:
    """A span record with text, counts and cost every backend holds (its attributes are JSON text already
    written by `otlp/tree.py` from storable values)."""
    changes: dict[str, Any] = {}
    for name in _SPAN_TEXT:
        text = getattr(record, name)
        if text is not None and ("\x00" in text or not text.isascii()):
            cleaned = storable_text(text)
            if cleaned != text:
                changes[name] = cleaned
    for name, value in (("tokens_in", _count(record.tokens_in)), ("tokens_out", _count(record.tokens_out)),
                        ("cost_cents", _amount(record.cost_cents))):
        if value != getattr(record, name):
            changes[name] = value
    if not INT64_MIN <= record.start_us <= record.end_us <= INT64_MAX:
        start = min(max(record.start_us, 0), INT64_MAX)
        changes["start_us"], changes["end_us"] = start, min(max(record.end_us, start), INT64_MAX)
    return dataclasses.replace(record, **changes) if changes else record

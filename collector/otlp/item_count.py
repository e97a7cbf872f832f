"""Counting the spans or log records of an OTLP body before it is parsed, to refuse an oversized one cheaply.

Parsing a request allocates per item (a protobuf message, or Python objects ~10x the JSON text), so a
request over the per-request limit must be refused from its bytes. Protobuf: the wire format is walked
along `resource_* (1) → scope_* (2) → spans / log_records (2)`, skipping each item by its length and
stopping at `limit + 1`. JSON: a field every SDK writes once per item is counted (a lower bound: a
quoted key cannot occur unescaped inside a string value).
"""

from __future__ import annotations

_ITEM_PATH = (1, 2, 2)  # the same field numbers for traces and logs
_JSON_KEYS = {
    "traces": (b'"startTimeUnixNano"', b'"start_time_unix_nano"'),
    "logs": (b'"timeUnixNano"', b'"time_unix_nano"', b'"observedTimeUnixNano"', b'"observed_time_unix_nano"'),
}


class _Malformed(Exception):
    pass


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _Malformed
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _count(data: bytes, start: int, end: int, path: tuple[int, ...], limit: int, found: int) -> int:
    pos = start
    while pos < end:
        tag, pos = _varint(data, pos, end)
        field, wire = tag >> 3, tag & 7
        if wire == 2:
            length, pos = _varint(data, pos, end)
            if pos + length > end:
                raise _Malformed
            if field == path[0]:
                if len(path) == 1:
                    found += 1
                else:
                    found = _count(data, pos, pos + length, path[1:], limit, found)
                if found > limit:
                    return found
            pos += length
        elif wire == 0:
            _, pos = _varint(data, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:  # groups: not in OTLP
            raise _Malformed
    if pos > end:
        raise _Malformed
    return found


def items_over(data: bytes, signal: str, is_json: bool, limit: int) -> int | None:
    """The number of items (at least) when it is over `limit`, else None; None too when the body is
    malformed (the parser then says why)."""
    if is_json:
        keys = _JSON_KEYS.get(signal)
        if keys is None:
            return None
        at_least = max(data.count(key) for key in keys)
        return at_least if at_least > limit else None
    if signal not in _JSON_KEYS:
        return None
    try:
        found = _count(data, 0, len(data), _ITEM_PATH, limit, 0)
    except _Malformed:
        return None
    return found if found > limit else None

"""Opaque keyset cursors: base64 of the last row's sort key, checked strictly when they come back.

A cursor is user input: anything that is not exactly what we hand out (right length, right types, integers
in the 64-bit range the databases store, finite numbers, bounded strings) is refused with a 4xx, never
passed on to a query where it would fail as a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Literal

from phosphobs.collector.errors import INVALID, ApiError

CursorPart = Literal["int", "number", "str"]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_CURSOR_STR = 2048


class InvalidCursor(ValueError):
    """The cursor was not one we handed out."""


def page_body(data: list[Any], next_after: tuple[Any, ...] | list[Any] | None) -> dict[str, Any]:
    """The one envelope of every listing: its items and the cursor of the next page (null on the last)."""
    return {"data": data, "next_cursor": encode_cursor(next_after)}


def encode_cursor(key: tuple[Any, ...] | list[Any] | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _valid(value: Any, part: CursorPart) -> bool:
    if part == "str":
        return isinstance(value, str) and len(value) <= MAX_CURSOR_STR
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    return part == "number" and isinstance(value, float) and math.isfinite(value)


def parse_cursor(cursor: str | None, parts: tuple[CursorPart, ...]) -> tuple[Any, ...] | None:
    """The key inside `cursor` (None when absent); raises InvalidCursor for anything we did not issue."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError) as exc:
        raise InvalidCursor("not a cursor") from exc
    if not isinstance(raw, list) or len(raw) != len(parts) or not all(map(_valid, raw, parts)):
        raise InvalidCursor("not a cursor")
    return tuple(raw)


def decode_cursor(cursor: str | None, parts: tuple[CursorPart, ...]) -> tuple[Any, ...] | None:
    """For the JSON API: a forged or stale cursor is a 422 naming the parameter, like any invalid query value."""
    try:
        return parse_cursor(cursor, parts)
    except InvalidCursor:
        raise ApiError(INVALID, "invalid cursor: pass back the next_cursor value from a previous page",
                       details=[{"loc": ["query", "cursor"], "message": "invalid cursor", "type": "value_error"}],
                       ) from None

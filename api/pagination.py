"""Opaque keyset cursors: base64 of the last row's sort key."""

from __future__ import annotations

import base64
import json
from typing import Any

from phosphobs.collector.errors import INVALID, ApiError


def encode_cursor(key: tuple[Any, ...] | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...]) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (
            isinstance(raw, list) and len(raw) == len(types)
            and all(type(v) is t for v, t in zip(raw, types, strict=True))
        ):
            return tuple(raw)
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(INVALID, "invalid cursor: pass back the next_cursor value from a previous page",
                   details=[{"loc": ["query", "cursor"], "message": "invalid cursor", "type": "value_error"}])

"""Test data factories."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from phosphobs.storage.models import Event

_counter = itertools.count(1)
BASE_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
MINUTE_US = 60_000_000


def make_event(**overrides: Any) -> Event:
    n = next(_counter)
    values: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "input": f"question {n}",
        "output": f"answer {n}",
        "timestamp_us": BASE_US + n,
    }
    values.update(overrides)
    return Event(**values)


def api_event(**overrides: Any) -> dict[str, Any]:
    """A native-API JSON event."""
    n = next(_counter)
    body: dict[str, Any] = {"input": f"question {n}", "output": f"answer {n}"}
    body.update(overrides)
    return body

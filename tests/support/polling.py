"""Waiting for an eventual result by polling a condition, never by a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T | None], limit: float = 30.0, every: float = 0.05,
               what: str = "condition") -> T:
    """Poll until `condition()` is truthy and return it; fail the test after `limit` seconds."""
    end = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what} not met within {limit}s")
        time.sleep(every)

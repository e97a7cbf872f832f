"""Rate limits use fixed one-minute windows; tests that count within one window start early in it."""

from __future__ import annotations

import time


def start_of_a_fresh_minute(needed_seconds: float = 15.0) -> None:
    """Sleep into the next minute if fewer than `needed_seconds` remain in this one."""
    left = 60.0 - time.time() % 60.0
    if left < needed_seconds:
        time.sleep(left + 0.05)

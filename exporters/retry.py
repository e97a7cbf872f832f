"""When to retry a native API request and how long to wait.

Retryable: network errors, 408, 429 and every 5xx — the same request may succeed later, and event ids
make a resent batch harmless. `Retry-After` (seconds or an HTTP date) wins over our own backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait, or None when the header is absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the delay fixed, half random, so clients spread out
    without ever retrying immediately. A batch is given up after `give_up_after` seconds of trying."""

    base: float = 0.5
    max_delay: float = 15.0
    max_retry_after: float = 300.0
    give_up_after: float | None = 300.0
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base * (2 ** max(0, attempt - 1)))
        return ceiling / 2 + self.rand() * ceiling / 2

    def exhausted(self, started: float, now: float) -> bool:
        return self.give_up_after is not None and now - started >= self.give_up_after

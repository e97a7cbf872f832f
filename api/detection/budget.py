"""A per-minute budget for judge calls: a sliding window, so no minute ever sees more than the limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class Budget:
    """At most `per_minute` acquisitions in any 60-second window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = max(1, per_minute)
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - WINDOW_SECONDS:
            self._times.popleft()

    def try_acquire(self) -> bool:
        with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._times) >= self._limit:
                return False
            self._times.append(now)
            return True

    def wait_seconds(self) -> float:
        """How long until the next acquisition can succeed."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._times) < self._limit:
                return 0.0
            return max(0.0, self._times[0] + WINDOW_SECONDS - now)

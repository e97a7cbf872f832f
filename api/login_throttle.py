"""Failed dashboard logins, counted per client address and per username, with a growing lockout.

After `free_failures` misses in a row on one key (an address or a username), that key is locked for
`base_seconds`, doubling with each further miss up to `max_seconds`. While locked, every attempt is
refused with 429 + Retry-After before the password is even checked, so a correct guess made during a
lockout is refused too. A success clears both keys; a key quiet for `forget_seconds` starts over.
Counts live in this process (bounded): with several workers each keeps its own.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    locked_until: float


class LoginThrottle:
    def __init__(self, free_failures: int = 5, base_seconds: float = 2.0, max_seconds: float = 900.0,
                 forget_seconds: float = 3600.0, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._free = free_failures
        self._base = base_seconds
        self._max = max_seconds
        self._forget = forget_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    @staticmethod
    def keys(address: str | None, username: str) -> tuple[str, str]:
        return f"addr:{address or '?'}", f"user:{username[:256]}"

    def retry_after(self, keys: tuple[str, ...]) -> int | None:
        """Seconds until these keys may try again, or None when not locked."""
        now = self._clock()
        wait = max((f.locked_until - now for k in keys if (f := self._keys.get(k)) is not None), default=0.0)
        return math.ceil(wait) if wait > 0 else None

    def failed(self, keys: tuple[str, ...]) -> int | None:
        """Record a miss; returns the lockout (seconds) it started, if any."""
        now = self._clock()
        longest = 0.0
        for key in keys:
            entry = self._keys.pop(key, None)
            if entry is None or now - entry.last > self._forget:
                entry = _Failures(0, now, 0.0)
            entry.count += 1
            entry.last = now
            if entry.count >= self._free:
                lock = min(self._max, self._base * 2 ** (entry.count - self._free))
                entry.locked_until = now + lock
                longest = max(longest, lock)
            self._keys[key] = entry  # most recently failed last: eviction drops the stalest first
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)
        return math.ceil(longest) if longest else None

    def succeeded(self, keys: tuple[str, ...]) -> None:
        for key in keys:
            self._keys.pop(key, None)

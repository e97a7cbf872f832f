"""The one wall clock, in the unit every stored time uses: integer microseconds since the Unix epoch.

Storage itself never reads it (callers pass `now_us` in, so tests can fix time); the edges do.
"""

from __future__ import annotations

import time


def now_us() -> int:
    return time.time_ns() // 1000

"""Records the dashboard reads: usage rollups, latency percentiles, users, admin logins and web sessions.

Kept apart from `protocol.py` so the core contract stays short; every backend returns exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HOUR_US = 3_600_000_000

# Upper bounds (ms) of the latency histogram kept per (project, hour, model); the last bucket is open.
LATENCY_BOUNDS_MS: tuple[float, ...] = (100, 250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000, 120000)


def latency_bucket(latency_ms: float) -> int:
    """Index of the histogram bucket holding `latency_ms` (bounds are inclusive upper bounds)."""
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        if latency_ms <= bound:
            return index
    return len(LATENCY_BOUNDS_MS)


def quantile_from_histogram(counts: dict[int, int], q: float) -> float | None:
    """Estimate a quantile by linear interpolation inside the bucket that holds it.

    The open last bucket answers its lower bound: we cannot know how far beyond it the tail goes.
    """
    total = sum(counts.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index in range(len(LATENCY_BOUNDS_MS) + 1):
        n = counts.get(index, 0)
        if n and seen + n >= rank:
            low = 0.0 if index == 0 else LATENCY_BOUNDS_MS[index - 1]
            if index == len(LATENCY_BOUNDS_MS):
                return low
            high = LATENCY_BOUNDS_MS[index]
            return low + (high - low) * max(0.0, rank - seen) / n
        seen += n
    return LATENCY_BOUNDS_MS[-1]


@dataclass(slots=True, frozen=True)
class UsageBucket:
    """Totals of the events whose timestamp falls in [start_us, start_us + bucket)."""

    start_us: int
    events: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost_cents: float | None  # None when no event in the bucket had a cost
    success_count: int
    failure_count: int


@dataclass(slots=True, frozen=True)
class SessionBucket:
    """Sessions that started in the bucket, and the distinct users among them."""

    start_us: int
    sessions: int
    users: int


@dataclass(slots=True, frozen=True)
class LatencyBucket:
    start_us: int
    count: int  # events with a latency
    p50_ms: float | None
    p95_ms: float | None


@dataclass(slots=True, frozen=True)
class ModelUsage:
    model: str | None
    events: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost_cents: float | None
    success_count: int
    failure_count: int


@dataclass(slots=True)
class UserQuery:
    prefix: str | None = None  # user ids starting with this text
    after: str | None = None  # keyset cursor: the last user_id of the previous page
    limit: int = 50


@dataclass(slots=True, frozen=True)
class UserSummary:
    user_id: str
    sessions: int
    events: int
    tokens_in: int
    tokens_out: int
    cost_cents: float | None
    flagged_count: int
    success_count: int
    failure_count: int
    first_us: int
    last_us: int


SessionSort = Literal["activity", "start", "duration", "events", "cost", "tokens"]


@dataclass(slots=True)
class SessionSearch:
    """The dashboard's session list: the API's filters plus text search and a choice of sort."""

    user_id: str | None = None
    model: str | None = None
    tag: str | None = None
    has_failures: bool | None = None
    since_us: int | None = None
    until_us: int | None = None
    text: str | None = None  # sessions holding at least one event matching the full-text query
    sort: SessionSort = "activity"
    descending: bool = True
    after: tuple[float, str] | None = None  # keyset cursor: (sort value, session_id)
    limit: int = 50


@dataclass(slots=True, frozen=True)
class AdminCredentials:
    username: str
    password_hash: str  # self-describing hash string; verified by the api layer
    created_us: int
    updated_us: int


@dataclass(slots=True, frozen=True)
class WebSession:
    """A logged-in browser. Only the hash of the cookie's token is stored."""

    token_hash: str
    username: str
    csrf_token: str
    created_us: int
    expires_us: int

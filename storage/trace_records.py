"""What trace reads return: a trace's span tree, and one line per trace for listings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from phosphobs.storage.protocol import StoredEvent


@dataclass(slots=True)
class TraceSpan:
    """One span of a stored tree: a `spans` row, or a call span read from its event (`event` set)."""

    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_us: int
    end_us: int
    status: str
    error: str | None
    event_id: str | None
    agent_name: str | None = None
    tool_name: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_cents: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    event: StoredEvent | None = None


@dataclass(slots=True)
class TraceRecord:
    trace_id: str
    session_id: str | None
    user_id: str | None
    start_us: int
    end_us: int
    spans: list[TraceSpan]  # ordered by start, then span id


@dataclass(slots=True)
class TraceSummary:
    trace_id: str
    session_id: str | None
    user_id: str | None
    root_name: str | None
    start_us: int
    end_us: int
    span_count: int
    llm_calls: int
    tokens_in: int
    tokens_out: int
    cost_cents: float | None
    has_error: bool


@dataclass(slots=True)
class TraceQuery:
    session_id: str | None = None
    user_id: str | None = None
    since_us: int | None = None  # traces with a call in [since, until)
    until_us: int | None = None
    has_errors: bool | None = None
    after: tuple[int, int] | None = None  # keyset cursor over events: (timestamp_us, seq)
    limit: int = 50

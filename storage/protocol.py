"""The `Storage` contract every backend fulfils; the shared storage test suite holds them to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from phosphobs.storage.models import Event, EventPatch, Feedback, Flag, TraceHint


@dataclass(slots=True)
class IngestOp:
    """One client request's worth of telemetry: written all-or-nothing, rate-limited as one."""

    project_id: str
    events: list[Event]
    rate_limit_per_min: int | None  # None: not limited
    patches: list[EventPatch] = field(default_factory=list)
    trace_hints: list[TraceHint] = field(default_factory=list)
    received_us: int = 0


@dataclass(slots=True)
class FeedbackOp:
    project_id: str
    feedback: Feedback
    received_us: int = 0


@dataclass(slots=True)
class TouchKeyOp:
    """Record that a key was used; written with the next group commit, never awaited."""

    key_id: str
    used_us: int


WriteOp = IngestOp | FeedbackOp | TouchKeyOp


@dataclass(slots=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_us: int  # start of the next window


@dataclass(slots=True)
class WriteResult:
    """Outcome of one op. `statuses` is per event, in request order: created | duplicate."""

    ok: bool
    statuses: list[Literal["created", "duplicate"]] = field(default_factory=list)
    rate_limit: RateLimitState | None = None
    rate_limited: bool = False
    error: str | None = None


@dataclass(slots=True, frozen=True)
class Project:
    id: str
    name: str
    plan: str
    rate_limit_per_min: int | None
    created_us: int


@dataclass(slots=True, frozen=True)
class ApiKey:
    id: str
    project_id: str
    name: str
    prefix: str
    created_us: int
    last_used_us: int | None
    revoked_us: int | None


@dataclass(slots=True, frozen=True)
class KeyMatch:
    """What a presented key resolves to; `key_hash` is compared in constant time by the caller."""

    key: ApiKey
    key_hash: str
    project: Project


@dataclass(slots=True)
class EventQuery:
    session_id: str | None = None
    user_id: str | None = None
    model: str | None = None
    provider: str | None = None
    tag: str | None = None
    flag: Flag | None = None
    kind: str | None = None
    since_us: int | None = None
    until_us: int | None = None
    text: str | None = None
    after: tuple[int, int] | None = None  # keyset cursor: (timestamp_us, seq)
    limit: int = 50


@dataclass(slots=True)
class SessionQuery:
    user_id: str | None = None
    model: str | None = None
    tag: str | None = None
    has_failures: bool | None = None
    since_us: int | None = None
    until_us: int | None = None
    after: tuple[int, str] | None = None  # keyset cursor: (end_us, session_id)
    limit: int = 50


@dataclass(slots=True)
class StoredEvent:
    event: Event
    seq: int
    project_id: str
    session_id: str | None  # effective session (explicit, trace or derived)
    flag: Flag | None  # effective flag: latest feedback, else the event's own
    received_us: int
    user_id: str | None = None  # effective user: the event's own, else its trace's


@dataclass(slots=True)
class SessionRecord:
    project_id: str
    session_id: str
    kind: str
    user_id: str | None
    start_us: int
    end_us: int
    event_count: int
    tokens_in: int
    tokens_out: int
    cost_cents: float | None
    flagged_count: int
    success_count: int
    failure_count: int
    models: list[str]
    tags: list[str]


@dataclass(slots=True, frozen=True)
class FeedbackRecord:
    id: int
    event_id: str
    flag: Flag
    comment: str | None
    source: str | None
    created_us: int


T = TypeVar("T")


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    next_after: Any | None


class Storage(Protocol):
    """Everything the server needs from a database. Methods are blocking; call them off the loop."""

    def migrate(self) -> list[str]: ...
    def close(self) -> None: ...

    # writes: one transaction for the whole list (group commit); each op succeeds or fails alone
    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]: ...

    # projects and keys
    def create_project(self, name: str, plan: str, now_us: int) -> Project: ...
    def get_project(self, name_or_id: str) -> Project | None: ...
    def list_projects(self) -> list[Project]: ...
    def set_project_plan(self, project_id: str, plan: str, rate_limit_per_min: int | None) -> None: ...
    def create_key(self, project_id: str, name: str, prefix: str, key_hash: str, now_us: int) -> ApiKey: ...
    def find_key(self, key_hash: str) -> KeyMatch | None: ...
    def list_keys(self, project_id: str | None = None) -> list[ApiKey]: ...
    def revoke_key(self, key_id_or_prefix: str, now_us: int) -> ApiKey | None: ...

    # reads
    def get_event(self, project_id: str, event_id: str) -> StoredEvent | None: ...
    def list_events(self, project_id: str, query: EventQuery) -> Page[StoredEvent]: ...
    def list_feedback(self, project_id: str, event_id: str) -> list[FeedbackRecord]: ...
    def get_session(self, project_id: str, session_id: str) -> SessionRecord | None: ...
    def list_sessions(self, project_id: str, query: SessionQuery) -> Page[SessionRecord]: ...
    def session_events(self, project_id: str, session_id: str, limit: int) -> list[StoredEvent]: ...

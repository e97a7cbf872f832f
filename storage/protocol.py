"""The storage contract, split by role: each consumer depends on the narrowest role it uses.

`Storage` is every role at once: what a backend implements (the shared storage suite holds them to it)
and what the process edge opens. Backend construction details (pools, writer processes, how many
commits may be in flight) are not part of it: see `phosphobs.storage.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from phosphobs.storage.dashboard_records import (
    AdminCredentials,
    LatencyBucket,
    ModelUsage,
    SessionBucket,
    SessionSearch,
    UsageBucket,
    UserQuery,
    UserSummary,
    WebSession,
)
from phosphobs.storage.detection_records import (
    AgreementCounts,
    Detection,
    DetectionLag,
    Disagreement,
    Outcome,
    QueuedEvent,
)
from phosphobs.storage.models import Evaluation, Event, EventPatch, Feedback, Flag, SpanRecord, TraceHint

if TYPE_CHECKING:
    from phosphobs.storage.trace_records import TraceQuery, TraceRecord, TraceSummary


@dataclass(slots=True)
class IngestOp:
    """One client request's worth of telemetry: written all-or-nothing, rate-limited as one."""

    project_id: str
    events: list[Event]
    rate_limit_per_min: int | None  # None: not limited
    patches: list[EventPatch] = field(default_factory=list)
    trace_hints: list[TraceHint] = field(default_factory=list)
    received_us: int = 0
    evaluations: list[Evaluation] = field(default_factory=list)  # OTel gen_ai.evaluation.result records
    spans: list[SpanRecord] = field(default_factory=list)  # trace spans that are not events (`sql/span_tree.py`)


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
    flag_source: str | None = None  # user | detector | otel | none
    detected_flag: Flag | None = None
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
    flag_source: str | None = None  # sessions with an event whose final flag came from there
    detected_flag: Flag | None = None  # sessions with an event detected so
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
    flag_source: str | None = None  # user | detector | otel
    detected_flag: Flag | None = None


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
R = TypeVar("R")


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    next_after: Any | None


class EventWriter(Protocol):
    """The ingest pipeline's view: group commits. Blocking, like every method here: call off the loop."""

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        """One transaction for the whole list (group commit); each op succeeds or fails alone."""
        ...


class KeyLookup(Protocol):
    """Authentication's view: what a presented key's hash resolves to."""

    def find_key(self, key_hash: str) -> KeyMatch | None: ...


class ProjectsAndKeys(KeyLookup, Protocol):
    """Projects and API keys, for the CLI and bootstrap."""

    def create_project(self, name: str, plan: str, now_us: int) -> Project: ...
    def get_project(self, name_or_id: str) -> Project | None: ...
    def list_projects(self) -> list[Project]: ...
    def set_project_plan(self, project_id: str, plan: str, rate_limit_per_min: int | None) -> None: ...
    def create_key(self, project_id: str, name: str, prefix: str, key_hash: str, now_us: int) -> ApiKey: ...
    def list_keys(self, project_id: str | None = None) -> list[ApiKey]: ...
    def revoke_key(self, key_id_or_prefix: str, now_us: int) -> ApiKey | None: ...


class EventReads(Protocol):
    """The REST API's reads of events, feedback and sessions.

    Each call reads one committed state. Reads that must agree with each other (an event and its
    detections) go through `snapshot`: its function's calls on the storage it is given all see one state.
    """

    def snapshot(self, fn: Callable[[Storage], R]) -> R: ...

    def get_event(self, project_id: str, event_id: str) -> StoredEvent | None: ...
    def list_events(self, project_id: str, query: EventQuery) -> Page[StoredEvent]: ...
    def list_feedback(self, project_id: str, event_id: str) -> list[FeedbackRecord]: ...
    def get_session(self, project_id: str, session_id: str) -> SessionRecord | None: ...
    def list_sessions(self, project_id: str, query: SessionQuery) -> Page[SessionRecord]: ...
    def session_events(self, project_id: str, session_id: str, limit: int) -> list[StoredEvent]: ...

    # span trees (`storage/sql/trace_reads.py`)
    def get_trace(self, project_id: str, trace_id: str) -> TraceRecord | None: ...
    def list_traces(self, project_id: str, query: TraceQuery) -> Page[TraceSummary]: ...
    def session_traces(self, project_id: str, session_id: str) -> list[str]: ...


class DashboardReads(EventReads, Protocol):
    """The dashboard's reads: the API's, plus charts and lists.

    Time-series reads come from rollups kept at write time (`usage_hourly`, `latency_hourly`: one row per
    (project, hour, model or ''), updated in the same transaction as the events and feedback they count)
    and from the `sessions` table; none scans events. `bucket_us` is a multiple of one hour, buckets are
    aligned to the Unix epoch (start = floor(t / bucket_us) * bucket_us); ranges are [since_us, until_us)
    on the hour of the event's timestamp; only non-empty buckets are returned, oldest first.
    `prune` deliberately leaves the rollups alone: hourly history outlives the raw events it summarised.
    """

    def usage_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[UsageBucket]:
        """Per bucket: events, errors (status 'error'), tokens, cost (None if no event had one), flags."""
        ...

    def session_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[SessionBucket]:
        """Per bucket of session *start*: sessions started, distinct non-null user ids among them."""
        ...

    def latency_percentiles(self, project_id: str, since_us: int, until_us: int,
                            bucket_us: int) -> list[LatencyBucket]:
        """p50/p95 of latency_ms per bucket, estimated from the histogram (`quantile_from_histogram`)."""
        ...

    def top_models(self, project_id: str, since_us: int, until_us: int, limit: int) -> list[ModelUsage]:
        """Models by event count in the range, most used first (ties by name); events without one: None."""
        ...

    def list_users(self, project_id: str, query: UserQuery) -> Page[UserSummary]:
        """Users of the project's sessions (non-null user_id) by user_id ascending; keyset on user_id."""
        ...

    def search_sessions(self, project_id: str, query: SessionSearch) -> Page[SessionRecord]:
        """`list_sessions`' filters plus full-text search and sorts; ties broken by session_id, same direction.

        Sort values: activity=end_us, start=start_us, duration=end_us-start_us, events=event_count,
        cost=COALESCE(cost_cents, 0), tokens=tokens_in+tokens_out. next_after = (sort value, session_id).
        """
        ...


class AdminConsole(DashboardReads, ProjectsAndKeys, Protocol):
    """The dashboard's project pages: its reads plus the project's keys and plan."""


class WebAdmins(Protocol):
    """Dashboard admins and their browser sessions."""

    def get_admin(self, username: str) -> AdminCredentials | None: ...
    def count_admins(self) -> int: ...
    def set_admin_password(self, username: str, password_hash: str, now_us: int) -> None:
        """Create the admin or replace its password; either way every web session it had is ended."""
        ...

    def create_web_session(self, session: WebSession) -> None: ...
    def get_web_session(self, token_hash: str, now_us: int) -> WebSession | None:
        """The session if it exists and has not expired (expires_us > now_us)."""
        ...

    def delete_web_session(self, token_hash: str, now_us: int) -> None:
        """End one session, and drop every expired one while at it."""
        ...


class ServerSecrets(Protocol):
    """Hashes of server-wide secrets (the metrics scrape token): created once, read by every process."""

    def get_server_secret(self, name: str) -> str | None:
        """The stored hash of a server-wide secret (e.g. 'metrics_token'), None if never created."""
        ...

    def add_server_secret(self, name: str, secret_hash: str, now_us: int) -> bool:
        """Store the hash unless one is stored already; True when this call stored it."""
        ...


class Maintenance(Protocol):
    def migrate(self) -> list[str]:
        """Apply pending schema steps; returns the names applied (empty: already up to date)."""
        ...

    def close(self) -> None: ...

    def prune(self, older_than_us: int) -> int:
        """Delete events with ts_us < older_than_us (and their tags, feedback, patches); sessions that lose
        events are recomputed from what is left, or removed when empty. Returns how many events went."""
        ...


class Storage(EventWriter, AdminConsole, WebAdmins, ServerSecrets, Maintenance, Protocol):
    """Every role: what a backend implements and the process edge opens."""


# detection (issue 15): the worker, the quality API and the dashboard's quality card
class DetectionClaim(Protocol):
    """A claimed batch: nobody else works on `items` until `complete` commits or the claim ends."""

    items: list[QueuedEvent]

    def complete(self, outcomes: list[Outcome], now_us: int) -> None: ...


class DetectionStore(Protocol):
    def claim_detections(self, limit: int, ready_us: int) -> AbstractContextManager[DetectionClaim]: ...
    def judge_examples(self, project_id: str, limit: int) -> list[tuple[str, str, str]]: ...
    def session_neighbours(self, project_id: str, session_id: str, ts_us: int, seq: int,
                           before: int) -> tuple[list[Any], Any | None]: ...
    def judge_enabled(self, project_id: str) -> bool: ...
    def set_judge_enabled(self, project_id: str, enabled: bool) -> None: ...
    def detections_for(self, project_id: str, event_ids: list[str]) -> dict[str, list[Detection]]: ...
    def evaluations_for(self, project_id: str, keys: list[tuple[str, str | None, str | None, str | None]]
                        ) -> dict[str, list[Evaluation]]:
        """Per (event_id, response_id, trace_id, span_id): the event's evaluations, oldest first; a whole
        trace's go to the trace's final call."""
        ...
    def human_rates(self, project_id: str, session_ids: list[str]) -> dict[str, tuple[int, int]]: ...
    def quality(self, project_id: str, since_us: int, until_us: int) -> list[AgreementCounts]: ...
    def disagreements(self, project_id: str, since_us: int, until_us: int, limit: int) -> list[Disagreement]: ...
    def rerun_detection(self, project_id: str, since_us: int, until_us: int, now_us: int, limit: int) -> int: ...
    def human_totals(self, project_id: str, since_us: int, until_us: int) -> tuple[int, int]: ...
    def detection_lag(self, project_id: str | None = None) -> DetectionLag: ...

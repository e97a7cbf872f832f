"""Records of automatic detection and OTel evaluations, shared by both backends and the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from phosphobs.storage.models import Evaluation, Flag

if TYPE_CHECKING:
    from phosphobs.storage.protocol import StoredEvent

__all__ = ["Evaluation"]

FlagSource = Literal["user", "detector", "otel"]
Evidence = Literal["hard", "soft"]


@dataclass(slots=True, frozen=True)
class Detection:
    """One detector's verdict on one event; `flag` None means it abstained or failed (`error`)."""

    detector: str
    version: str
    flag: Flag | None
    score: float | None = None  # probability of success
    reason: str | None = None
    evidence: Evidence | None = None  # 'hard': an error or empty output, beats the judge
    error: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    created_us: int = 0


@dataclass(slots=True)
class QueuedEvent:
    """A claimed queue entry with what the detectors need to judge it."""

    seq: int
    attempts: int
    rerun: bool
    stored: StoredEvent
    done: set[tuple[str, str]] = field(default_factory=set)  # (detector, version) already recorded


@dataclass(slots=True)
class Outcome:
    """What the worker concluded for one queued event.

    `detections` are recorded (replacing a row of the same detector and version); `blame_previous`
    is a rules detection for the session's previous event (the user said it was wrong); `retry_at_us`
    keeps the entry queued until then (a detector could not run yet), otherwise it leaves the queue.
    """

    seq: int
    project_id: str
    event_id: str
    detections: list[Detection] = field(default_factory=list)
    blame_previous: tuple[str, Detection] | None = None  # (previous event_id, detection)
    retry_at_us: int | None = None


@dataclass(slots=True, frozen=True)
class AgreementCounts:
    """Per detector, over a time range: what it found, and how it compares with human flags."""

    detector: str
    judged: int  # events with a success/failure verdict
    failures: int
    errors: int
    both_success: int  # detector success, human success
    both_failure: int
    detector_failure_human_success: int
    detector_success_human_failure: int


@dataclass(slots=True, frozen=True)
class Disagreement:
    event_id: str
    ts_us: int
    detector: str
    detector_flag: Flag
    human_flag: Flag
    score: float | None
    reason: str | None
    input: str
    output: str


@dataclass(slots=True, frozen=True)
class DetectionLag:
    queued: int
    oldest_enqueued_us: int | None

"""The narrow door from every receiver to storage, and its outcome in HTTP terms.

Receivers (native, feedback, OTLP/HTTP, OTLP/gRPC) get an `Intake` (in the server, the pipeline) and
use only this: admit a request before reading it (its bytes held until it is answered), have its CPU
work done off the event loop, ask the rate gate, submit ops. Every refusal is mapped here, once, so all
ingest edges answer alike: 503 + Retry-After when overloaded (Retry-After 5 while shutting down), 503
`storage_unavailable` when the database fails, 429 past the rate limit, and 422 when the database
refuses this request's data alone (a permanent problem: never a retryable 5xx).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from phosphobs.collector.errors import INVALID, OVERLOADED, RATE_LIMITED, STORAGE_FAILED, ApiError
from phosphobs.collector.principal import Principal
from phosphobs.collector.rate_gate import RateGate
from phosphobs.collector.storable import make_storable
from phosphobs.storage.clock import now_us
from phosphobs.storage.models import Evaluation, Event, EventPatch, Feedback, SpanRecord, TraceHint
from phosphobs.storage.pricing import estimate_costs
from phosphobs.storage.protocol import FeedbackOp, IngestOp, RateLimitState, WriteOp, WriteResult


class PipelineFull(Exception):
    """The queue (or the admission budget) is at capacity; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PipelineClosed(Exception):
    """The pipeline is shutting down and takes no more work."""


class OpRefused(Exception):
    """This op's data cannot be stored (a permanent problem of the request, never retried)."""


@dataclass(slots=True)
class Reservation:
    """Bytes one request holds in the admission budget from admission until it is answered."""

    nbytes: int
    released: bool = False


class Submit(Protocol):
    """Commit one op and return its result once it is on disk.

    Raises `PipelineFull` or `PipelineClosed` to refuse it for now, `OpRefused` when its data cannot
    be stored; any other exception means the database failed the commit.
    """

    async def __call__(self, op: WriteOp, /) -> WriteResult: ...


class Intake(Protocol):
    """What a receiver may do with the pipeline (see the module docstring)."""

    rate_gate: RateGate

    async def submit(self, op: WriteOp, /) -> WriteResult: ...

    def admit(self, nbytes: int) -> Reservation: ...

    def grow(self, reservation: Reservation, nbytes: int) -> None: ...

    def release(self, reservation: Reservation) -> None: ...

    async def offload(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


def rate_limit_headers(state: RateLimitState | None, at_us: int) -> dict[str, str]:
    if state is None:
        return {}
    reset_s = max(1, math.ceil((state.reset_us - at_us) / 1e6))
    return {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(max(0, state.remaining)),
        "X-RateLimit-Reset": str(reset_s),
    }


def overloaded(exc: PipelineFull | PipelineClosed) -> ApiError:
    """503 + Retry-After: retryable, the request was not stored."""
    if isinstance(exc, PipelineClosed):
        return ApiError(OVERLOADED, str(exc), headers={"Retry-After": "5"})
    return ApiError(OVERLOADED, f"{exc}; retry shortly", headers={"Retry-After": str(exc.retry_after)})


def rate_limited(state: RateLimitState, items: int, at_us: int) -> ApiError:
    headers = rate_limit_headers(state, at_us)
    return ApiError(
        RATE_LIMITED,
        f"rate limit of {state.limit} events/min reached; {max(0, state.remaining)} left in this window and this"
        f" request has {items}; nothing was stored",
        headers={**headers, "Retry-After": headers["X-RateLimit-Reset"]},
    )


def check_rate_gate(gate: RateGate, principal: Principal, items: int) -> None:
    """429 right after decoding when the project's window is known to be spent (see `RateGate`)."""
    at = now_us()
    state = gate.refuses(principal.project_id, items, at)
    if state is not None:
        raise rate_limited(state, items, at)


def prepare(events: list[Event], patches: list[EventPatch],
            hints: list[TraceHint]) -> tuple[list[EventPatch], list[TraceHint]]:
    """Costs estimated and everything made storable (CPU work: receivers run it off the event loop)."""
    estimate_costs(events)
    return make_storable(events, patches, hints)


async def commit(submit: Submit, op: WriteOp) -> WriteResult:
    """Every failure of one op's commit as the ApiError to answer. A failure of this op alone (its group
    committed without it) is a problem of its data: 422. Only a failure of the database or of the whole
    commit is a retryable 503."""
    try:
        result = await submit(op)
    except (PipelineFull, PipelineClosed) as exc:
        raise overloaded(exc) from exc
    except OpRefused as exc:
        raise ApiError(INVALID, f"{exc}; nothing was stored") from exc
    except Exception as exc:
        raise ApiError(STORAGE_FAILED, "the database could not commit this request; nothing was stored",
                       headers={"Retry-After": "1"}) from exc
    if not result.ok and not result.rate_limited:
        raise ApiError(INVALID, f"the database refused this request's data; nothing was stored: {result.error}")
    return result


async def submit_ingest(
    submit: Submit,
    principal: Principal,
    events: list[Event],
    patches: list[EventPatch] | None = None,
    hints: list[TraceHint] | None = None,
    spans: list[SpanRecord] | None = None,
    evaluations: list[Evaluation] | None = None,
    *,
    prepared: bool = False,
) -> tuple[WriteResult, dict[str, str]]:
    """Commit the records; returns the result and rate-limit headers, or raises the ApiError to send.

    `prepared`: `prepare` already ran (off the event loop); otherwise it runs here."""
    patches, hints = patches or [], hints or []
    if not prepared:
        patches, hints = prepare(events, patches, hints)
    received = now_us()
    op = IngestOp(
        project_id=principal.project_id, events=events, rate_limit_per_min=principal.rate_limit_per_min,
        patches=patches, trace_hints=hints, received_us=received, spans=spans or [],
        evaluations=evaluations or [],
    )
    result = await commit(submit, op)
    headers = rate_limit_headers(result.rate_limit, received)
    if result.rate_limited:
        assert result.rate_limit is not None
        raise rate_limited(result.rate_limit, len(events) + len(patches), received)
    return result, headers


async def submit_evaluations(submit: Submit, principal: Principal, evaluations: list[Evaluation]) -> None:
    """Commit other tools' evaluations (Langfuse scores, Phoenix annotations) in one op: on disk before the
    answer, refused exactly as an ingest request would be."""
    if evaluations:
        await submit_ingest(submit, principal, [], evaluations=evaluations)


async def submit_feedback(submit: Submit, project_id: str, feedback: Feedback) -> WriteResult:
    """Commit one feedback flag (API or dashboard), refused exactly as an ingest request would be."""
    return await commit(submit, FeedbackOp(project_id, feedback, received_us=now_us()))

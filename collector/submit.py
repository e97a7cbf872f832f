"""Handing normalized records to the pipeline and turning the outcome into HTTP terms (shared by receivers)."""

from __future__ import annotations

import math

from phosphobs.collector.costs import estimate_costs
from phosphobs.collector.errors import INVALID, OVERLOADED, RATE_LIMITED, STORAGE_FAILED, ApiError
from phosphobs.collector.native import now_us
from phosphobs.collector.pipeline import IngestPipeline, OpRefused, PipelineClosed, PipelineFull
from phosphobs.collector.principal import Principal
from phosphobs.collector.storable import make_storable
from phosphobs.storage.models import Event, EventPatch, TraceHint
from phosphobs.storage.protocol import IngestOp, RateLimitState, WriteOp, WriteResult


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


def check_rate_gate(pipeline: IngestPipeline, principal: Principal, items: int) -> None:
    """429 right after decoding when the project's window is known to be spent (see `RateGate`)."""
    at = now_us()
    state = pipeline.rate_gate.refuses(principal.project_id, items, at)
    if state is not None:
        raise rate_limited(state, items, at)


async def commit(pipeline: IngestPipeline, op: WriteOp) -> WriteResult:
    """Queue one op and wait for its commit; every failure becomes the ApiError to answer.

    A failure of this op alone (its group committed without it) is a problem of its data: 422, never
    retried. Only a failure of the database or of the whole commit is a retryable 503."""
    try:
        result = await pipeline.submit(op)
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


def prepare(events: list[Event], patches: list[EventPatch],
            hints: list[TraceHint]) -> tuple[list[EventPatch], list[TraceHint]]:
    """Costs estimated and everything made storable (CPU work: receivers run it in a worker thread)."""
    estimate_costs(events)
    return make_storable(events, patches, hints)


async def submit_prepared(
    pipeline: IngestPipeline,
    principal: Principal,
    events: list[Event],
    patches: list[EventPatch],
    hints: list[TraceHint],
) -> tuple[WriteResult, dict[str, str]]:
    """Commit prepared records; returns the result and rate-limit headers, or raises the ApiError to send."""
    check_rate_gate(pipeline, principal, len(events) + len(patches))
    received = now_us()
    op = IngestOp(
        project_id=principal.project_id, events=events, rate_limit_per_min=principal.rate_limit_per_min,
        patches=patches, trace_hints=hints, received_us=received,
    )
    result = await commit(pipeline, op)
    headers = rate_limit_headers(result.rate_limit, received)
    if result.rate_limited:
        assert result.rate_limit is not None
        raise rate_limited(result.rate_limit, len(events) + len(patches), received)
    return result, headers

"""The narrow door from every receiver to storage: a `Submit` function, and its outcome in HTTP terms.

Receivers (native, feedback, OTLP/HTTP, OTLP/gRPC) get a `Submit` (in the server, the pipeline's bound
`submit`) and never see the pipeline itself. Every refusal is mapped here, once, so all ingest edges
answer alike: 503 + Retry-After 1 when the queue is full, 503 + Retry-After 5 while shutting down,
503 `storage_unavailable` when the database fails, 429 past the rate limit.
"""

from __future__ import annotations

import math
from typing import Protocol

from phosphobs.collector.costs import estimate_costs
from phosphobs.collector.errors import OVERLOADED, RATE_LIMITED, STORAGE_FAILED, ApiError
from phosphobs.collector.principal import Principal
from phosphobs.storage.clock import now_us
from phosphobs.storage.models import Evaluation, Event, EventPatch, Feedback, TraceHint
from phosphobs.storage.protocol import FeedbackOp, IngestOp, RateLimitState, WriteOp, WriteResult


class PipelineFull(Exception):
    """The queue is at capacity; retry after a moment."""


class PipelineClosed(Exception):
    """The pipeline is shutting down and takes no more work."""


class Submit(Protocol):
    """Commit one op and return its result once it is on disk.

    Raises `PipelineFull` or `PipelineClosed` to refuse it for now; any other exception means the
    database failed the commit.
    """

    async def __call__(self, op: WriteOp, /) -> WriteResult: ...


def rate_limit_headers(state: RateLimitState | None, at_us: int) -> dict[str, str]:
    if state is None:
        return {}
    reset_s = max(1, math.ceil((state.reset_us - at_us) / 1e6))
    return {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(max(0, state.remaining)),
        "X-RateLimit-Reset": str(reset_s),
    }


async def _commit(submit: Submit, op: WriteOp) -> WriteResult:
    try:
        return await submit(op)
    except PipelineFull as exc:
        raise ApiError(OVERLOADED, f"{exc}; retry shortly", headers={"Retry-After": "1"}) from exc
    except PipelineClosed as exc:
        raise ApiError(OVERLOADED, str(exc), headers={"Retry-After": "5"}) from exc
    except Exception as exc:
        raise ApiError(STORAGE_FAILED, "the database could not commit this request; nothing was stored",
                       headers={"Retry-After": "1"}) from exc


async def submit_ingest(
    submit: Submit,
    principal: Principal,
    events: list[Event],
    patches: list[EventPatch] | None = None,
    hints: list[TraceHint] | None = None,
    evaluations: list[Evaluation] | None = None,
) -> tuple[WriteResult, dict[str, str]]:
    """Commit the records; returns the result and rate-limit headers, or raises the ApiError to send."""
    estimate_costs(events)
    received = now_us()
    op = IngestOp(
        project_id=principal.project_id, events=events, rate_limit_per_min=principal.rate_limit_per_min,
        patches=patches or [], trace_hints=hints or [], received_us=received, evaluations=evaluations or [],
    )
    result = await _commit(submit, op)
    headers = rate_limit_headers(result.rate_limit, received)
    if result.rate_limited:
        assert result.rate_limit is not None
        raise ApiError(
            RATE_LIMITED,
            f"rate limit of {result.rate_limit.limit} events/min reached; {result.rate_limit.remaining} left in"
            f" this window and this request has {len(events) + len(patches or [])}; nothing was stored",
            headers={**headers, "Retry-After": headers["X-RateLimit-Reset"]},
        )
    if not result.ok:
        raise ApiError(STORAGE_FAILED, f"nothing was stored: {result.error}", headers={"Retry-After": "1"})
    return result, headers


async def submit_feedback(submit: Submit, project_id: str, feedback: Feedback) -> WriteResult:
    """Commit one feedback flag (API or dashboard), refused exactly as an ingest request would be."""
    result = await _commit(submit, FeedbackOp(project_id, feedback, received_us=now_us()))
    if not result.ok:
        raise ApiError(STORAGE_FAILED, f"feedback not stored: {result.error}", headers={"Retry-After": "1"})
    return result

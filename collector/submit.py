"""Handing normalized records to the pipeline and turning the outcome into HTTP terms (shared by receivers)."""

from __future__ import annotations

import math

from phosphobs.collector.costs import estimate_costs
from phosphobs.collector.errors import OVERLOADED, RATE_LIMITED, STORAGE_FAILED, ApiError
from phosphobs.collector.native import now_us
from phosphobs.collector.pipeline import IngestPipeline, PipelineClosed, PipelineFull
from phosphobs.collector.principal import Principal
from phosphobs.storage.models import Evaluation, Event, EventPatch, TraceHint
from phosphobs.storage.protocol import IngestOp, RateLimitState, WriteResult


def rate_limit_headers(state: RateLimitState | None, at_us: int) -> dict[str, str]:
    if state is None:
        return {}
    reset_s = max(1, math.ceil((state.reset_us - at_us) / 1e6))
    return {
        "X-RateLimit-Limit": str(state.limit),
        "X-RateLimit-Remaining": str(max(0, state.remaining)),
        "X-RateLimit-Reset": str(reset_s),
    }


async def submit_ingest(
    pipeline: IngestPipeline,
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
    try:
        result = await pipeline.submit(op)
    except PipelineFull as exc:
        raise ApiError(OVERLOADED, f"{exc}; retry shortly", headers={"Retry-After": "1"}) from exc
    except PipelineClosed as exc:
        raise ApiError(OVERLOADED, str(exc), headers={"Retry-After": "5"}) from exc
    except Exception as exc:
        raise ApiError(STORAGE_FAILED, "the database could not commit this request; nothing was stored",
                       headers={"Retry-After": "1"}) from exc
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

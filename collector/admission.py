"""Admission of an ingest request into the pipeline's budget, before its body is read.

A request is answered 413 if it declares more than the body limit, 503 + Retry-After at once if the
queue is too far behind or its declared bytes cannot fit, and otherwise holds its bytes (declared,
then read, then decoded) until it is answered, so the bytes of every request in flight are bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from phosphobs.collector.errors import TOO_LARGE, ApiError
from phosphobs.collector.submit import Intake, PipelineClosed, PipelineFull, Reservation, overloaded
from starlette.requests import Request


def declared_length(request: Request, limit: int) -> int:
    """The declared Content-Length (0 when absent); 413 when it is over `limit`."""
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else 0
    if size > limit:
        raise ApiError(TOO_LARGE, f"request body is {declared} bytes; the limit is {limit} bytes")
    return size


@asynccontextmanager
async def admitted(intake: Intake, nbytes: int) -> AsyncIterator[Reservation]:
    """Hold `nbytes` of the budget for the block (503 now if they cannot be had)."""
    try:
        reservation = intake.admit(nbytes)
    except (PipelineFull, PipelineClosed) as exc:
        raise overloaded(exc) from exc
    try:
        yield reservation
    finally:
        intake.release(reservation)


def grow(intake: Intake, reservation: Reservation, nbytes: int) -> None:
    """Raise the reservation to what the request turned out to cost (503 if that cannot fit)."""
    try:
        intake.grow(reservation, nbytes)
    except PipelineFull as exc:
        raise overloaded(exc) from exc

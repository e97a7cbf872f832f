"""Reading request bodies with a hard size cap, before anything is parsed."""

from __future__ import annotations

from phosphobs.collector.errors import TOO_LARGE, ApiError
from starlette.requests import Request


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, or 413 as soon as it (declared or streamed) passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(TOO_LARGE, f"request body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(TOO_LARGE, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

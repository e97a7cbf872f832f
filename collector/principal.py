"""Who is sending: resolved from the API key by the app, handed to receivers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: str
    project_name: str
    rate_limit_per_min: int | None
    key_id: str


# Raises ApiError(UNAUTHENTICATED) when the request carries no valid key.
Authenticate = Callable[[HTTPConnection], Awaitable[Principal]]

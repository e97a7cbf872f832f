"""Dependency aliases so routes read uniformly: `storage: StorageDep, principal: PrincipalDep`.

Routes get the storage as `EventReads`, the only role the REST API's reads need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from phosphobs.collector.principal import Principal
from phosphobs.storage.protocol import EventReads
from starlette.concurrency import run_in_threadpool


def _storage(request: Request) -> EventReads:
    return request.app.state.storage


async def _principal(request: Request) -> Principal:
    return await request.app.state.authenticate(request)


StorageDep = Annotated[EventReads, Depends(_storage)]
PrincipalDep = Annotated[Principal, Depends(_principal)]

__all__ = ["PrincipalDep", "StorageDep", "run_in_threadpool"]

"""API-key authentication (Bearer, or HTTP Basic with the key as the password: `collector/credentials.py`)
with a short cache; revocation is honoured within `key_cache_seconds`.

A key's lookup is single-flight: when its cache entry expires under load, the requests in flight share
one database read instead of each queueing its own (hundreds at once would stall every one of them).
"""

from __future__ import annotations

import asyncio
import hmac
import time

from phosphobs.api.keys import hash_key, looks_like_key
from phosphobs.api.settings import Settings
from phosphobs.collector.credentials import CHALLENGE, MISSING, api_key
from phosphobs.collector.errors import UNAUTHENTICATED, ApiError
from phosphobs.collector.pipeline import IngestPipeline
from phosphobs.collector.principal import Principal
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import KeyLookup, TouchKeyOp
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection


class KeyAuthenticator:
    def __init__(self, storage: KeyLookup, pipeline: IngestPipeline, settings: Settings) -> None:
        self._storage = storage
        self._pipeline = pipeline
        self._settings = settings
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._pending: dict[str, asyncio.Future[Principal | None]] = {}
        self._generation = 0  # bumped by forget_cached: a lookup begun before it is not cached

    async def __call__(self, conn: HTTPConnection) -> Principal:
        token = api_key(conn.headers.get("authorization"))
        if token is None:
            raise ApiError(UNAUTHENTICATED, MISSING, headers=CHALLENGE)
        return await self.resolve(token)

    async def resolve(self, token: str) -> Principal:
        if not looks_like_key(token):
            raise ApiError(UNAUTHENTICATED, "invalid API key", headers=CHALLENGE)
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        principal = cached[1] if cached is not None and cached[0] >= now else await self._lookup_once(digest)
        if principal is None:
            raise ApiError(UNAUTHENTICATED, "invalid or revoked API key", headers=CHALLENGE)
        return principal

    async def _lookup_once(self, digest: str) -> Principal | None:
        """Look `digest` up, sharing a lookup already in flight; the answer is cached for the TTL."""
        pending = self._pending.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(run_in_threadpool(self._lookup, digest))
            self._pending[digest] = pending
            generation = self._generation
            pending.add_done_callback(lambda done: self._settle(digest, done, generation))
        return await asyncio.shield(pending)  # one waiter giving up must not cancel the others' lookup

    def _settle(self, digest: str, done: asyncio.Future[Principal | None], generation: int) -> None:
        if self._pending.get(digest) is done:
            del self._pending[digest]
        if done.cancelled() or done.exception() is not None or generation != self._generation:
            return  # a failed or outdated lookup is not cached: the next request asks again
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic() + self._settings.key_cache_seconds, done.result())

    def forget_cached(self) -> None:
        """Drop cached lookups (after a revoke or plan change in this process); other workers wait out the TTL."""
        self._cache.clear()
        self._pending.clear()
        self._generation += 1

    def _lookup(self, digest: str) -> Principal | None:
        match = self._storage.find_key(digest)
        if match is None or not hmac.compare_digest(match.key_hash, digest) or match.key.revoked_us is not None:
            return None
        self._pipeline.submit_nowait(TouchKeyOp(match.key.id, now_us()))
        project = match.project
        return Principal(
            project_id=project.id,
            project_name=project.name,
            rate_limit_per_min=self._settings.rate_limit_for(project.plan, project.rate_limit_per_min),
            key_id=match.key.id,
        )

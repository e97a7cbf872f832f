"""Bearer-key authentication with a short cache; revocation is honoured within `key_cache_seconds`."""

from __future__ import annotations

import hmac
import time

from phosphobs.api.keys import hash_key, looks_like_key
from phosphobs.api.settings import Settings
from phosphobs.collector.errors import UNAUTHENTICATED, ApiError
from phosphobs.collector.pipeline import IngestPipeline
from phosphobs.collector.principal import Principal
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import KeyLookup, TouchKeyOp
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="phosphobs"'}


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class KeyAuthenticator:
    def __init__(self, storage: KeyLookup, pipeline: IngestPipeline, settings: Settings) -> None:
        self._storage = storage
        self._pipeline = pipeline
        self._settings = settings
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def __call__(self, conn: HTTPConnection) -> Principal:
        token = bearer_token(conn)
        if token is None:
            raise ApiError(UNAUTHENTICATED, "missing API key: send 'Authorization: Bearer ph_…'", headers=_CHALLENGE)
        return await self.resolve(token)

    async def resolve(self, token: str) -> Principal:
        if not looks_like_key(token):
            raise ApiError(UNAUTHENTICATED, "invalid API key", headers=_CHALLENGE)
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or cached[0] < now:
            principal = await run_in_threadpool(self._lookup, digest)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._settings.key_cache_seconds, principal)
        else:
            principal = cached[1]
        if principal is None:
            raise ApiError(UNAUTHENTICATED, "invalid or revoked API key", headers=_CHALLENGE)
        return principal

    def forget_cached(self) -> None:
        """Drop cached lookups (after a revoke or plan change in this process); other workers wait out the TTL."""
        self._cache.clear()

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

"""Who may scrape GET /metrics: nobody anonymous, unless the operator says so.

The metrics name every project and its models, counts and costs, so they are closed by default. The
token is `PHOSPHOBS_METRICS_TOKEN` when set; otherwise the first start generates one, prints it once and
keeps only its hash in the database (every later start and worker finds it there, as with the first API
key). `PHOSPHOBS_METRICS_PUBLIC=true` opens the endpoint for setups that protect it another way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from phosphobs.api.settings import Settings
from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import Storage
from starlette.concurrency import run_in_threadpool

SECRET_NAME = "metrics_token"
TOKEN_PREFIX = "phm_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def ensure_metrics_token(storage: Storage, settings: Settings) -> str | None:
    """Generate and store the scrape token on first start; returns it only then (to be printed once)."""
    if settings.metrics_public or settings.metrics_token:
        return None
    if storage.get_server_secret(SECRET_NAME) is not None:
        return None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token if storage.add_server_secret(SECRET_NAME, token_hash(token), now_us()) else None


def bearer(header: str) -> str | None:
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class MetricsAuth:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._storage = storage
        self._public = settings.metrics_public
        self._expected = token_hash(settings.metrics_token) if settings.metrics_token else None

    async def allows(self, authorization: str) -> bool:
        if self._public:
            return True
        if self._expected is None:  # the stored token never changes while we run: read it once
            self._expected = await run_in_threadpool(self._storage.get_server_secret, SECRET_NAME)
            if self._expected is None:
                return False
        given = bearer(authorization)
        return given is not None and hmac.compare_digest(token_hash(given), self._expected)

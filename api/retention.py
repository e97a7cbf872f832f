"""Optional retention: with `retention_days` set, events older than that are pruned periodically."""

from __future__ import annotations

import asyncio
import logging

from phosphobs.storage.clock import now_us
from phosphobs.storage.protocol import Maintenance
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("phosphobs.retention")
DAY_US = 86_400 * 1_000_000


async def prune_forever(storage: Maintenance, days: int, every_seconds: float) -> None:
    """Prune now, then every `every_seconds`; a failed round is logged and retried next time."""
    while True:
        cutoff = now_us() - days * DAY_US
        try:
            removed = await run_in_threadpool(storage.prune, cutoff)
            if removed:
                log.info("retention: pruned %d events older than %d days", removed, days)
        except Exception:
            log.exception("retention: prune failed")
        await asyncio.sleep(every_seconds)

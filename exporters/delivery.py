"""How one batch (or one feedback) is delivered, written once for the thread and the asyncio sender.

A plan is a generator: it yields `Send` (the driver answers with a `Reply`) or `Wait` (the driver sleeps),
and it settles every item in the outbox counters. Drivers only do I/O, so the retry rules live here alone.
Resending reuses the same event ids, so a retry after a lost answer is stored once (the server says "duplicate").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from phosphobs.exporters.events import encode
from phosphobs.exporters.outbox import Item, Outbox
from phosphobs.exporters.retry import RetryPolicy, is_retryable_status, parse_retry_after

BATCH_PATH = "/api/ingest/batch"
FEEDBACK_PATH = "/api/feedback"


@dataclass(frozen=True, slots=True)
class Send:
    path: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class Reply:
    status: int | None  # None: no HTTP answer at all (connection refused, reset, timeout)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


class Abandon(Exception):
    """Thrown into a plan when shutdown's deadline has passed: count what is left as dropped and stop."""


Plan = Generator[Send | Wait, Reply | None, None]
Warn = Callable[[str, str], None]  # (dedupe key, message)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _error_message(reply: Reply) -> str:
    data = _json(reply.body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message", ""))
    return reply.error or reply.body[:200].decode("utf-8", "replace")


def invalid_indices(reply: Reply, size: int) -> set[int]:
    """Which events of a batch a 422 names (`loc: ["events", i, ...]`); empty when it names none."""
    data = _json(reply.body)
    details = data.get("error", {}).get("details") if isinstance(data, dict) else None
    found: set[int] = set()
    for detail in details if isinstance(details, list) else []:
        loc = detail.get("loc") if isinstance(detail, dict) else None
        if isinstance(loc, list) and len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int) \
                and 0 <= loc[1] < size:
            found.add(loc[1])
    return found


def _count_accepted(outbox: Outbox, reply: Reply, items: list[Item]) -> None:
    data = _json(reply.body)
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("status") == "duplicate":
        results = [data]
    duplicates = sum(1 for r in results or [] if isinstance(r, dict) and r.get("status") == "duplicate")
    outbox.record(sent=len(items), duplicates=duplicates)


def _request(items: list[Item]) -> Send:
    if items[0].kind == "feedback":
        return Send(FEEDBACK_PATH, encode(items[0].body))
    return Send(BATCH_PATH, encode({"events": [item.body for item in items]}))


def deliver(
    items: list[Item], outbox: Outbox, policy: RetryPolicy, warn: Warn, clock: Callable[[], float] = time.monotonic
) -> Plan:
    """Settle `items` (one batch of events, or one feedback); see the module docstring."""
    work: list[list[Item]] = [items] if items else []
    started = clock()
    try:
        while work:
            batch = work.pop()
            attempt = 0
            while batch:
                reply = yield _request(batch)
                assert reply is not None
                status = reply.status
                if status is not None and 200 <= status < 300:
                    _count_accepted(outbox, reply, batch)
                    break
                if status is None or is_retryable_status(status):
                    if policy.exhausted(started, clock()):
                        outbox.record(failed=len(batch))
                        warn("gave-up", f"phosphobs: gave up on {len(batch)} item(s) after retrying for "
                                        f"{policy.give_up_after:g}s (last: {status or reply.error})")
                        break
                    attempt += 1
                    outbox.record(retried=len(batch))
                    yield Wait(policy.delay(attempt, parse_retry_after(reply.headers.get("retry-after"))))
                    continue
                if status == 413 and len(batch) > 1:  # too big together: try the halves
                    middle = len(batch) // 2
                    work.extend([batch[middle:], batch[:middle]])
                    break
                bad = invalid_indices(reply, len(batch)) if status == 422 and len(batch) > 1 else set()
                if bad and len(bad) < len(batch):  # one bad event must not sink its 99 neighbours
                    outbox.record(failed=len(bad))
                    warn("422", f"phosphobs: the server rejected {len(bad)} invalid event(s): {_error_message(reply)}")
                    batch = [item for index, item in enumerate(batch) if index not in bad]
                    continue
                outbox.record(failed=len(batch))
                warn(str(status), f"phosphobs: the server rejected {len(batch)} item(s) with HTTP {status}: "
                                  f"{_error_message(reply)}")
                break
    except Abandon:
        outbox.record(dropped=sum(len(batch) for batch in work) + len(batch))

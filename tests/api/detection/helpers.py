"""Waiting for the detection worker (by condition, never by a fixed sleep)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from tests.support.polling import wait_until

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float = 90.0, what: str = "condition") -> T:
    """`wait_until` with room for a detection worker behind a busy machine."""
    return wait_until(probe, timeout, what=what)


def detected(client: httpx.Client, event_id: str, *detectors: str) -> Callable[[], dict[str, Any] | None]:
    """Probe: the event, once it has a detection from each of `detectors`."""
    def probe() -> dict[str, Any] | None:
        response = client.get(f"/api/events/{event_id}")
        if response.status_code != 200:
            return None
        body = response.json()
        names = {d["detector"] for d in body["detections"]}
        return body if set(detectors) <= names else None

    return probe


def queue_empty(client: httpx.Client) -> Callable[[], bool]:
    return lambda: client.get("/api/quality").json()["queue"]["queued"] == 0

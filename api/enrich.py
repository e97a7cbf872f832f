"""Events and sessions as the API shows them: with detections, evaluations and the human success rate.

One query per page for each (never one per event), so a page costs the same whatever it holds. These
run inside a storage snapshot (`read_together`): an event and its detections are read from one committed
state, so a detection the worker has just recorded never shows beside the event's older flag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from phosphobs.api.deps import run_in_threadpool
from phosphobs.api.serialize import event_json, session_json
from phosphobs.storage.protocol import DetectionStore, EventReads, SessionRecord, Storage, StoredEvent
from phosphobs.storage.sql.detection import response_id_of

T = TypeVar("T")


async def read_together(storage: EventReads, fn: Callable[[Storage], T]) -> T:
    """`fn`'s reads, off the event loop, all against one committed state of the database."""
    return await run_in_threadpool(storage.snapshot, fn)


def events_json(store: Storage, project_id: str, events: list[StoredEvent]) -> list[dict[str, Any]]:
    if not events:
        return []
    detection = cast(DetectionStore, store)
    ids = [s.event.event_id for s in events]
    detections = detection.detections_for(project_id, ids)
    keys = [(s.event.event_id, response_id_of(s.event.metadata), s.event.trace_id, s.event.span_id) for s in events]
    evaluations = detection.evaluations_for(project_id, keys)
    return [event_json(s, detections.get(s.event.event_id, []), evaluations.get(s.event.event_id, []))
            for s in events]


def sessions_json(store: Storage, project_id: str, sessions: list[SessionRecord]) -> list[dict[str, Any]]:
    rates = cast(DetectionStore, store).human_rates(project_id, [s.session_id for s in sessions]) if sessions else {}
    return [session_json(s, rates.get(s.session_id)) for s in sessions]

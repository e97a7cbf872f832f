"""Events and sessions as the API shows them: with detections, evaluations and the human success rate.

One query per page for each (never one per event), so a page costs the same whatever it holds.
"""

from __future__ import annotations

from typing import Any, cast

from phosphobs.api.deps import run_in_threadpool
from phosphobs.api.serialize import event_json, session_json
from phosphobs.storage.protocol import DetectionStore, SessionRecord, Storage, StoredEvent
from phosphobs.storage.sql.detection import response_id_of


def _events_json(store: DetectionStore, project_id: str, events: list[StoredEvent]) -> list[dict[str, Any]]:
    if not events:
        return []
    ids = [s.event.event_id for s in events]
    detections = store.detections_for(project_id, ids)
    keys = [(s.event.event_id, response_id_of(s.event.metadata)) for s in events]
    evaluations = store.evaluations_for(project_id, keys)
    return [event_json(s, detections.get(s.event.event_id, []), evaluations.get(s.event.event_id, []))
            for s in events]


async def events_json(storage: Storage, project_id: str, events: list[StoredEvent]) -> list[dict[str, Any]]:
    return await run_in_threadpool(_events_json, cast(DetectionStore, storage), project_id, events)


async def sessions_json(storage: Storage, project_id: str, sessions: list[SessionRecord]) -> list[dict[str, Any]]:
    store = cast(DetectionStore, storage)
    rates = await run_in_threadpool(store.human_rates, project_id, [s.session_id for s in sessions]) \
        if sessions else {}
    return [session_json(s, rates.get(s.session_id)) for s in sessions]

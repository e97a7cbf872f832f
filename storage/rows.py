"""Event <-> row mapping shared by the SQL backends."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from phosphobs.storage.models import Event, EventPatch
from phosphobs.storage.protocol import SessionRecord, StoredEvent

# Column order used by every INSERT of an event.
EVENT_COLUMNS = (
    "project_id", "event_id", "session_id", "session_kind", "explicit_session_id", "user_id", "explicit_user_id",
    "ts_us",
    "input", "output", "model", "provider", "latency_ms", "tokens_in", "tokens_out", "cost_cents",
    "cost_source", "tags", "metadata", "source", "kind", "status", "error_type", "own_flag", "flag",
    "trace_id", "span_id", "parent_span_id", "received_us",
)


# What reads of stored events select: the inserted columns plus those detection keeps up to date.
READ_COLUMNS = (*EVENT_COLUMNS, "flag_source", "detected_flag")


class JsonText(str):
    """A value already encoded as JSON (event metadata sent to the SQLite writer process, `wire.py`)."""

    __slots__ = ()


def dumps(value: Any) -> str:
    if type(value) is JsonText:
        return value
    return orjson.dumps(value, default=str).decode()


def with_decoded_metadata(event: Event) -> Event:
    """The event with its metadata as a dict again, for the rare code that reads or patches it."""
    if type(event.metadata) is JsonText:
        return dataclasses.replace(event, metadata=orjson.loads(str(event.metadata)))  # orjson: exact str only
    return event


def event_row(
    project_id: str, event: Event, session_id: str | None, session_kind: str | None,
    user_id: str | None, flag: str | None, received_us: int,
) -> tuple[Any, ...]:
    """`session_id`, `user_id` and `flag` are the effective values; the event keeps its own too."""
    return (
        project_id, event.event_id, session_id, session_kind, event.session_id, user_id, event.user_id,
        event.timestamp_us, event.input, event.output, event.model, event.provider, event.latency_ms,
        event.tokens_in, event.tokens_out, event.cost_cents, event.cost_source, dumps(event.tags),
        dumps(event.metadata), event.source, event.kind, event.status, event.error_type, event.flag,
        flag, event.trace_id, event.span_id, event.parent_span_id, received_us,
    )


def event_from_row(row: Any) -> Event:
    """Rebuild the Event from a row that has the EVENT_COLUMNS names (sqlite3.Row or dict)."""
    tags = row["tags"]
    metadata = row["metadata"]
    return Event(
        event_id=row["event_id"],
        input=row["input"],
        output=row["output"],
        timestamp_us=row["ts_us"],
        session_id=row["explicit_session_id"],
        user_id=row["explicit_user_id"],
        model=row["model"],
        provider=row["provider"],
        latency_ms=row["latency_ms"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost_cents=row["cost_cents"],
        cost_source=row["cost_source"],
        tags=orjson.loads(tags) if isinstance(tags, str) else list(tags or []),
        metadata=orjson.loads(metadata) if isinstance(metadata, str) else dict(metadata or {}),
        source=row["source"],
        kind=row["kind"],
        status=row["status"],
        error_type=row["error_type"],
        flag=row["own_flag"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
    )


_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(Event))


def event_to_json(event: Event) -> str:
    return orjson.dumps({name: getattr(event, name) for name in _EVENT_FIELDS}, default=str).decode()


def event_from_json(text: str) -> Event:
    return Event(**orjson.loads(text))


def patch_to_json(patch: EventPatch) -> str:
    return orjson.dumps({"trace_id": patch.trace_id, "span_id": patch.span_id, "fields": patch.fields},
                        default=str).decode()


def patch_from_json(event_id: str, order_key: str, text: str) -> EventPatch:
    data = orjson.loads(text)
    return EventPatch(event_id=event_id, order_key=order_key, trace_id=data["trace_id"], span_id=data["span_id"],
                      fields=data["fields"])


def _optional(row: Any, key: str) -> Any:
    """A column a query may not have selected (`READ_COLUMNS` has it)."""
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


def stored_event(row: Any) -> StoredEvent:
    flag = row["flag"]
    source = _optional(row, "flag_source")
    return StoredEvent(
        event=event_from_row(row), seq=row["seq"], project_id=row["project_id"], session_id=row["session_id"],
        flag=flag, received_us=row["received_us"], user_id=row["user_id"],
        flag_source=source if source is not None or flag is None else "detector",  # own flag, not yet settled
        detected_flag=_optional(row, "detected_flag"),
    )


def listed(value: Any) -> list[str]:
    """A list column as stored: JSON text (SQLite) or an array / decoded JSON (Postgres)."""
    return orjson.loads(value) if isinstance(value, str) else list(value or [])  # JSON text or an array


def session_record(row: Any) -> SessionRecord:
    return SessionRecord(
        project_id=row["project_id"], session_id=row["session_id"], kind=row["kind"], user_id=row["user_id"],
        start_us=row["start_us"], end_us=row["end_us"], event_count=row["event_count"],
        tokens_in=row["tokens_in"], tokens_out=row["tokens_out"], cost_cents=row["cost_cents"],
        flagged_count=row["flagged_count"], success_count=row["success_count"],
        failure_count=row["failure_count"], models=listed(row["models"]), tags=listed(row["tags"]),
    )

"""The native JSON ingest schema (the seed's event payload) and its conversion to `Event`.

Pure: bytes in, events or a 422 with every bad field's path out.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from phosphobs.collector.storable import without_surrogates
from phosphobs.storage.models import Event
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError

MAX_BATCH = 100
KNOWN_METADATA = {
    "model", "provider", "latency_ms", "token_count_input", "token_count_output", "cost_cents", "user_id", "tags",
}

def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Labels and texts with NUL are refused (422 with the field's path): Postgres cannot store NUL, and a
# silently altered session or user id would split a session. Free-form metadata is cleaned instead
# (`storable.py`): a custom key must never cost the event.
NoNul = AfterValidator(_no_nul)
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=2**53)]  # bounded: must fit every backend
NonNegativeNumber = Annotated[float, Field(ge=0, allow_inf_nan=False)]
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=512), NoNul]


class Metadata(BaseModel):
    """Known keys are typed; any other key is kept verbatim."""

    model_config = ConfigDict(extra="allow")

    model: ShortText | None = None
    provider: ShortText | None = None
    latency_ms: NonNegativeNumber | None = None
    token_count_input: NonNegativeInt | None = None
    token_count_output: NonNegativeInt | None = None
    cost_cents: NonNegativeNumber | None = None
    user_id: ShortText | None = None
    tags: list[Annotated[StrictStr, Field(min_length=1, max_length=128), NoNul]] | None = Field(
        default=None, max_length=64)


class IngestEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: Annotated[StrictStr, NoNul]
    output: Annotated[StrictStr, NoNul]
    event_id: uuid.UUID | None = None
    session_id: ShortText | None = None
    project_id: StrictStr | None = None
    timestamp: datetime | None = None
    metadata: Metadata | None = None


class IngestBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    events: list[IngestEvent] = Field(min_length=1, max_length=MAX_BATCH)


_EVENT = TypeAdapter(IngestEvent)
_BATCH = TypeAdapter(IngestBatch)


class InvalidPayload(Exception):
    """Validation failed; `details` lists each problem with its JSON path."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(details)} invalid field(s)")
        self.details = details


class MalformedJson(Exception):
    pass


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def parse_with(adapter: TypeAdapter, body: bytes) -> Any:
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return _parse_lenient(adapter, body, exc.errors()[0]["msg"])
        raise InvalidPayload(validation_details(exc)) from exc


def _parse_lenient(adapter: TypeAdapter, body: bytes, strict_error: str) -> Any:
    """What the fast parser refuses but JSON senders produce (NaN, lone surrogate escapes, nesting past
    its depth limit) is read by the stdlib parser; the edge then makes it storable (`storable.py`)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(strict_error) from exc
    try:
        return adapter.validate_python(without_surrogates(document))
    except ValidationError as exc:
        raise InvalidPayload(validation_details(exc)) from exc
    except RecursionError as exc:
        raise MalformedJson("JSON nested too deeply") from exc


def parse_event(body: bytes) -> IngestEvent:
    return parse_with(_EVENT, body)


def parse_batch(body: bytes) -> list[IngestEvent]:
    return parse_with(_BATCH, body).events


def to_timestamp_us(value: datetime | None, now_us: int) -> int:
    if value is None:
        return now_us
    if value.tzinfo is None:  # naive means UTC
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000)


def to_event(item: IngestEvent, now_us: int) -> Event:
    meta = item.metadata or Metadata()
    extra = dict(meta.model_extra or {})
    return Event(
        event_id=str(item.event_id or uuid.uuid4()),
        input=item.input,
        output=item.output,
        timestamp_us=to_timestamp_us(item.timestamp, now_us),
        session_id=item.session_id,
        user_id=meta.user_id,
        model=meta.model,
        provider=meta.provider,
        latency_ms=meta.latency_ms,
        tokens_in=meta.token_count_input,
        tokens_out=meta.token_count_output,
        cost_cents=meta.cost_cents,
        tags=list(dict.fromkeys(meta.tags or [])),
        metadata=extra,
        source="api",
    )


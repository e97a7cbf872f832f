"""The native JSON ingest schema (the seed's event payload) and its conversion to `Event`.

Pure: bytes in, events or a 422 with every bad field's path out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from phosphobs.storage.models import Event
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError, field_validator

MAX_BATCH = 100
KNOWN_METADATA = {
    "model", "provider", "latency_ms", "token_count_input", "token_count_output", "cost_cents", "user_id", "tags",
}

NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=2**53)]  # bounded: must fit every backend
NonNegativeNumber = Annotated[float, Field(ge=0, allow_inf_nan=False)]
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=512)]


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


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
    tags: list[Annotated[StrictStr, Field(min_length=1, max_length=128)]] | None = Field(default=None, max_length=64)


class IngestEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: StrictStr
    output: StrictStr
    event_id: uuid.UUID | None = None
    session_id: ShortText | None = None
    project_id: StrictStr | None = None
    timestamp: datetime | None = None
    metadata: Metadata | None = None

    _nul = field_validator("input", "output", "session_id")(_no_nul)


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
            raise MalformedJson(exc.errors()[0]["msg"]) from exc
        raise InvalidPayload(validation_details(exc)) from exc


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


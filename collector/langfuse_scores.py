"""Langfuse scores as phosphobs evaluations: what an app switched from Langfuse records with `create_score`,
`score_current_trace` or `span.score()`.

A score of an observation (trace and observation id) evaluates that span's event; a score of a whole trace
(trace id only) evaluates the trace's final call, found by storage whenever the trace's spans arrive (a
score is often sent before them). The flag it gives follows the OTel evaluation rule (`storage/flags.py`): a
BOOLEAN score reads 1 as "true" (success) and 0 as "false"; a CATEGORICAL value counts when it says
pass/fail; a NUMERIC score is kept and shown but never flags (a 1 may be the worst of five stars).

Pure: parsed JSON in, evaluations or one reason per refused score out.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from phosphobs.collector.external_evaluations import MAX_LABEL, MAX_TEXT, first_problem, partition
from phosphobs.collector.native import NoNul, to_timestamp_us
from phosphobs.collector.storable import storable_text
from phosphobs.storage.models import Evaluation, otlp_event_id
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

SOURCE = "langfuse"
_HEX_ID = re.compile(r"[0-9a-fA-F]+")
Id = Annotated[StrictStr, Field(min_length=1, max_length=256), NoNul]


class ScoreIn(BaseModel):
    """Langfuse's `ScoreBody` (its API's field names); what phosphobs does not keep is ignored."""

    model_config = ConfigDict(extra="ignore")

    id: Id | None = None
    traceId: Id | None = None  # Langfuse's wire names
    observationId: Id | None = None
    sessionId: StrictStr | None = None
    datasetRunId: StrictStr | None = None
    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_LABEL), NoNul]
    value: StrictInt | StrictFloat | StrictStr
    comment: StrictStr | None = None
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT", "CORRECTION"] | None = None
    timestamp: datetime | None = None


def _trace_id(value: str) -> str:
    """OTel ids are lowercase hex in storage; any other id (a legacy Langfuse trace id) is kept as sent."""
    return value.lower() if _HEX_ID.fullmatch(value) else value


def _verdict(score: ScoreIn) -> tuple[float | None, str | None, str | None]:
    """(score, label, text) of the value by its data type, or ValueError when they disagree."""
    value = score.value
    kind = score.dataType or ("CATEGORICAL" if isinstance(value, str) else "NUMERIC")
    if kind in ("NUMERIC", "BOOLEAN"):
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"a {kind} score's value must be a finite number")
        if kind == "BOOLEAN":
            if number not in (0.0, 1.0):
                raise ValueError("a BOOLEAN score's value must be 1 or 0")
            return number, "true" if number == 1.0 else "false", None
        return number, None, None
    if not isinstance(value, str):
        raise ValueError(f"a {kind} score's value must be a string")
    text = storable_text(value)
    if kind == "CATEGORICAL":
        return None, text[:MAX_LABEL], None
    return None, None, text[:MAX_TEXT]  # TEXT and CORRECTION are prose, not a verdict


def to_evaluation(item: Any, now_us: int) -> Evaluation:
    """One score as an evaluation; ValueError with the reason it cannot be kept."""
    try:
        score = ScoreIn.model_validate(item)
    except ValidationError as exc:
        raise ValueError(first_problem(exc, "score")) from exc
    if score.traceId is None:
        kept = "session" if score.sessionId else "dataset run" if score.datasetRunId else "unattached"
        raise ValueError(f"score {score.name!r}: a {kept} score is not kept; phosphobs keeps scores of traces and"
                         " observations (send traceId, and observationId for one call)")
    value, label, text = _verdict(score)
    trace_id = _trace_id(score.traceId)
    event_id = otlp_event_id(trace_id, score.observationId) if score.observationId else None
    comment = storable_text(score.comment)[:MAX_TEXT] if score.comment else None
    ts_us = to_timestamp_us(score.timestamp, now_us)
    # The score's id makes a resend the same record; without one, its content does.
    identity = json.dumps([SOURCE, score.id] if score.id else
                          [SOURCE, trace_id, score.observationId, score.name, value, label, text, ts_us])
    return Evaluation(
        eval_key=hashlib.blake2b(identity.encode(), digest_size=16).hexdigest(), event_id=event_id,
        response_id=None, name=storable_text(score.name), score=value, label=label,
        explanation=comment or text, ts_us=ts_us, source=SOURCE, trace_id=trace_id)


def to_evaluations(items: list[Any], now_us: int) -> tuple[list[Evaluation], list[tuple[int, str]]]:
    """The keepable scores, and (index, reason) for each refused one."""
    return partition(items, lambda item: to_evaluation(item, now_us))

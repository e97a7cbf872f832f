"""OTel GenAI evaluation results (`gen_ai.evaluation.result`) from log records and span events.

The evaluated event is the parent span (the log record's span context, or the span carrying the event);
without one, `gen_ai.response.id` matches it later. Either may arrive before or after the evaluated span:
storage keeps the result and settles the event's flag whenever both are there.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from phosphobs.collector.otlp.attributes import Attrs
from phosphobs.storage.models import Evaluation, otlp_event_id

EVALUATION_EVENT = "gen_ai.evaluation.result"
MAX_TEXT = 2000


def _text(value: Any, size: int) -> str | None:
    if value is None or value == "":
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:size]


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


def evaluation(attrs: Attrs, trace_id: str | None, span_id: str | None, nanos: int,
               body: Any = None) -> tuple[Evaluation | None, str | None]:
    """The evaluation of one record, or a rejection reason when it cannot be tied to any event."""
    fields = dict(body) if isinstance(body, dict) else {}
    fields.update(attrs)
    response_id = _text(fields.get("gen_ai.response.id"), 256)
    event_id = otlp_event_id(trace_id, span_id) if trace_id and span_id else None
    if event_id is None and response_id is None:
        return None, f"{EVALUATION_EVENT}: neither a parent span nor gen_ai.response.id to find the evaluated event"
    name = _text(fields.get("gen_ai.evaluation.name"), 200)
    score = _score(fields.get("gen_ai.evaluation.score.value"))
    label = _text(fields.get("gen_ai.evaluation.score.label"), 200)
    explanation = _text(fields.get("gen_ai.evaluation.explanation"), MAX_TEXT)
    identity = json.dumps([trace_id, span_id, response_id, nanos, name, score, label, explanation])
    key = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()  # a retry is the same record
    return Evaluation(key, event_id, response_id, name, score, label, explanation, nanos // 1000), None

"""Arize Phoenix annotations as phosphobs evaluations: what an app switched from Phoenix records with its client's
`spans.add_span_annotation` / `log_span_annotations` and `traces.add_trace_annotation` / `log_trace_annotations`.

A span annotation names its span by id only: storage ties it to that span's event whenever the span arrives. A
trace annotation evaluates the trace's final call, as a Langfuse trace score does. A HUMAN annotation is a
person's verdict: its pass/fail label (`correct`, `thumbs-down`, …) is the user's flag, like `POST /api/feedback`,
and teaches the judge; an LLM or CODE annotation's label flags as an OTel evaluation does. The same name, target
and `identifier` replace an earlier annotation, as in Phoenix.

Pure: parsed JSON in, evaluations or one reason per refused annotation out.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Annotated, Any, Literal

from phosphobs.collector.external_evaluations import MAX_LABEL, MAX_TEXT, first_problem, partition
from phosphobs.collector.native import NoNul
from phosphobs.collector.storable import storable_text
from phosphobs.storage.models import Evaluation
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

SOURCE = "phoenix"
_HEX = re.compile(r"[0-9a-fA-F]{1,64}")
Target = Literal["span", "trace"]


class AnnotationResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: StrictStr | None = None
    score: StrictInt | StrictFloat | None = None
    explanation: StrictStr | None = None


class AnnotationIn(BaseModel):
    """Phoenix's `SpanAnnotationData` / `TraceAnnotationData`; metadata is not kept."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_LABEL), NoNul]
    annotator_kind: Literal["LLM", "CODE", "HUMAN"]
    span_id: StrictStr | None = None
    trace_id: StrictStr | None = None
    result: AnnotationResult | None = None
    identifier: Annotated[StrictStr, Field(max_length=256)] | None = None


def to_evaluation(item: Any, target: Target, now_us: int) -> Evaluation:
    """One annotation of a span or a trace as an evaluation; ValueError with the reason it cannot be kept."""
    try:
        note = AnnotationIn.model_validate(item)
    except ValidationError as exc:
        raise ValueError(first_problem(exc, "annotation")) from exc
    ident = note.span_id if target == "span" else note.trace_id
    if ident is None or not _HEX.fullmatch(ident.strip()):
        raise ValueError(f"annotation {note.name!r}: {target}_id must be the {target}'s hex id")
    result = note.result or AnnotationResult()
    score = float(result.score) if result.score is not None else None
    if score is not None and not math.isfinite(score):
        raise ValueError(f"annotation {note.name!r}: score must be a finite number")
    if result.label is None and score is None and result.explanation is None:
        raise ValueError(f"annotation {note.name!r}: give at least one of label, score and explanation")
    ident = ident.strip().lower()
    name = storable_text(note.name)
    identity = json.dumps([SOURCE, target, ident, name, note.identifier or ""])  # Phoenix's upsert key
    return Evaluation(
        eval_key=hashlib.blake2b(identity.encode(), digest_size=16).hexdigest(), event_id=None, response_id=None,
        name=name, score=score, label=storable_text(result.label)[:MAX_LABEL] if result.label else None,
        explanation=storable_text(result.explanation)[:MAX_TEXT] if result.explanation else None, ts_us=now_us,
        source=SOURCE, trace_id=ident if target == "trace" else None, span_id=ident if target == "span" else None,
        human=note.annotator_kind == "HUMAN")


def to_evaluations(items: list[Any], target: Target, now_us: int) -> tuple[list[Evaluation], list[tuple[int, str]]]:
    """The keepable annotations, and (index, reason) for each refused one."""
    return partition(items, lambda item: to_evaluation(item, target, now_us))

"""Storage records → the JSON shapes of the public API (the seed's event schema, extended)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from phosphobs.storage.detection_records import Detection, Evaluation
from phosphobs.storage.protocol import FeedbackRecord, SessionRecord, StoredEvent
from phosphobs.storage.trace_records import TraceRecord, TraceSpan, TraceSummary


def iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def timing(start_us: int, end_us: int) -> dict[str, Any]:
    """A session's, trace's or span's start, end and duration, named alike everywhere."""
    return {"start": iso(start_us), "end": iso(end_us), "duration_ms": (end_us - start_us) / 1000}


def cents(value: float | None) -> float | None:
    """A cost without binary float noise (0.14400000000000002 → 0.144): 12 significant digits."""
    return None if value is None else float(f"{value:.12g}")


def detection_json(d: Detection) -> dict[str, Any]:
    out: dict[str, Any] = {"detector": d.detector, "version": d.version, "flag": d.flag, "score": d.score,
                           "reason": d.reason, "created_at": iso(d.created_us)}
    if d.error is not None:
        out["error"] = d.error
    if d.tokens_in is not None or d.tokens_out is not None:
        out["usage"] = {"input_tokens": d.tokens_in, "output_tokens": d.tokens_out}
    return out


def evaluation_json(e: Evaluation) -> dict[str, Any]:
    whole_trace = e.trace_id is not None and e.event_id is None and e.response_id is None
    return {"name": e.name, "score": e.score, "label": e.label, "explanation": e.explanation, "source": e.source,
            "scope": "trace" if whole_trace else "event", "human": e.human}


def event_json(stored: StoredEvent, detections: list[Detection] | None = None,
               evaluations: list[Evaluation] | None = None) -> dict[str, Any]:
    e = stored.event
    metadata: dict[str, Any] = {
        **e.metadata,
        "model": e.model,
        "provider": e.provider,
        "latency_ms": e.latency_ms,
        "token_count_input": e.tokens_in,
        "token_count_output": e.tokens_out,
        "cost_cents": cents(e.cost_cents),
        "cost_source": e.cost_source,
        "user_id": stored.user_id,
        "tags": e.tags,
    }
    return {
        "event_id": e.event_id,
        "project_id": stored.project_id,
        "session_id": stored.session_id,
        "input": e.input,
        "output": e.output,
        "timestamp": iso(e.timestamp_us),
        "metadata": metadata,
        "flag": stored.flag,
        "flag_source": stored.flag_source,
        "detected_flag": stored.detected_flag,
        "detections": [detection_json(d) for d in detections or []],
        "evaluations": [evaluation_json(v) for v in evaluations or []],
        "source": e.source,
        "kind": e.kind,
        "status": e.status,
        "error_type": e.error_type,
        "trace_id": e.trace_id,
        "span_id": e.span_id,
        "parent_span_id": e.parent_span_id,
        "received_at": iso(stored.received_us),
    }


def feedback_json(fb: FeedbackRecord) -> dict[str, Any]:
    return {"flag": fb.flag, "comment": fb.comment, "source": fb.source, "created_at": iso(fb.created_us)}


def session_json(s: SessionRecord, human: tuple[int, int] | None = None) -> dict[str, Any]:
    """`human`: (human-flagged events, of which success) for `success_rate_user`."""
    return {
        "session_id": s.session_id,
        "kind": s.kind,
        "user_id": s.user_id,
        **timing(s.start_us, s.end_us),
        "event_count": s.event_count,
        "token_count_input": s.tokens_in,
        "token_count_output": s.tokens_out,
        "cost_cents": cents(s.cost_cents),
        "success_rate": (s.success_count / s.flagged_count) if s.flagged_count else None,
        "success_rate_user": (human[1] / human[0]) if human and human[0] else None,
        "success_count": s.success_count,
        "failure_count": s.failure_count,
        "models": s.models,
        "tags": s.tags,
    }


def span_json(s: TraceSpan) -> dict[str, Any]:
    return {
        "span_id": s.span_id,
        "parent_span_id": s.parent_span_id,
        "name": s.name,
        "kind": s.kind,
        **timing(s.start_us, s.end_us),
        "status": s.status,
        "error": s.error,
        "event_id": s.event_id,
        "agent_name": s.agent_name,
        "tool_name": s.tool_name,
        "model": s.model,
        "token_count_input": s.tokens_in,
        "token_count_output": s.tokens_out,
        "cost_cents": cents(s.cost_cents),
        "attributes": s.attributes,
    }


def trace_json(t: TraceRecord) -> dict[str, Any]:
    return {
        "trace_id": t.trace_id,
        "session_id": t.session_id,
        "user_id": t.user_id,
        **timing(t.start_us, t.end_us),
        "spans": [span_json(s) for s in t.spans],
    }


def trace_summary_json(t: TraceSummary) -> dict[str, Any]:
    return {
        "trace_id": t.trace_id,
        "session_id": t.session_id,
        "user_id": t.user_id,
        "root_name": t.root_name,
        **timing(t.start_us, t.end_us),
        "span_count": t.span_count,
        "llm_call_count": t.llm_calls,
        "token_count_input": t.tokens_in,
        "token_count_output": t.tokens_out,
        "cost_cents": cents(t.cost_cents),
        "has_error": t.has_error,
    }

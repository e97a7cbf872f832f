"""Real libraries' exports (the interop suite's captures, `tests/interop/captures/<library>/`): the stored
tree equals the exported tree minus plain leaves, in forward and reverse span order, on every backend.

A span counts as GenAI here by an independent rule (any attribute of a GenAI convention's namespace, or
LiteLLM's call span names), so a span the collector fails to recognise shows up as a missing node.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from phosphobs.collector.otlp.decode import decode_traces
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.protocol import IngestOp, Storage

from tests.support.factories import BASE_US

CAPTURES = Path(__file__).resolve().parents[1] / "interop" / "captures"
GENAI_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.", "ai.", "langfuse.", "agent_name", "embedding.")
GENAI_NAMES = ("raw_gen_ai_request", "litellm_request")  # LiteLLM names its call spans, attributes or not
PLACEHOLDER = ("logfire.span_type", "pending_span")


def _captured() -> list[Path]:
    return sorted(p for p in CAPTURES.glob("*") if p.is_dir() and any(p.glob("*_traces.bin")))


def _spans(folder: Path) -> list[tuple[ResourceSpans, ScopeSpans, Span]]:
    found = []
    for body_path in sorted(folder.glob("*_traces.bin")):
        meta = json.loads(body_path.with_name(body_path.name.replace(".bin", ".meta.json")).read_text())
        request = decode_traces(body_path.read_bytes(), meta["content_type"], meta["content_encoding"], 64 << 20)
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                found += [(rs, ss, span) for span in ss.spans]
    return found


def _attrs(span: Span) -> dict[str, str]:
    return {kv.key: kv.value.string_value for kv in span.attributes}


def _expected(spans: list[Span]) -> dict[tuple[str, str], str | None]:
    real = [s for s in spans if _attrs(s).get(PLACEHOLDER[0]) != PLACEHOLDER[1]]
    by_id = {(s.trace_id, s.span_id): s for s in real}
    keep: set[tuple[bytes, bytes]] = set()
    for span in real:
        if span.name not in GENAI_NAMES and not any(key.startswith(GENAI_PREFIXES) for key in _attrs(span)):
            continue
        current: Span | None = span
        while current is not None and (current.trace_id, current.span_id) not in keep:
            keep.add((current.trace_id, current.span_id))
            current = by_id.get((current.trace_id, current.parent_span_id))
    return {(t.hex(), s.hex()): (by_id[(t, s)].parent_span_id.hex() or None) for t, s in keep}


def _request(item: tuple[ResourceSpans, ScopeSpans, Span]) -> ExportTraceServiceRequest:
    rs, ss, span = item
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=rs.resource, scope_spans=[ScopeSpans(scope=ss.scope, spans=[span])])])


@pytest.mark.parametrize("order", ["forward", "reverse"])
@pytest.mark.parametrize("library", [p.name for p in _captured()])
def test_stored_tree_equals_the_librarys_exported_tree(library: str, order: str, storage: Storage) -> None:
    items = _spans(CAPTURES / library)
    expected = _expected([span for _, _, span in items])
    assert expected, f"{library}: no GenAI span in the capture"
    project = storage.create_project("p", "free", BASE_US)
    for item in items if order == "forward" else list(reversed(items)):
        batch = normalize_traces(_request(item), BASE_US)
        [result] = storage.write([IngestOp(project.id, batch.events, None, patches=batch.patches,
                                           trace_hints=batch.trace_hints, spans=batch.spans)], BASE_US)
        assert result.ok, result.error
    stored: dict[tuple[str, str], str | None] = {}
    calls: set[tuple[str, str]] = set()
    for trace_id in sorted({t for t, _ in expected}):
        trace = storage.get_trace(project.id, trace_id)
        assert trace is not None, f"{library}: trace {trace_id} not stored"
        stored.update({(trace_id, s.span_id): s.parent_span_id for s in trace.spans})
        calls |= {(trace_id, s.span_id) for s in trace.spans if s.event_id}
    # A call a library wrote onto a wrapper span (LiteLLM's failed last call on the app's span) is stored
    # as a call span of its own under that span: the only spans allowed that the export lacks.
    exported = {(span.trace_id.hex(), span.span_id.hex()) for _, _, span in items}
    added = {key for key in stored.keys() - expected.keys() if key not in exported}
    assert all(key in calls and (key[0], stored[key]) in expected for key in added), added
    assert {key: parent for key, parent in stored.items() if key not in added} == expected

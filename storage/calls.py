"""What makes two spans one provider call, and the one event they become (issue 13, items 1 and 2).

Shared by the OTLP normalizer (spans of one request) and the storage backends (a span that arrives in a
later request than another span of its call). Pure: events in, events out.

What identifies a call: equal `gen_ai.response.id`s (different ones are different calls, always);
without ids, the same request model, the same outcome (ok / error), no conflicting text, and
overlapping time. A split stream is a request-only span (no output, no usage, no id) continued by a
later span, one that starts once it has ended (or is a zero-length log), that brings output or usage.
A framework's echo is a framework's span of a call and the provider client's span of the same call that
neither nest nor sit beside each other as siblings do: LlamaIndex ends a streamed call's span when it hands
back the generator (yet fills in the answer), so the client's span begins right after it; a framework that
does not make its span current (CrewAI's event-listener mode) leaves the client's span a root of a trace of
its own, inside the framework span's time. Same outcome and model, same usage and input or answer.
The merged event keeps the span nearest the provider (its numbers win: a provider SDK's own span over
an instrumentation library's, a client's over a framework's, then whichever reports usage) and takes the
others' facts where it has none.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from phosphobs.storage.models import Event

CALL_KINDS = ("llm", "embedding")
# Agent and LLM frameworks: their instrumentations report calls above the provider's client, and some put their
# own name where the provider belongs (Strands: `gen_ai.system=strands-agents`).
FRAMEWORKS = frozenset({
    "strands-agents", "strands", "crewai", "langchain", "langgraph", "llama_index", "llamaindex", "haystack",
    "autogen", "ag2", "agno", "semantic_kernel", "dspy",
})  # fmt: skip
ECHO_GAP_US = 1_000_000  # a framework's echo: the client's span starts at most this long after the framework's ends
_SCOPE_PARTS = re.compile(r"[./:]")
# A provider SDK reporting its own calls: `com.anthropic.sdk.python`, and the same pattern for others.
_PROVIDER_SDK_SCOPE = re.compile(r"^(com\.[a-z0-9_-]+\.sdk(\.|$)|[a-z0-9_-]+\.sdk\.(python|node|js|java|go)$)")
_LIBRARY_HINT = "instrumentation"
_OWN_SECTIONS = ("merged_spans", "span", "scope", "attributes", "resource")


def same_call(a: Event, b: Event) -> bool:
    """Two spans (same trace, same parent, same kind) that report one provider call."""
    id_a, id_b = response_id(a), response_id(b)
    if id_a is not None and id_b is not None:
        return id_a == id_b
    if (a.status == "error") != (b.status == "error") or not compatible(a, b):
        return False
    if _differ(a.input, b.input) or _differ(a.output, b.output):
        return False
    return a.timestamp_us <= end_us(b) and b.timestamp_us <= end_us(a)


def continues(request: Event, other: Event) -> bool:
    """`other` brings the output of `request`'s stream: later, same model, with output or usage."""
    if not request_only(request) or other.status == "error" or not (other.output or _has_usage(other)):
        return False
    if not compatible(request, other):
        return False
    if response_id(request) is not None and response_id(other) not in (None, response_id(request)):
        return False
    zero_length = not other.latency_ms
    return other.timestamp_us >= end_us(request) or (zero_length and other.timestamp_us >= request.timestamp_us)


def echoes(framework: Event, client: Event) -> bool:
    """`client` is the provider client's span of the call that `framework`, a framework's span, reports too
    (see the module docstring): the client's span starts within the framework's or at most `ECHO_GAP_US` after
    it ended, with the same outcome and model, the same usage and input or answer (a framework may word a tool
    call or result its own way), or, without usage, the same input."""
    if framework.kind != client.kind or (framework.status == "error") != (client.status == "error"):
        return False
    if not framework.timestamp_us <= client.timestamp_us <= end_us(framework) + ECHO_GAP_US:
        return False
    if not framework_span(framework) or framework_span(client) or not compatible(framework, client):
        return False
    if response_id(framework) not in (None, response_id(client)):
        return False
    same_input = bool(framework.input) and framework.input.strip() == client.input.strip()
    if _has_usage(framework) and _has_usage(client):
        same_output = bool(framework.output) and framework.output.strip() == client.output.strip()
        return (framework.tokens_in, framework.tokens_out) == (client.tokens_in, client.tokens_out) and (
            same_input or same_output)
    return same_input and not _differ(framework.output, client.output)


def framework_span(event: Event) -> bool:
    """Reported by a framework's instrumentation (`openinference.instrumentation.llama_index`, …)."""
    scope = event.metadata.get("scope")
    name = str(scope.get("name") or "") if isinstance(scope, dict) else ""
    return bool(name) and not FRAMEWORKS.isdisjoint(_SCOPE_PARTS.split(name.lower()))


def request_only(event: Event) -> bool:
    return event.status != "error" and not event.output and not _has_usage(event) and response_id(event) is None


def compatible(a: Event, b: Event) -> bool:
    model_a, model_b = request_model(a), request_model(b)
    if model_a is None or model_b is None:
        return True
    if model_a == model_b:
        return True
    short, long = sorted((model_a, model_b), key=len)
    rest = long[len(short) :]  # a dated release of the same model: `gpt-4o` and `gpt-4o-2024-08-06`
    return long.startswith(short) and rest[:1] in ("-", "@") and rest[1:2].isdigit() and len(rest) >= 5


def _differ(a: str, b: str) -> bool:
    return bool(a) and bool(b) and a.strip() != b.strip()


def response_id(event: Event) -> str | None:
    response = event.metadata.get("response")
    value = response.get("id") if isinstance(response, dict) else None
    return str(value) if value not in (None, "") else None


def request_model(event: Event) -> str | None:
    request = event.metadata.get("request")
    model = request.get("model") if isinstance(request, dict) else None
    return str(model) if model else event.model


def end_us(event: Event) -> int:
    return event.timestamp_us + int((event.latency_ms or 0) * 1000)


def _has_usage(event: Event) -> bool:
    return event.tokens_in is not None or event.tokens_out is not None


def provider_rank(event: Event) -> int:
    """0 for a provider SDK's own span, 1 for an unknown reporter, 2 for an instrumentation library's."""
    scope = event.metadata.get("scope")
    name = str(scope.get("name") or "") if isinstance(scope, dict) else ""
    if _PROVIDER_SDK_SCOPE.match(name.lower()):
        return 0
    return 2 if _LIBRARY_HINT in name.lower() else 1


def merge_call(members: list[Event]) -> Event:
    """One event from spans of one call: numbers from the span nearest the provider, gaps from the rest.

    Spans that are successive parts of one call (a split stream: one of them is request-only) make a
    call that runs from the first start to the last end; otherwise the chosen span's timing is the call's.
    Deterministic in the set of members, so arrival order cannot change the result.
    """
    spans = {m.span_id for m in members}
    ranked = sorted(members, key=lambda m: _rank(m, m.parent_span_id in spans))
    chosen, donors = ranked[0], ranked[1:]
    event = replace(chosen, metadata=dict(chosen.metadata), tags=list(chosen.tags))
    for donor in donors:
        for name in ("model", "provider", "tokens_in", "tokens_out", "cost_cents", "cost_source",
                     "session_id", "user_id"):
            if getattr(event, name) is None and getattr(donor, name) is not None:
                setattr(event, name, getattr(donor, name))
        event.input = event.input or donor.input
        event.output = event.output or donor.output
        for key, value in donor.metadata.items():
            if key not in _OWN_SECTIONS:
                fill_section(event.metadata, key, value)
        event.tags = event.tags or list(donor.tags)
    if any(request_only(m) for m in members):
        start = min(m.timestamp_us for m in members)
        end = max(end_us(m) for m in members)
        event.timestamp_us = start
        event.latency_ms = (end - start) / 1000
    merged = list(event.metadata.get("merged_spans") or [])
    for donor in donors:
        merged.append({"span_id": donor.span_id, "name": donor.metadata.get("span", {}).get("name"),
                       "scope": donor.metadata.get("scope", {}).get("name")})
        merged.extend(donor.metadata.get("merged_spans") or [])
    event.metadata["merged_spans"] = merged
    return event


def _rank(event: Event, nested: bool) -> tuple[int, int, int, int, int, int, str]:
    """Nearest the provider first: its SDK's own span, a client's over a framework's, one with usage, the
    inner of nested spans, then whichever has the output and the input; the span id only breaks exact ties."""
    return (provider_rank(event), 1 if framework_span(event) else 0, 0 if _has_usage(event) else 1,
            0 if nested else 1, 0 if event.output else 1, 0 if event.input else 1, event.span_id or "")


def in_place_of(framework: Event, merged: Event, client: Event) -> Event:
    """`merged` (the client's numbers) as the framework span's event, when the client's span is in another
    trace: the call keeps its place in the app's trace, and the client's span is listed with its own trace."""
    spans = [m for m in merged.metadata.get("merged_spans") or [] if m.get("span_id") != framework.span_id]
    spans.append({"span_id": client.span_id, "trace_id": client.trace_id,
                  "name": client.metadata.get("span", {}).get("name"),
                  "scope": client.metadata.get("scope", {}).get("name")})
    return replace(merged, event_id=framework.event_id, trace_id=framework.trace_id, span_id=framework.span_id,
                   parent_span_id=framework.parent_span_id, metadata={**merged.metadata, "merged_spans": spans})


def fill_section(meta: dict[str, Any], key: str, value: Any) -> None:
    """A missing metadata section is taken whole; a dict section gains the keys it lacks (shared with
    `collector/otlp/nesting.py`, so a call's spans merge alike in one export request or apart)."""
    mine = meta.get(key)
    if mine is None or mine in ("", [], {}):
        meta[key] = value
    elif isinstance(mine, dict) and isinstance(value, dict):
        meta[key] = {**value, **mine}

"""Which spans of a request become span records: GenAI non-call spans, connecting ancestors, pending plain
spans; transport children of calls and Logfire placeholders are dropped; LLM-only requests cost nothing."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.collector.otlp.tree import MAX_VALUE_CHARS

from tests.collector.otlp_factories import BASE_NS, make_span, traces_request

CHAT = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 4}


def records(*spans):  # type: ignore[no-untyped-def]
    batch = normalize_traces(traces_request(spans), BASE_NS // 1000)
    return batch, {s.name: s for s in batch.spans}


def test_an_llm_only_request_has_no_records() -> None:
    batch, found = records(make_span("chat", CHAT), make_span("chat", CHAT))
    assert len(batch.events) == 2 and found == {}


def test_ancestors_in_the_request_are_kept_plain_leaves_pending_and_call_children_dropped() -> None:
    root = make_span("POST /chat", {"http.route": "/chat"}, kind=2)
    middle = make_span("handler", {}, parent=root)
    llm = make_span("chat", CHAT, parent=middle)
    http = make_span("POST", {"http.request.method": "POST"}, parent=llm)
    leaf = make_span("render", {}, parent=root)
    batch, found = records(root, middle, llm, http, leaf)
    assert [e.span_id for e in batch.events] == [llm.span_id.hex()]
    assert not found["POST /chat"].pending and not found["handler"].pending
    assert found["POST /chat"].kind == "other" and found["handler"].parent_span_id == root.span_id.hex()
    assert found["render"].pending  # might still be an ancestor of a later GenAI span
    assert "POST" not in found  # the HTTP request of an LLM call is transport


@pytest.mark.parametrize(("attrs", "kind"), [
    ({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "a"}, "agent"),
    ({"gen_ai.operation.name": "invoke_workflow"}, "workflow"),
    ({"gen_ai.operation.name": "rerank"}, "other"),
    ({"openinference.span.kind": "CHAIN"}, "workflow"),
    ({"openinference.span.kind": "AGENT"}, "agent"),
    ({"openinference.span.kind": "RETRIEVER"}, "retrieval"),
    ({"openinference.span.kind": "GUARDRAIL"}, "other"),
    ({"openinference.span.kind": "EVALUATOR"}, "other"),
    ({"traceloop.span.kind": "workflow"}, "workflow"),
    ({"traceloop.span.kind": "agent"}, "agent"),
    ({"langfuse.observation.type": "retriever"}, "retrieval"),
    ({"agent_name": "support", "logfire.msg": "support run"}, "agent"),
    ({"ai.operationId": "ai.generateText"}, "workflow"),
    ({"gen_ai.system": "openai"}, "other"),
])
def test_genai_wrappers_of_every_convention_get_their_kind(attrs: dict, kind: str) -> None:
    _, found = records(make_span("wrapper", attrs))
    assert found["wrapper"].kind == kind and not found["wrapper"].pending


def test_wrapper_facts_errors_and_compact_attributes() -> None:
    agent = make_span("agent run", {"gen_ai.agent.name": "support", "gen_ai.usage.input_tokens": 9,
                                    "big": "x" * (MAX_VALUE_CHARS + 50)}, error="max turns exceeded")
    _, found = records(agent)
    record = found["agent run"]
    assert (record.kind, record.agent_name, record.tokens_in, record.status, record.error) == (
        "agent", "support", 9, "error", "max turns exceeded")
    assert record.end_us - record.start_us == 100_000
    assert f'"{"x" * MAX_VALUE_CHARS}…"' in record.attributes


def test_nested_duplicate_calls_keep_both_spans_and_logfire_placeholders_none() -> None:
    outer = make_span("ChatOpenAI", {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o"})
    inner = make_span("chat", CHAT, parent=outer)
    placeholder = make_span("agent run", {"logfire.span_type": "pending_span", "agent_name": "a"}, parent=outer)
    batch, found = records(outer, inner, placeholder)
    [event] = batch.events
    assert event.span_id == inner.span_id.hex()  # the call's one event
    assert found["ChatOpenAI"].kind == "llm" and found["ChatOpenAI"].event_id == event.event_id
    assert "agent run" not in found


def test_attributes_any_backend_can_store() -> None:
    from phosphobs.collector.otlp.tree import compact

    text = compact({"big": 2**70, "nan": float("nan"), "inf": float("-inf"), "lone": "a\ud800b", "nul": "a\x00b",
                    "nested": {"deep": [1.5, 2**64]}})
    assert '"big":"1180591620717411303424"' in text and '"nan":null' in text and '"inf":null' in text
    assert "\\ufffd" not in text and "\ud800" not in text and '"nested":{"deep":[1.5,"18446744073709551616"]}' in text
    assert text.encode()  # valid UTF-8: no lone surrogate left


def test_a_langfuse_observation_at_level_error_is_a_failed_node_with_its_status_message() -> None:
    attrs = {"langfuse.observation.type": "span", "langfuse.observation.level": "ERROR",
             "langfuse.observation.status_message": "lookup failed"}
    _, found = records(make_span("geography-chat", attrs), make_span("fine", {"langfuse.observation.type": "span"}))
    assert (found["geography-chat"].status, found["geography-chat"].error) == ("error", "lookup failed")
    assert (found["fine"].status, found["fine"].error) == ("ok", None)

"""LiteLLM inside an app span: each call from its `raw_gen_ai_request` child (provider named by the raw prefix),
the failed last call from the app span, placed after the calls before it."""

from __future__ import annotations

import pytest
from phosphobs.collector.otlp.normalize import normalize_traces
from phosphobs.storage.models import Event

from tests.collector.otlp_factories import BASE_NS, make_span, traces_request

SEC = 1_000_000_000


def _raw(parent, question: str, answer: str, start_ns: int):  # type: ignore[no-untyped-def]
    return make_span("raw_gen_ai_request", {
        "llm.openai.messages": repr([{"role": "user", "content": question}]),
        "llm.openai.choices": repr([{"index": 0, "message": {"role": "assistant", "content": answer}}]),
        "llm.openai.usage": repr({"prompt_tokens": 11, "completion_tokens": 3}),
        "llm.openai.model": "gpt-4o-mini-2024-07-18", "llm.openai.id": f"chatcmpl-{question[:3]}",
    }, parent=parent, start_ns=start_ns, duration_ms=500, kind=1)  # fmt: skip


def _events(reverse: bool) -> list[Event]:
    app = make_span("conversation", {
        "session.id": "sess-1", "litellm.call_id": "c-2", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.operation.name": "chat", "gen_ai.system": "openai",
        "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "FAIL"}]}]',
        "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "Paris."}]}]',
        "error.type": "InternalServerError", "error.message": "boom",
    }, start_ns=BASE_NS, duration_ms=3000, kind=1)  # fmt: skip
    spans = [app, _raw(app, "Capital?", "Paris.", BASE_NS + SEC // 10)]
    batch = normalize_traces(traces_request(list(reversed(spans)) if reverse else spans), now_us=0)
    return sorted((e for e in batch.events if e.kind == "llm"), key=lambda e: e.timestamp_us)


@pytest.mark.parametrize("reverse", [False, True], ids=["app-first", "raw-first"])
def test_each_call_once_and_the_failed_last_call_after_the_others(reverse: bool) -> None:
    ok, failed = _events(reverse)
    assert (ok.input, ok.output, ok.tokens_in, ok.tokens_out) == ("Capital?", "Paris.", 11, 3)
    assert (ok.model, ok.provider) == ("gpt-4o-mini-2024-07-18", "openai")  # `llm.openai.*` names the provider
    assert (failed.input, failed.output, failed.flag) == ("FAIL", "", "failure")
    assert failed.timestamp_us == (BASE_NS + 3 * SEC) // 1000  # the app span's end: its own start is unknown
    assert failed.metadata["timestamp_source"] == "app span end"

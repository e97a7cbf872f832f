"""An OpenInference `LLM` span of an LLM object's helper method is no call; the request next to it is.

LlamaIndex's instrumentation gives every method of its LLM classes the kind `LLM`: a helper that prepares the
request (`OpenAI._prepare_chat_with_tools`) must not become a second, empty llm event beside the real call.
"""

from __future__ import annotations

import json

from tests.collector.dialect_helpers import INTERNAL, normalize, only_event
from tests.collector.otlp_factories import make_span

MODEL = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
         "llm.system": "openai", "llm.invocation_parameters": '{"model_name": "gpt-4o-mini"}'}


def _helper(**extra: object) -> dict[str, object]:
    return {**MODEL, "input.value": json.dumps({"tools": ["<FunctionTool object>"], "user_msg": None}),
            "input.mime_type": "application/json",
            "output.value": json.dumps({"messages": ["ChatMessage(role=<MessageRole.USER: 'user'>)"],
                                        "tools": [{"type": "function"}]}),
            "output.mime_type": "application/json", **extra}


def test_a_helper_step_beside_its_call_is_a_tree_node_not_an_event() -> None:
    helper = make_span("OpenAI._prepare_chat_with_tools", _helper(), kind=INTERNAL)
    call = make_span("OpenAI.astream_chat", {
        **MODEL, "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "What is the weather in Paris?",
        "output.value": "assistant: Sunny.", "llm.output_messages.0.message.role": "assistant",
        "llm.output_messages.0.message.content": "Sunny.", "llm.token_count.prompt": 9,
        "llm.token_count.completion": 2}, trace_id=helper.trace_id, kind=INTERNAL)
    batch = normalize(helper, call)
    event = only_event(batch)
    assert (event.input, event.output, event.tokens_in) == ("What is the weather in Paris?", "Sunny.", 9)
    assert [record.name for record in batch.spans] == ["OpenAI._prepare_chat_with_tools"]


def test_llm_spans_with_any_sign_of_a_call_stay_calls() -> None:
    text_answer = make_span("OpenAI.complete", {**MODEL, "input.value": "Say hi", "output.value": "hi"})
    tokens_only = make_span("OpenAI.chat", _helper(**{"llm.token_count.prompt": 3}))
    failed = make_span("OpenAI.chat", _helper(), error="InternalServerError: Error code: 500")
    for span in (text_answer, tokens_only, failed):
        assert only_event(normalize(span)).kind == "llm"
    assert only_event(normalize(failed)).flag == "failure"


def test_a_call_whose_content_is_only_raw_request_and_result_stays_a_call() -> None:
    raw_request = make_span("ChatOpenAI", {**MODEL, "input.value": json.dumps(
        {"messages": [{"role": "user", "content": "Capital of France?"}], "model": "gpt-4o-mini"}),
        "output.value": json.dumps({"generations": [[{"text": "Paris."}]], "type": "LLMResult"})})
    text_request = make_span("ChatOpenAI", {**MODEL, "input.value": "Capital of France?",
                                            "output.value": json.dumps({"generations": [[{"text": "Paris."}]]})})
    for span in (raw_request, text_request):
        assert only_event(normalize(span)).input == "Capital of France?"

"""LangChain (OpenInference) results: the model that answered, not the one asked for, is the call's model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phosphobs.collector.otlp.normalize import normalize_traces

from tests.collector.otlp_factories import make_span, traces_request

ASKED, ANSWERED = "gpt-4o-mini", "gpt-4o-mini-2024-07-18"


def _streamed(where: str) -> dict[str, Any]:
    generation: dict[str, Any] = {"text": "Paris.", "type": "ChatGenerationChunk", "generation_info": {},
                                  "message": {"kwargs": {"content": "Paris.", "response_metadata": {}}}}
    if where == "generation_info":
        generation["generation_info"]["model_name"] = ANSWERED
    elif where == "response_metadata":
        generation["message"]["kwargs"]["response_metadata"]["model_name"] = ANSWERED
    result: dict[str, Any] = {"generations": [[generation]], "llm_output": None, "type": "LLMResult"}
    if where == "llm_output":
        result["llm_output"] = {"model_name": ANSWERED}
    return result


def _call(output: str) -> Any:
    span = make_span("ChatOpenAI", {"openinference.span.kind": "LLM", "llm.model_name": ASKED,
                                    "input.value": "Capital of France?", "output.value": output})
    [event] = normalize_traces(traces_request([span]), now_us=0).events
    return event


@pytest.mark.parametrize("where", ["generation_info", "response_metadata", "llm_output"])
def test_the_answering_model_of_a_langchain_result_wins(where: str) -> None:
    event = _call(json.dumps(_streamed(where)))
    assert event.model == ANSWERED
    assert event.metadata.get("request_model") in (ASKED, None)


@pytest.mark.parametrize("output", [json.dumps(_streamed("none")), "not json", '{"generations": 3}',
                                    '{"generations": [[]]}', '{"generations": [["x"]]}'])
def test_without_an_answering_model_the_asked_model_stays(output: str) -> None:
    assert _call(output).model == ASKED

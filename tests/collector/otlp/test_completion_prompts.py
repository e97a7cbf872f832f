"""OpenInference completion spans carry their prompt in `llm.prompts`; `input.value` may be something else.

LlamaIndex's `complete(prompt)` span has `input.value = {"args": [prompt]}` (the Python call's arguments): the
stored input must be the prompt itself, from either spelling of the convention.
"""

from __future__ import annotations

import json

import pytest

from tests.collector.dialect_helpers import normalize, only_event
from tests.collector.otlp_factories import make_span

PROMPT = "Name three rivers in France."
BASE = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
        "input.value": json.dumps({"args": [PROMPT]}), "input.mime_type": "application/json",
        "output.value": "The Seine, the Loire and the Rhone.", "llm.token_count.prompt": 12,
        "llm.token_count.completion": 8}


@pytest.mark.parametrize("prompts", [{"llm.prompts": [PROMPT]}, {"llm.prompts.0.prompt.text": PROMPT}],
                         ids=["string-list", "flattened"])
def test_the_prompt_is_the_input_not_the_call_arguments(prompts: dict[str, object]) -> None:
    event = only_event(normalize(make_span("OpenAI.complete", {**BASE, **prompts})))
    assert (event.input, event.output) == (PROMPT, "The Seine, the Loire and the Rhone.")
    assert not any(key.startswith("llm.prompts") for key in json.dumps(event.metadata).split('"'))


def test_several_prompts_read_as_the_last_one_asked() -> None:
    event = only_event(normalize(make_span("OpenAI.complete", {**BASE, "llm.prompts": ["First?", PROMPT]})))
    assert event.input == PROMPT

"""What a scenario must have stored, derived from the fake provider's request log alone, and the check.

One real call is one event: its input (the last user text; for a call answering a tool result, the result),
output (the answer, or the tool calls it asked for), model (the provider's answer; the request model for a
failed call), tokens, user and session. A failed call is one `failure` event. A tool the agent ran is one
`tool` event carrying its result. Nothing else may be in the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.interop.fake_llm import FINAL_ANSWER_TOOL

# The provider an event must name for each API of the fake provider (the GenAI conventions' names).
PROVIDER_OF_API = {"gemini": "gcp.gemini"}


@dataclass(frozen=True)
class Truth:
    library: str
    session_id: str
    user_id: str
    calls: list[dict[str, Any]]  # the fake provider's log (see fake_llm.Call)
    # What the library never sends, so no collector can store it (see docs/interop.md):
    # "stream-output" = a streamed call's answer text is in no span or log record;
    # "response-model" = only the request model is sent, never the dated model the provider answered with;
    # "session" = the session id the app set never leaves the process (e.g. scrubbed): the events must then
    # share one session of their own, never the placeholder the library sent instead;
    # "failure-input" = a failed call's span (and log records) carry no prompt at all: its event has no input;
    # "failure-identity" = a failed call's span carries no session or user either (nor a parent to inherit them
    # from): its event has the user None and a session of its own;
    # "failure-model" = a failed call's span names no model or provider (the library sets them from the response):
    # its event has neither (none guessed);
    # "tool-span" = the app's tool ran on no span (an SDK ran it between two calls without tracing it): no tool
    # event can exist; its result must still show as the input of the call that answers it;
    # "tool-result" = the tool ran on a span that carries neither its arguments nor its result: there is a tool
    # event, with no output (its result shows as the input of the call that answers it);
    # "tool-round" = an SDK's automatic function calling is one span for the request that asked for a tool and
    # the one that answered its result: one event, with the question as input and the last request's answer,
    # model and tokens (the first request's tokens are on no span);
    # "failure-span" = the library never ends a failed call's span, so it is never exported: no event can exist;
    # "stream-tokens" = a streamed call's token counts are never the provider's (the library ignores the stream's
    # usage chunk and sends its own tokenizer's count, or none): they are not checked;
    # "stream-model" = a streamed call carries only the request model (the chunks' model is never read).
    gaps: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"library": self.library, "session_id": self.session_id, "user_id": self.user_id,
                "gaps": list(self.gaps), "calls": self.calls}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Truth:
        return cls(data["library"], data["session_id"], data["user_id"], data["calls"], tuple(data.get("gaps", ())))

    def expected_model(self, call: dict[str, Any]) -> str:
        if "response-model" in self.gaps or (call["stream"] and "stream-model" in self.gaps):
            return call["request_model"]
        return call["response_model"]

    def expected_output(self, call: dict[str, Any]) -> str:
        return "" if call["stream"] and "stream-output" in self.gaps else call["output_text"]

    def real_calls(self) -> list[dict[str, Any]]:
        """Calls as the app made them: an SDK retry of a failed request (same body) is the same call (and a
        tool round one call where the library traces it as one; a failed call none where it never exports it)."""
        calls = self._requests()
        if "failure-span" in self.gaps:
            calls = [call for call in calls if call["status"] == 200]
        if "tool-round" not in self.gaps:
            return calls
        rounds: list[dict[str, Any]] = []
        for call in calls:
            if call["tool_result"] is not None and rounds and rounds[-1]["tool_calls"]:
                asked = rounds.pop()
                call = {**call, "tool_result": None, "last_user_text": asked["last_user_text"]}
            rounds.append(call)
        return rounds

    def _requests(self) -> list[dict[str, Any]]:
        seen: set[str] = set()
        unique = []
        for call in sorted(self.calls, key=lambda c: c["seq"]):
            if call["status"] != 200 and call["body_hash"] in seen:
                continue
            seen.add(call["body_hash"])
            unique.append(call)
        return unique

    def tool_results(self) -> list[str]:
        """The results of the tool runs that must be `tool` events (none when no span shows them): each result
        the app sent back, and each `final_answer` call's answer (an agent runs that tool to end its run; it
        returns its argument and the model never sees it)."""
        if "tool-span" in self.gaps:
            return []
        results = []
        for call in self._requests():
            if call["tool_result"] is not None:
                results.append(call["tool_result"])
            results += [str(next(iter(c["arguments"].values()), "")) for c in call["tool_calls"]
                        if c["name"] == FINAL_ANSWER_TOOL]
        return results


def summary(event: dict[str, Any]) -> str:
    meta = event.get("metadata") or {}
    scope = (meta.get("scope") or {}).get("name")
    span = (meta.get("span") or {}).get("name")
    return (f"[{event.get('kind')} {event.get('flag')} in={event.get('input', '')[:50]!r} "
            f"out={event.get('output', '')[:50]!r} model={meta.get('model')} "
            f"tokens={meta.get('token_count_input')}/{meta.get('token_count_output')} "
            f"session={event.get('session_id')} user={meta.get('user_id')} span={scope}/{span}]")


def problems(truth: Truth, events: list[dict[str, Any]]) -> list[str]:
    """Every way the stored events differ from the truth (empty when they match)."""
    found: list[str] = []
    stored = sorted(events, key=lambda e: (e["timestamp"] or "", e["event_id"]))
    llm = [e for e in stored if e.get("kind") == "llm"]
    tools = [e for e in stored if e.get("kind") == "tool"]
    others = [e for e in stored if e.get("kind") not in ("llm", "tool")]
    calls = truth.real_calls()
    if others:
        found.append("events of another kind: " + "; ".join(summary(e) for e in others))
    if len(llm) != len(calls):
        found.append(f"{len(calls)} real LLM calls but {len(llm)} llm events: "
                     + "; ".join(summary(e) for e in llm))
        return found
    for n, (call, event) in enumerate(zip(calls, llm, strict=True), start=1):
        found += [f"call {n} ({call['last_user_text'][:40]!r}): {p} — stored {summary(event)}"
                  for p in call_problems(truth, call, event)]
    if "session" in truth.gaps and len({e.get("session_id") for e in stored}) > 1:
        found.append(f"one conversation split over sessions {sorted({str(e.get('session_id')) for e in stored})}")
    results = truth.tool_results()
    if len(tools) != len(results):
        found.append(f"{len(results)} tool runs but {len(tools)} tool events: " + "; ".join(summary(e) for e in tools))
    else:
        for result, event in zip(results, tools, strict=True):
            if "tool-result" in truth.gaps:
                if event.get("output"):
                    found.append(f"tool event has an output its span never carried: {summary(event)}")
            elif result not in (event.get("output") or ""):
                found.append(f"tool event lacks its result {result!r}: {summary(event)}")
            found += [f"tool event: {p}" for p in identity_problems(truth, event)]
    return found


def identity_problems(truth: Truth, event: dict[str, Any]) -> list[str]:
    meta = event.get("metadata") or {}
    found = []
    if "session" in truth.gaps:
        session = str(event.get("session_id") or "")
        if not session or "crubbed" in session:
            found.append(f"session {session!r} is no session id")
    elif event.get("session_id") != truth.session_id:
        found.append(f"session {event.get('session_id')!r} != {truth.session_id!r}")
    if meta.get("user_id") != truth.user_id:
        found.append(f"user {meta.get('user_id')!r} != {truth.user_id!r}")
    return found


def call_problems(truth: Truth, call: dict[str, Any], event: dict[str, Any]) -> list[str]:
    meta = event.get("metadata") or {}
    if call["status"] != 200 and "failure-identity" in truth.gaps:
        found = [] if meta.get("user_id") is None else [f"user {meta.get('user_id')!r} on a call that sent none"]
        if event.get("session_id") == truth.session_id:
            found.append("the app's session on a failed call that sent none (guessed?)")
    else:
        found = identity_problems(truth, event)
    provider = PROVIDER_OF_API.get(call["api"], call["api"])
    if call["status"] != 200 and "failure-model" in truth.gaps:
        provider = None
    if meta.get("provider") != provider:
        found.append(f"provider {meta.get('provider')!r} != {provider!r}")
    text_in, text_out = event.get("input") or "", event.get("output") or ""
    if call["status"] != 200 and "failure-input" in truth.gaps:
        if text_in:
            found.append(f"input {text_in!r} of a failed call whose library sends no prompt for it")
    elif call["tool_result"] is not None:
        if call["tool_result"] not in text_in:
            found.append(f"input {text_in!r} does not show the tool result {call['tool_result']!r}")
    elif text_in != call["last_user_text"]:
        found.append(f"input {text_in!r} != {call['last_user_text']!r}")
    if call["status"] != 200:
        if event.get("flag") != "failure":
            found.append(f"flag {event.get('flag')!r} != 'failure'")
        model = None if "failure-model" in truth.gaps else call["request_model"]
        if meta.get("model") != model:
            found.append(f"model {meta.get('model')!r} != {model!r}")
        if text_out:
            found.append(f"a failed call has output {text_out!r}")
        return found
    if event.get("flag") == "failure":
        found.append("a successful call is flagged failure")
    if call["tool_calls"]:
        for tool_call in call["tool_calls"]:
            wanted = [tool_call["name"], *(json.dumps(v).strip('"') for v in tool_call["arguments"].values())]
            missing = [w for w in wanted if w not in text_out]
            if missing:
                found.append(f"output {text_out!r} does not show the tool call ({', '.join(missing)} missing)")
    elif text_out != truth.expected_output(call):
        found.append(f"output {text_out!r} != {truth.expected_output(call)!r}")
    if meta.get("model") != truth.expected_model(call):
        found.append(f"model {meta.get('model')!r} != {truth.expected_model(call)!r}")
    if call["stream"] and "stream-tokens" in truth.gaps:
        return found
    tokens = (meta.get("token_count_input"), meta.get("token_count_output"))
    if tokens != (call["input_tokens"], call["output_tokens"]):
        found.append(f"tokens {tokens} != {(call['input_tokens'], call['output_tokens'])}")
    return found

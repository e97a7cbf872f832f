"""A deterministic local LLM provider: OpenAI chat completions, Anthropic Messages and Gemini generateContent,
JSON and SSE.

The real SDKs talk to it as they would to the provider. Its request log is the interop suite's ground truth:
what each call really sent and received (messages, answer, tool calls, token counts, response id, status), so
the suite never judges the collector by what the collector itself stored.

Answers are canned per question (else an echo); token counts follow from the words; a request whose last
user text contains `FAIL_PLEASE` gets an HTTP 500. With tools offered, a question about the weather makes
the model call the first tool; the tool's result then gets a text answer. Anthropic streams count output
tokens the way the real API does: 1 in `message_start`, the cumulative total in `message_delta`.

Two agent conventions of the OpenAI route, as a real model follows them: a ReAct-style agent (smolagents)
sends a tool's result back as a user message `Observation:\n<result>` after an assistant message quoting the
tool call's id, which is that tool's result; an agent that offers a `final_answer` tool ends its run only by
calling it, so the model gives its text answer as that call's argument (the tool returns it).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.interop.http_body import read_body
from tests.support.loopback import LoopbackServer, QuietHandler

FAIL_MARKER = "FAIL_PLEASE"
TOOL_TRIGGER = "weather"  # with tools offered, a question about the weather makes the model call one
ANSWERS = {
    "What is the capital of France?": "The capital of France is Paris.",
    "Roughly how many people live there?": "About 2.1 million people live in Paris proper.",
    "Name three rivers in France.": "The Seine, the Loire and the Rhone.",
}
FINAL_ANSWER_TOOL = "final_answer"
OBSERVATION = "Observation:"
TOOL_CALL_ID = re.compile(r"call_[0-9a-f]{12}")  # the ids this provider gives its OpenAI tool calls
TOOL_ARGUMENT_VALUES = {"string": "Paris", "integer": 2, "number": 2.5, "boolean": True}
CREATED = 1_790_000_000
GEMINI_ERROR = {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}


@dataclass
class Call:
    """One request as the provider saw it, and what it answered."""

    seq: int
    api: str  # "openai" | "anthropic" | "gemini"
    stream: bool
    request_model: str
    response_model: str | None
    messages: list[dict[str, Any]]
    system: str | None
    last_user_text: str
    tool_result: str | None  # the content of the last message when it is a tool result
    tools_offered: list[str]
    output_text: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name", "arguments" (dict)}
    input_tokens: int | None = None
    output_tokens: int | None = None
    response_id: str | None = None
    status: int = 200
    body_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def words(text: str) -> int:
    return len(text.split())


def text_of(content: Any) -> str:
    """Plain text of an OpenAI, Anthropic or Gemini message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and "type" not in part and isinstance(part.get("text"), str):  # Gemini
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                parts.append(text_of(part.get("content")))
        return "".join(parts)
    return ""


def dated(model: str) -> str:
    """The provider answers with a dated snapshot of the alias asked for."""
    if model.startswith("claude"):
        return model if model[-8:].isdigit() else f"{model}-20250929"
    if model.startswith("gemini"):
        return model if model[-3:].isdigit() else f"{model}-001"
    return model if model[-10:].replace("-", "").isdigit() else f"{model}-2024-07-18"


def tool_arguments(schema: dict[str, Any]) -> dict[str, Any]:
    """Deterministic arguments for a tool's JSON schema: every required (else every) property."""
    props = schema.get("properties") or {}
    names = schema.get("required") or list(props)
    return {name: TOOL_ARGUMENT_VALUES.get(str((props.get(name) or {}).get("type", "string")).lower(), "Paris")
            for name in names}  # Gemini's schemas spell types in capitals (STRING)


class Provider:
    """The shared state of one fake server: a response-id prefix unique to this run, and the call log."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def record(self, call: Call) -> Call:
        with self.lock:
            call.seq = len(self.calls) + 1
            if call.status == 200:
                call.response_id = call.response_id or f"{self.run}{call.seq:04d}"
            self.calls.append(call)
            return call

    def log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.to_json() for c in self.calls]


def answer_for(last_user: str, tool_result: str | None) -> str:
    if tool_result is not None:
        return f"The tool says: {tool_result}"
    return ANSWERS.get(last_user.strip(), f"Echo: {last_user.strip()}")


def openai_tool_result(messages: list[dict[str, Any]]) -> str | None:
    """The tool result the request ends with: a `tool` message, or a ReAct observation (a user message
    `Observation:\n<result>` right after an assistant message that quotes one of this provider's tool call ids;
    an observation of `final_answer` is the end of an earlier run, not a result the model asked for)."""
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return text_of(last.get("content"))
    text = text_of(last.get("content")).strip()
    before = messages[-2] if len(messages) > 1 else {}
    quoted = text_of(before.get("content"))
    if (last.get("role") == "user" and text.startswith(OBSERVATION) and before.get("role") == "assistant"
            and TOOL_CALL_ID.search(quoted) and FINAL_ANSWER_TOOL not in quoted):
        return text.removeprefix(OBSERVATION).strip()
    return None


def final_answer_call(tool: dict[str, Any], answer: str, last_user: str) -> dict[str, Any]:
    """The call to an agent's `final_answer` tool that carries the answer (its first required argument)."""
    schema = tool.get("parameters") or {}
    name = next(iter(schema.get("required") or schema.get("properties") or ["answer"]))
    return {"id": "call_" + hashlib.sha1(f"final:{last_user}:{answer}".encode()).hexdigest()[:12],
            "name": FINAL_ANSWER_TOOL, "arguments": {name: answer}}


def openai_call(body: dict[str, Any]) -> Call:
    messages = body.get("messages") or []
    system = next((text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")), None)
    tool_result = openai_tool_result(messages)
    asked = messages[:-1] if tool_result is not None else messages  # an observation is no user text
    last_user = next((text_of(m.get("content")) for m in reversed(asked) if m.get("role") == "user"), "")
    tools = [t.get("function", t) for t in body.get("tools") or []]
    final_answer = next((t for t in tools if t.get("name") == FINAL_ANSWER_TOOL), None)
    model = str(body.get("model", "gpt-4o-mini"))
    call = Call(0, "openai", bool(body.get("stream")), model, dated(model), messages, system, last_user,
                tool_result, [str(t.get("name")) for t in tools], "")
    if tools and tool_result is None and TOOL_TRIGGER in last_user.lower():
        tool = tools[0]
        call.tool_calls = [{"id": "call_" + hashlib.sha1(last_user.encode()).hexdigest()[:12],
                            "name": tool.get("name"), "arguments": tool_arguments(tool.get("parameters") or {})}]
    elif final_answer is not None:
        call.tool_calls = [final_answer_call(final_answer, answer_for(last_user, tool_result), last_user)]
    else:
        call.output_text = answer_for(last_user, tool_result)
    call.input_tokens = 3 + sum(4 + words(text_of(m.get("content"))) for m in messages)
    call.output_tokens = 1 + words(call.output_text) + sum(
        3 + len(json.dumps(c["arguments"]).split()) for c in call.tool_calls)
    return call


def anthropic_call(body: dict[str, Any]) -> Call:
    messages = body.get("messages") or []
    system = body.get("system")
    system_text = text_of(system) if system is not None else None
    last_user = ""
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") == "user" and not (isinstance(content, list) and any(
                isinstance(p, dict) and p.get("type") == "tool_result" for p in content)):
            last_user = text_of(content)
            break
    last = messages[-1] if messages else {}
    last_parts = last.get("content") if isinstance(last.get("content"), list) else []
    results = [p for p in last_parts if isinstance(p, dict) and p.get("type") == "tool_result"]
    tool_result = text_of(results[-1].get("content")) if results else None
    tools = body.get("tools") or []
    model = str(body.get("model", "claude-sonnet-4-5"))
    call = Call(0, "anthropic", bool(body.get("stream")), model, dated(model), messages, system_text, last_user,
                tool_result, [str(t.get("name")) for t in tools], "")
    if tools and tool_result is None and TOOL_TRIGGER in last_user.lower():
        tool = tools[0]
        call.tool_calls = [{"id": "toolu_" + hashlib.sha1(last_user.encode()).hexdigest()[:12],
                            "name": tool.get("name"), "arguments": tool_arguments(tool.get("input_schema") or {})}]
    else:
        call.output_text = answer_for(last_user, tool_result)
    call.input_tokens = 2 + words(system_text or "") + sum(3 + words(text_of(m.get("content"))) for m in messages)
    call.output_tokens = 1 + words(call.output_text) + sum(
        3 + len(json.dumps(c["arguments"]).split()) for c in call.tool_calls)
    return call


def gemini_call(body: dict[str, Any], model: str, stream: bool) -> Call:
    """A `models/{model}:generateContent` (or `:streamGenerateContent`) request; the model is in the path.

    With function declarations offered, a weather question gets a `functionCall` part; a request ending with a
    `functionResponse` part gets a text answer from its `response` (`result`, else the whole object).
    """
    contents = body.get("contents") or []
    system = body.get("systemInstruction") or body.get("system_instruction")
    system_text = text_of((system or {}).get("parts")) if system else None
    last_user = next((text_of(c.get("parts")) for c in reversed(contents)
                      if c.get("role", "user") == "user" and text_of(c.get("parts"))), "")
    last_parts = (contents[-1].get("parts") if contents else None) or []
    responses = [p["functionResponse"] for p in last_parts if isinstance(p, dict) and "functionResponse" in p]
    tool_result = None
    if responses:
        response = responses[-1].get("response") or {}
        tool_result = str(response.get("result", response.get("output", json.dumps(response))))
    declarations = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations") or []]
    call = Call(0, "gemini", stream, model, dated(model), contents, system_text, last_user, tool_result,
                [str(d.get("name")) for d in declarations], "")
    if declarations and tool_result is None and TOOL_TRIGGER in last_user.lower():
        first = declarations[0]
        schema = (first.get("parametersJsonSchema") or first.get("parameters_json_schema")  # the SDK's spelling
                  or first.get("parameters") or {})
        call.tool_calls = [{"id": "", "name": first.get("name"), "arguments": tool_arguments(schema)}]
    else:
        call.output_text = answer_for(last_user, tool_result)
    call.input_tokens = 2 + words(system_text or "") + sum(3 + words(text_of(c.get("parts"))) for c in contents)
    call.output_tokens = words(call.output_text) + sum(
        3 + len(json.dumps(c["arguments"]).split()) for c in call.tool_calls)
    return call


def gemini_parts(call: Call) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": call.output_text}] if call.output_text else []
    return parts + [{"functionCall": {"name": c["name"], "args": c["arguments"]}} for c in call.tool_calls]


def gemini_usage(call: Call, output_tokens: int | None) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": call.input_tokens,
                             "totalTokenCount": (call.input_tokens or 0) + (output_tokens or 0),
                             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": call.input_tokens}]}
    if output_tokens is not None:
        usage["candidatesTokenCount"] = output_tokens
    return usage


def gemini_json(call: Call) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": gemini_parts(call)},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": gemini_usage(call, call.output_tokens), "modelVersion": call.response_model,
            "responseId": call.response_id}


def gemini_chunks(call: Call) -> list[dict[str, Any]]:
    """The real API's stream: every chunk has the response id, model version and usage so far (prompt only
    until the last chunk, which adds the candidates' count and the finish reason)."""
    pieces = call.output_text.split(" ") if call.output_text else []
    parts = [[{"text": piece if i == 0 else " " + piece}] for i, piece in enumerate(pieces)]
    if call.tool_calls:  # function calls come whole, in the last chunk
        parts.append([{"functionCall": {"name": c["name"], "args": c["arguments"]}} for c in call.tool_calls])
    chunks = []
    for i, chunk_parts in enumerate(parts):
        last = i == len(parts) - 1
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": chunk_parts}, "index": 0}
        if last:
            candidate["finishReason"] = "STOP"
        chunks.append({"candidates": [candidate],
                       "usageMetadata": gemini_usage(call, call.output_tokens if last else None),
                       "modelVersion": call.response_model, "responseId": call.response_id})
    return chunks


def openai_json(call: Call) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": call.output_text or None, "refusal": None}
    if call.tool_calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function", "function": {
            "name": c["name"], "arguments": json.dumps(c["arguments"])}} for c in call.tool_calls]
    return {"id": f"chatcmpl-{call.response_id}", "object": "chat.completion", "created": CREATED,
            "model": call.response_model, "system_fingerprint": "fp_interop",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if call.tool_calls else "stop"}],
            "usage": openai_usage(call)}


def openai_usage(call: Call) -> dict[str, Any]:
    return {"prompt_tokens": call.input_tokens, "completion_tokens": call.output_tokens,
            "total_tokens": (call.input_tokens or 0) + (call.output_tokens or 0),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}


def openai_chunks(call: Call, include_usage: bool) -> list[dict[str, Any]]:
    base = {"id": f"chatcmpl-{call.response_id}", "object": "chat.completion.chunk", "created": CREATED,
            "model": call.response_model, "system_fingerprint": "fp_interop"}
    usage_field = {"usage": None} if include_usage else {}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}], **usage_field}]
    pieces = call.output_text.split(" ")
    for i, piece in enumerate(pieces):
        text = piece if i == 0 else " " + piece
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
                       **usage_field})
    for n, tc in enumerate(call.tool_calls):
        chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{
            "index": n, "id": tc["id"], "type": "function",
            "function": {"name": tc["name"], "arguments": json.dumps(tc["arguments"])}}]}, "finish_reason": None}],
            **usage_field})
    chunks.append({**base, "choices": [{"index": 0, "delta": {},
                                        "finish_reason": "tool_calls" if call.tool_calls else "stop"}],
                   **usage_field})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": openai_usage(call)})
    return chunks


def anthropic_content(call: Call) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if call.output_text:
        content.append({"type": "text", "text": call.output_text})
    content += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]}
                for c in call.tool_calls]
    return content


def anthropic_json(call: Call) -> dict[str, Any]:
    return {"id": f"msg_{call.response_id}", "type": "message", "role": "assistant", "model": call.response_model,
            "content": anthropic_content(call), "stop_reason": "tool_use" if call.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": call.input_tokens, "output_tokens": call.output_tokens,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def anthropic_events(call: Call) -> list[tuple[str, dict[str, Any]]]:
    message = {**anthropic_json(call), "content": [], "stop_reason": None,
               "usage": {"input_tokens": call.input_tokens, "output_tokens": 1,
                         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": message})]
    for index, block in enumerate(anthropic_content(call)):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}}))
            pieces = block["text"].split(" ")
            for i, piece in enumerate(pieces):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                    "type": "text_delta", "text": piece if i == 0 else " " + piece}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta", "delta": {
        "stop_reason": "tool_use" if call.tool_calls else "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": call.output_tokens}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def failed(call: Call) -> Call:
    call.response_model = None
    call.output_text = ""
    call.tool_calls = []
    call.input_tokens = call.output_tokens = None
    call.status = 500
    return call


class _Handler(QuietHandler):
    provider: Provider
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        raw = read_body(self) or b"{}"
        body = json.loads(raw)
        path = self.path.split("?")[0]
        if path.endswith("/chat/completions"):
            call = openai_call(body)
        elif path.endswith("/messages"):
            call = anthropic_call(body)
        elif "/models/" in path and path.endswith((":generateContent", ":streamGenerateContent")):
            model, method = path.rsplit("/models/", 1)[1].split(":", 1)
            call = gemini_call(body, model, method == "streamGenerateContent")
        else:
            self._json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        call.body_hash = hashlib.sha256(raw).hexdigest()
        if FAIL_MARKER in call.last_user_text:
            self.provider.record(failed(call))
            error = GEMINI_ERROR if call.api == "gemini" else (
                {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
                if call.api == "anthropic" else
                {"error": {"message": "The server had an error", "type": "server_error", "code": None}})
            self._json(500, error)
            return
        self.provider.record(call)
        if call.api == "openai":
            if call.stream:
                include = bool((body.get("stream_options") or {}).get("include_usage"))
                self._sse([(None, c) for c in openai_chunks(call, include)], done=True)
            else:
                self._json(200, openai_json(call))
        elif call.api == "gemini":
            if call.stream:  # the real API streams SSE only with `?alt=sse` (the SDKs always ask for it)
                self._sse([(None, c) for c in gemini_chunks(call)], done=False)
            else:
                self._json(200, gemini_json(call))
        elif call.stream:
            self._sse(list(anthropic_events(call)), done=False)
        else:
            self._json(200, anthropic_json(call))

    def do_GET(self) -> None:
        """Gemini's model metadata (`models/{model}`), which LlamaIndex's Gemini LLM reads when it is created: no
        model call, so not in the log."""
        path = self.path.split("?")[0]
        if "/models/" not in path:
            self._json(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})
            return
        model = path.rsplit("/models/", 1)[1]
        self._json(200, {"name": f"models/{model}", "version": "001", "displayName": model,
                         "inputTokenLimit": 1_048_576, "outputTokenLimit": 8192,
                         "supportedGenerationMethods": ["generateContent", "countTokens"]})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self.reply(status, "application/json", json.dumps(payload).encode(),
                   {"x-should-retry": "false"} if status >= 500 else None)

    def _sse(self, events: list[tuple[str | None, dict[str, Any]]], done: bool) -> None:
        parts = []
        for name, data in events:
            prefix = f"event: {name}\n" if name else ""
            parts.append(f"{prefix}data: {json.dumps(data)}\n\n")
        if done:
            parts.append("data: [DONE]\n\n")
        self.reply(200, "text/event-stream", "".join(parts).encode())


class FakeLLM(LoopbackServer):
    """`with FakeLLM() as llm:` serves on a free loopback port; `llm.log()` is the ground truth."""

    def __init__(self) -> None:
        self.provider = Provider()
        super().__init__(type("Handler", (_Handler,), {"provider": self.provider}))

    def log(self) -> list[dict[str, Any]]:
        return self.provider.log()

"""A small local stand-in for the OpenAI chat completions endpoint (the real `openai` SDK talks to it)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.loopback import LoopbackServer, QuietHandler


def completion(messages: list[dict[str, Any]], model: str) -> dict[str, Any]:
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    answer = f"Echo: {last}"
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": f"{model}-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9 + len(last.split()), "completion_tokens": 1 + len(answer.split()),
                  "total_tokens": 10 + len(last.split()) + len(answer.split())},
    }


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        body = json.dumps(completion(request.get("messages", []), request.get("model", "gpt-4"))).encode()
        self.reply(200, "application/json", body)


class FakeOpenAI(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

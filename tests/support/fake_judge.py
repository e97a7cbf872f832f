"""A real HTTP stand-in for an OpenAI-compatible judge: records every request, answers by a rule.

Default rule: the verdict is `failure` when the event under judgment (the last user message, after its
earlier turns) contains `BAD`, else `success`; `SLOW` sleeps longer than any test's timeout; `GARBAGE` answers non-JSON;
`FENCED` wraps the JSON in a Markdown fence.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

from tests.support.loopback import LoopbackServer, QuietHandler


class FakeJudge(LoopbackServer):
    def __init__(self, slow_seconds: float = 3.0) -> None:
        self.requests: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.slow_seconds = slow_seconds
        judge = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with judge._lock:
                    judge.requests.append((time.monotonic(), {**body, "_auth": self.headers.get("authorization")}))
                status, payload = judge.answer(body)
                with contextlib.suppress(OSError):  # the client gave up (timeout)
                    self.reply(status, "application/json", json.dumps(payload).encode())

        super().__init__(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def calls_about(self, text: str) -> list[dict[str, Any]]:
        """Requests whose last user message contains `text`."""
        with self._lock:
            return [body for _, body in self.requests if text in last_user(body)]

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        message = last_user(body)
        case = message[message.rfind("User input:"):]  # the event itself, not the earlier turns
        if "SLOW" in case:
            time.sleep(self.slow_seconds)
        if "GARBAGE" in case:
            return 200, completion("I think it went fine, honestly!")
        flag = "failure" if "BAD" in case else "success"
        verdict = json.dumps({"flag": flag, "score": 0.1 if flag == "failure" else 0.9, "reason": f"judged {flag}"})
        return 200, completion(f"```json\n{verdict}\n```" if "FENCED" in case else verdict)


def last_user(body: dict[str, Any]) -> str:
    users = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


def completion(content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-judge", "object": "chat.completion", "created": int(time.time()), "model": "judge-1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}}

"""The `judge` detector: LLM-as-judge through any OpenAI-compatible chat-completions endpoint.

Calibration: the project's own human-flagged events (both flags, most recent) are few-shot examples,
as user/assistant turns; the event under judgment (input, output, previous turns of its session,
truncated) is the last user message. Timeouts, retries with backoff, and the judge's own token usage
are recorded on the detection; a judge that keeps failing yields a detection with `error`, never a hang.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from phosphobs.storage.detection_records import Detection
from phosphobs.storage.models import Event

NAME = "judge"
PROMPT_VERSION = "1"
MAX_FIELD_CHARS = 4000
MAX_TURN_CHARS = 600

SYSTEM = (
    "You judge whether an AI assistant's answer succeeded for the user. Success: the answer addresses the "
    "request correctly and helpfully. Failure: it is wrong, unhelpful, a refusal, off-topic, or the "
    "conversation shows the user was not satisfied. The examples before the last message are judgements "
    "made by this application's own users; follow their standard. Reply with JSON only: "
    '{"flag": "success" or "failure", "score": probability of success between 0 and 1, '
    '"reason": "one short sentence"}.'
)


@dataclass(frozen=True, slots=True)
class JudgeConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 30.0
    retries: int = 2  # attempts after the first
    backoff_seconds: float = 0.5

    @property
    def version(self) -> str:
        return f"{PROMPT_VERSION}:{self.model}"


class JudgeError(Exception):
    """The judge's answer could not be used."""


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size] + " …[truncated]"


def _case(event_input: str, output: str) -> str:
    return f"User input:\n{_clip(event_input, MAX_FIELD_CHARS)}\n\nAssistant output:\n{_clip(output, MAX_FIELD_CHARS)}"


def build_messages(event: Event, examples: Sequence[tuple[str, str, str]],
                   turns: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """System, then each example as a (user, assistant) pair, then the event as the last user message."""
    messages = [{"role": "system", "content": SYSTEM}]
    for example_input, example_output, flag in examples:
        messages.append({"role": "user", "content": _case(example_input, example_output)})
        messages.append({"role": "assistant", "content": json.dumps(
            {"flag": flag, "score": 1.0 if flag == "success" else 0.0, "reason": "flagged by a user"})})
    history = ""
    if turns:
        lines = [f"- user: {_clip(i, MAX_TURN_CHARS)}\n  assistant: {_clip(o, MAX_TURN_CHARS)}" for i, o in turns]
        history = "Earlier turns of this conversation:\n" + "\n".join(lines) + "\n\n"
    messages.append({"role": "user", "content": history + _case(event.input, event.output)})
    return messages


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_verdict(content: str) -> tuple[str, float, str]:
    """`{"flag", "score", "reason"}` from the judge's text (fenced JSON tolerated)."""
    fenced = _FENCE.search(content)
    text = fenced.group(1) if fenced else content
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise JudgeError(f"no JSON object in the judge's answer: {content[:80]!r}")
    try:
        data = json.loads(text[start:end + 1])
    except ValueError as exc:
        raise JudgeError(f"invalid JSON from the judge: {exc}") from exc
    flag = str(data.get("flag", "")).strip().lower() if isinstance(data, dict) else ""
    if flag not in ("success", "failure"):
        raise JudgeError(f"the judge's flag is not success|failure: {flag!r}")
    try:
        score = float(data.get("score", 1.0 if flag == "success" else 0.0))
    except (TypeError, ValueError):
        score = 1.0 if flag == "success" else 0.0
    score = min(1.0, max(0.0, score)) if score == score else (1.0 if flag == "success" else 0.0)
    reason = str(data.get("reason") or "")[:300]
    return flag, score, reason


class Judge:
    NAME = NAME

    def __init__(self, config: JudgeConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = client or httpx.Client(timeout=config.timeout_seconds, headers=headers)
        self._url = config.base_url.rstrip("/") + "/chat/completions"

    def close(self) -> None:
        self._client.close()

    def judge(self, messages: list[dict[str, str]], now_us: int) -> Detection:
        """Ask (with retries); a judge that never answers usably gives a detection with `error`."""
        tokens_in = tokens_out = 0
        error = "not attempted"
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self.config.backoff_seconds * 2 ** (attempt - 1) * random.uniform(0.75, 1.25))
            try:
                response = self._client.post(self._url, json={
                    "model": self.config.model, "messages": messages, "temperature": 0,
                    "response_format": {"type": "json_object"},
                })
                if response.status_code >= 400:
                    raise JudgeError(f"HTTP {response.status_code} from the judge")
                body = response.json()
                usage = body.get("usage") or {}
                tokens_in += int(usage.get("prompt_tokens") or 0)
                tokens_out += int(usage.get("completion_tokens") or 0)
                content = body["choices"][0]["message"]["content"] or ""
                flag, score, reason = parse_verdict(content)
                return Detection(NAME, self.config.version, flag, score, reason, None, None,  # type: ignore[arg-type]
                                 tokens_in, tokens_out, created_us=now_us)
            except httpx.TimeoutException:
                error = f"timed out after {self.config.timeout_seconds:g} s"
            except (httpx.HTTPError, JudgeError, ValueError, KeyError, IndexError, TypeError) as exc:
                error = str(exc) or type(exc).__name__
        return Detection(NAME, self.config.version, None, None, None, None,
                         f"gave up after {self.config.retries + 1} attempts: {error}"[:300],
                         tokens_in or None, tokens_out or None, created_us=now_us)

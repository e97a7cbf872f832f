"""The `rules` detector: no model, always on. It flags only what it can see; otherwise it abstains.

Hard evidence (an error, an empty answer) is marked so precedence lets it beat the judge; refusals and
a user's next message saying the answer was wrong are soft failures.
"""

from __future__ import annotations

import re

from phosphobs.storage.detection_records import Detection
from phosphobs.storage.models import Event

NAME = "rules"
VERSION = "1"
_JUDGED_KINDS = ("llm", "event")

_REFUSAL = re.compile(
    r"^\W*(?:i'?m sorry|i am sorry|sorry|i apologi[sz]e|unfortunately)[^.!?\n]{0,40}?\b(?:but|cannot|can't|can ?not"
    r"|unable|not able)\b"
    r"|\bi (?:can'?t|cannot|can not|won'?t|am unable to|'m unable to|am not able to|'m not able to)"
    r" (?:help|assist|do that|do this|provide|answer|comply|fulfil+|support|share|give)\b"
    r"|^\W*as an ai\b|\bas an ai (?:language )?model\b"
    r"|\bi'?m not (?:able|allowed|permitted) to (?:help|assist|answer|provide)\b",
    re.IGNORECASE,
)
_WRONG = re.compile(
    r"\b(?:that'?s|that is|this is|it'?s|it is|you'?re|you are|your answer is|the answer is)"
    r" (?:(?:completely|totally|just|still|all|so) )?"
    r"(?:wrong|incorrect|not (?:right|correct|true|what i (?:asked|wanted|meant)))\b"
    r"|\b(?:this|that|it) (?:doesn'?t|does not|didn'?t|did not) work\b"
    r"|\bnot what i (?:asked|wanted|meant)\b"
    r"|^\W*no[,.!]+\s*(?:i (?:asked|said|meant|wanted)|that|this|it|wrong)\b"
    r"|^\W*(?:wrong|incorrect|nope)\b"
    r"|\bi (?:already )?(?:asked|said) (?:for|about)\b.*\bnot\b"
    r"|\byou (?:misunderstood|got it wrong|are wrong|'re wrong)\b",
    re.IGNORECASE,
)


def _clip(text: str, size: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def says_wrong(user_message: str) -> bool:
    """The user's message says the previous answer was wrong (`that's wrong`, `no, I asked …`)."""
    return bool(_WRONG.search(user_message[:600]))


def detect(event: Event, next_input: str | None, now_us: int) -> Detection:
    """Rules on one event; `next_input` is the user's next message in the same session, if any."""
    def verdict(flag: str | None, score: float | None, reason: str, evidence: str | None = None) -> Detection:
        return Detection(NAME, VERSION, flag, score, reason[:300], evidence, created_us=now_us)  # type: ignore[arg-type]

    if event.status == "error":
        return verdict("failure", 0.0, f"error: {_clip(event.error_type or 'the call failed')}", "hard")
    if event.kind not in _JUDGED_KINDS:
        return verdict(None, None, "no rule applies to this kind of event")
    output = event.output.strip()
    if not output:
        if not event.input.strip() or _has_tool_calls(event):
            return verdict(None, None, "no content captured")
        return verdict("failure", 0.0, "empty output", "hard")
    if _REFUSAL.search(output[:400]):
        return verdict("failure", 0.1, f"refusal: {_clip(output)}", "soft")
    if next_input is not None and says_wrong(next_input):
        return verdict("failure", 0.15, f"the user's next message says it was wrong: {_clip(next_input)}", "soft")
    return verdict(None, None, "no rule matched")


def blame(next_input: str, now_us: int) -> Detection:
    """The rules verdict on an event whose next user message says it was wrong."""
    return Detection(NAME, VERSION, "failure", 0.15,
                     f"the user's next message says it was wrong: {_clip(next_input)}"[:300], "soft",
                     created_us=now_us)


def _has_tool_calls(event: Event) -> bool:
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    return bool(metadata.get("tool_calls"))

"""The one final flag of an event and where it came from (precedence is defined here only).

Human feedback wins, then an OTel evaluation whose label says pass/fail, then detection. Among
detectors: a `rules` failure on hard evidence (an error, an empty output) wins; otherwise the judge's
flag when the judge ran; otherwise the rules' flag; otherwise the event's own flag (an error span).
"""

from __future__ import annotations

from collections.abc import Iterable

from phosphobs.storage.detection_records import Detection, FlagSource
from phosphobs.storage.models import Flag

_PASS = {"pass", "passed", "success", "succeeded", "correct", "true", "yes", "good", "helpful", "thumbs-up",
         "thumbs_up", "thumbs up", "thumbsup", "👍"}
_FAIL = {"fail", "failed", "failure", "incorrect", "false", "no", "bad", "unhelpful", "thumbs-down", "thumbs_down",
         "thumbs down", "thumbsdown", "👎"}


def label_flag(label: str | None) -> Flag | None:
    """A pass/fail-like evaluation label as a flag; any other label is no opinion."""
    if label is None:
        return None
    value = label.strip().lower()
    if value in _PASS:
        return "success"
    if value in _FAIL:
        return "failure"
    return None


Verdict = tuple[str, "Flag | None", "str | None", int]  # detector, flag, evidence, created_us


def verdict_of(d: Detection) -> Verdict:
    return d.detector, d.flag, d.evidence, d.created_us


def detected_flag(verdicts: Iterable[Verdict]) -> Flag | None:
    """Combine detectors (the latest verdict per detector counts) into one detected flag."""
    latest: dict[str, Verdict] = {}
    for v in verdicts:
        if v[0] not in latest or v[3] >= latest[v[0]][3]:
            latest[v[0]] = v
    rules, judge = latest.get("rules"), latest.get("judge")
    if rules is not None and rules[1] == "failure" and rules[2] == "hard":
        return "failure"
    if judge is not None and judge[1] is not None:
        return judge[1]
    if rules is not None and rules[1] is not None:
        return rules[1]
    others = [v[1] for name, v in sorted(latest.items()) if name not in ("rules", "judge") and v[1]]
    return others[0] if others else None


def final_flag(user: Flag | None, otel: Flag | None, detected: Flag | None,
               own: Flag | None) -> tuple[Flag | None, FlagSource | None]:
    if user is not None:
        return user, "user"
    if otel is not None:
        return otel, "otel"
    if detected is not None:
        return detected, "detector"
    if own is not None:
        return own, "detector"
    return None, None

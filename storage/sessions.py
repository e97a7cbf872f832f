"""Session rules shared by every backend: the inactivity window and deterministic derived ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

SESSION_GAP_US = 30 * 60 * 1_000_000  # a gap longer than this splits a user's events into sessions


def derived_session_id(project_id: str, user_id: str, start_us: int) -> str:
    """Id of an auto-grouped user session: a function of its content, so any arrival order agrees."""
    digest = hashlib.sha256(f"{project_id}\x1f{user_id}\x1f{start_us}".encode()).hexdigest()
    return f"auto_{digest[:24]}"


def trace_session_id(trace_id: str) -> str:
    """A trace with no session attribute is its own session."""
    return f"trace_{trace_id.lower()}"


def effective_session(
    session_id: str | None, user_id: str | None, trace_id: str | None, trace_session: str | None,
    trace_user: str | None,
) -> tuple[str | None, str | None, str | None]:
    """(session_id, kind, user_id) by precedence: explicit > trace attribute > trace id > user window.

    kind is `explicit`, `trace`, `user` (an inactivity window still to be placed) or None (no session).
    """
    user = user_id or trace_user
    if session_id:
        return session_id, "explicit", user
    if trace_id:
        if trace_session:
            return trace_session, "explicit", user
        return trace_session_id(trace_id), "trace", user
    return None, ("user" if user is not None else None), user


class TraceContext(NamedTuple):
    """A trace's session and user, each with the start of the span that named it (the earliest wins)."""

    session_start_us: int | None
    session_id: str | None
    user_start_us: int | None
    user_id: str | None


def merge_trace_hint(current: TraceContext | None, start_us: int, session_id: str | None,
                     user_id: str | None) -> TraceContext | None:
    """The trace's context after a hint: the earliest span's session and user win, so arrival order is moot.

    Returns None when the hint changes nothing. An earlier start for the same session value is a
    change too: the earliest start must be kept, or a later hint could beat it out of order.
    """
    session = (current.session_start_us, current.session_id) if current and current.session_id else None
    user = (current.user_start_us, current.user_id) if current and current.user_id else None
    if session_id and (session is None or (start_us, session_id) < session):
        session = (start_us, session_id)
    if user_id and (user is None or (start_us, user_id) < user):
        user = (start_us, user_id)
    merged = TraceContext(session[0] if session else None, session[1] if session else None,
                          user[0] if user else None, user[1] if user else None)
    if merged == current:
        return None
    return merged


@dataclass(frozen=True, slots=True)
class WindowPlacement:
    """Where an auto-grouped event lands: its session's id and span, and the sessions that merge into it."""

    session_id: str
    start_us: int
    end_us: int
    absorbed: list[str]  # existing session ids that now belong to `session_id` (their events move)


def place_in_window(project_id: str, user_id: str, ts_us: int,
                    candidates: list[tuple[str, int, int]]) -> WindowPlacement:
    """Apply the inactivity-window rule to one event, given the user's auto sessions starting before
    `ts_us + SESSION_GAP_US` as (session_id, start_us, end_us).

    Invariant: a user's auto sessions are more than SESSION_GAP_US apart, so at most two lie within reach
    of one timestamp and the merged span cannot reach a third; three candidates (latest starts) suffice.
    """
    joined = [c for c in candidates if c[2] >= ts_us - SESSION_GAP_US]
    start = min([ts_us, *(c[1] for c in joined)])
    end = max([ts_us, *(c[2] for c in joined)])
    new_id = derived_session_id(project_id, user_id, start)
    return WindowPlacement(new_id, start, end, [c[0] for c in joined if c[0] != new_id])

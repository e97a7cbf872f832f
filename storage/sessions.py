"""Session rules shared by every backend: the inactivity window and deterministic derived ids."""

from __future__ import annotations

import hashlib

SESSION_GAP_US = 30 * 60 * 1_000_000  # a gap longer than this splits a user's events into sessions


def derived_session_id(project_id: str, user_id: str, start_us: int) -> str:
    """Id of an auto-grouped user session: a function of its content, so any arrival order agrees."""
    digest = hashlib.sha256(f"{project_id}\x1f{user_id}\x1f{start_us}".encode()).hexdigest()
    return f"auto_{digest[:24]}"


def trace_session_id(trace_id: str) -> str:
    """A trace with no session attribute is its own session."""
    return f"trace_{trace_id.lower()}"

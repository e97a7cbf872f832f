"""What the last commits said about each project's rate-limit window, to refuse early.

The budget itself is charged in the database at commit (exact across workers). A window only fills
up until it resets, so once a commit reported a project's window spent, any request of that project
can be refused right after decoding, before normalizing or queueing it, without being wrong.
"""

from __future__ import annotations

import threading

from phosphobs.storage.protocol import RateLimitState

MAX_PROJECTS = 10_000  # bounded memory: past this, the oldest entries are forgotten


class RateGate:
    def __init__(self) -> None:
        self._states: dict[str, RateLimitState] = {}
        self._lock = threading.Lock()

    def note(self, project_id: str, state: RateLimitState | None) -> None:
        """Remember the newest window state a commit reported for the project."""
        if state is None:
            return
        with self._lock:
            known = self._states.get(project_id)
            if known is None or known.reset_us < state.reset_us or state.remaining < known.remaining:
                self._states.pop(project_id, None)
                self._states[project_id] = state
                if len(self._states) > MAX_PROJECTS:
                    self._states.pop(next(iter(self._states)))

    def refuses(self, project_id: str, items: int, now_us: int) -> RateLimitState | None:
        """The spent window's state when `items` more cannot fit in it, else None (let the commit decide)."""
        state = self._states.get(project_id)
        if state is None or items <= 0 or now_us >= state.reset_us or state.remaining >= items:
            return None
        return state

"""The judge budget: never more than the limit in any 60-second window (a controlled clock)."""

from __future__ import annotations

from phosphobs.api.detection.budget import Budget


def test_no_window_of_sixty_seconds_exceeds_the_limit() -> None:
    now = [0.0]
    budget = Budget(3, clock=lambda: now[0])
    granted: list[float] = []
    for step in range(0, 2400):  # 240 s in steps of 0.1 s, asking every step
        now[0] = step / 10
        if budget.try_acquire():
            granted.append(now[0])
    assert len(granted) == 12  # 3 per minute over 4 minutes
    assert all(b - a >= 60.0 for a, b in zip(granted, granted[3:], strict=False))


def test_wait_seconds_says_when_the_next_call_is_allowed() -> None:
    now = [100.0]
    budget = Budget(1, clock=lambda: now[0])
    assert budget.wait_seconds() == 0.0 and budget.try_acquire()
    now[0] = 130.0
    assert budget.wait_seconds() == 30.0 and not budget.try_acquire()
    now[0] = 160.0
    assert budget.try_acquire()

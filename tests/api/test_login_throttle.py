"""LoginThrottle's schedule: free misses, a doubling lockout with a ceiling, reset on success or quiet."""

from __future__ import annotations

from phosphobs.api.login_throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockout_starts_after_the_free_misses_and_doubles_up_to_the_ceiling() -> None:
    clock = Clock()
    throttle = LoginThrottle(free_failures=3, base_seconds=2, max_seconds=10, clock=clock)
    keys = throttle.keys("10.0.0.1", "admin")
    assert [throttle.failed(keys) for _ in range(2)] == [None, None]
    assert throttle.retry_after(keys) is None
    locks = []
    for _ in range(5):
        locks.append(throttle.failed(keys))
        assert throttle.retry_after(keys) == locks[-1]
        clock.now += locks[-1]  # wait the lockout out, then miss again
        assert throttle.retry_after(keys) is None
    assert locks == [2, 4, 8, 10, 10]


def test_a_success_or_an_hour_of_quiet_starts_over_and_keys_are_independent() -> None:
    clock = Clock()
    throttle = LoginThrottle(free_failures=2, base_seconds=5, forget_seconds=3600, clock=clock)
    a, b = throttle.keys("10.0.0.1", "admin"), throttle.keys("10.0.0.2", "other")
    throttle.failed(a)
    throttle.succeeded(a)
    assert throttle.failed(a) is None  # counting restarted
    assert throttle.failed(a) == 5
    assert throttle.retry_after(b) is None
    assert throttle.retry_after((a[0], b[1])) == 5  # the address alone is locked
    clock.now += 3601
    assert throttle.failed(a) is None


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_keys=100)
    for i in range(1000):
        throttle.failed(throttle.keys(f"10.0.{i // 256}.{i % 256}", f"user{i}"))
    assert len(throttle._keys) <= 100

"""Retry decisions and waits (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from phosphobs.exporters.retry import RetryPolicy, is_retryable_status, parse_retry_after


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_throttling_timeouts_and_server_errors_are_retryable(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 415, 422])
def test_other_client_errors_are_permanent(status: int) -> None:
    assert not is_retryable_status(status)


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5


def test_retry_after_as_http_date_is_relative_to_now() -> None:
    now = 1_800_000_000.0
    header = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)


@pytest.mark.parametrize("value", [None, "", "soon", "Mon, 99 Foo 2026"])
def test_missing_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_a_date_in_the_past_means_now() -> None:
    header = format_datetime(datetime.fromtimestamp(1_000, UTC), usegmt=True)
    assert parse_retry_after(header, now=2_000.0) == 0.0


def test_backoff_doubles_up_to_the_cap_with_half_of_it_jittered() -> None:
    low = RetryPolicy(base=1.0, max_delay=8.0, rand=lambda: 0.0)
    high = RetryPolicy(base=1.0, max_delay=8.0, rand=lambda: 1.0)
    assert [low.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [high.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    policy = RetryPolicy(base=1.0, max_retry_after=60.0)
    assert policy.delay(5, retry_after=0.0) == 0.0
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(1, retry_after=3600.0) == 60.0


def test_a_batch_is_given_up_only_after_the_retry_window() -> None:
    policy = RetryPolicy(give_up_after=10.0)
    assert not policy.exhausted(started=100.0, now=109.9)
    assert policy.exhausted(started=100.0, now=110.0)
    assert not RetryPolicy(give_up_after=None).exhausted(started=0.0, now=1e9)

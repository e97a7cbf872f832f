"""Delivery plans: what each server answer does to a batch (pure: answers are fed to the plan)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from phosphobs.exporters.delivery import BATCH_PATH, FEEDBACK_PATH, Abandon, Reply, Send, Wait, deliver
from phosphobs.exporters.outbox import Outbox
from phosphobs.exporters.retry import RetryPolicy


def queued(events: int = 0, feedback: int = 0) -> tuple[Outbox, list[Any]]:
    outbox = Outbox(capacity=1000, batch_size=100)
    for i in range(events):
        outbox.put("event", {"event_id": f"e{i}", "input": "i", "output": "o"})
    for i in range(feedback):
        outbox.put("feedback", {"event_id": f"e{i}", "flag": "success"})
    return outbox, outbox.take()


def created(body: bytes, duplicate: set[str] = frozenset()) -> Reply:
    ids = [e["event_id"] for e in json.loads(body)["events"]]
    results = [{"event_id": i, "status": "duplicate" if i in duplicate else "created"} for i in ids]
    return Reply(201, {}, json.dumps({"results": results}).encode())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(plan: Iterator[Any], answer: Any, clock: Clock | None = None) -> list[Any]:
    """Feeds `answer(send)` to every Send; advances the fake clock on every Wait. Returns the steps."""
    steps = []
    step = next(plan)
    try:
        while True:
            steps.append(step)
            if isinstance(step, Send):
                step = plan.send(answer(step))
            else:
                if clock is not None:
                    clock.now += step.seconds
                step = plan.send(None)
    except StopIteration:
        return steps


def no_warnings(key: str, message: str) -> None:
    raise AssertionError(f"unexpected warning {key}: {message}")


def collect(into: list[str]):
    return lambda key, message: into.append(key)


def test_a_batch_goes_out_as_one_request_and_counts_created_and_duplicates() -> None:
    outbox, items = queued(events=3)
    steps = run(deliver(items, outbox, RetryPolicy(), no_warnings), lambda s: created(s.body, {"e1"}))
    assert [s.path for s in steps] == [BATCH_PATH]
    assert [e["event_id"] for e in json.loads(steps[0].body)["events"]] == ["e0", "e1", "e2"]
    assert (outbox.stats().sent, outbox.stats().duplicates) == (3, 1)


def test_a_retried_batch_is_resent_byte_for_byte_after_the_servers_retry_after() -> None:
    outbox, items = queued(events=2)
    answers = iter([Reply(429, {"retry-after": "2"}), Reply(None, error="ConnectError")])
    steps = run(deliver(items, outbox, RetryPolicy(rand=lambda: 0.0), no_warnings),
                lambda s: next(answers, None) or created(s.body))
    sends = [s for s in steps if isinstance(s, Send)]
    assert len(sends) == 3 and len({s.body for s in sends}) == 1
    assert [s.seconds for s in steps if isinstance(s, Wait)] == [2.0, 0.5]  # Retry-After, then backoff #2
    assert (outbox.stats().sent, outbox.stats().retried) == (2, 4)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_permanent_errors_fail_the_batch_without_retrying(status: int) -> None:
    outbox, items = queued(events=4)
    warnings: list[str] = []
    steps = run(deliver(items, outbox, RetryPolicy(), collect(warnings)), lambda s: Reply(status, {}, b"{}"))
    assert len(steps) == 1
    assert (outbox.stats().failed, outbox.stats().retried) == (4, 0)
    assert warnings == [str(status)]


def test_a_422_naming_some_events_drops_only_those_and_resends_the_rest() -> None:
    outbox, items = queued(events=5)
    details = {"error": {"details": [{"loc": ["events", 1, "session_id"]}, {"loc": ["events", 3, "input"]}]}}
    answers = iter([Reply(422, {}, json.dumps(details).encode())])
    steps = run(deliver(items, outbox, RetryPolicy(), collect([])), lambda s: next(answers, None) or created(s.body))
    assert [e["event_id"] for e in json.loads(steps[1].body)["events"]] == ["e0", "e2", "e4"]
    assert (outbox.stats().sent, outbox.stats().failed) == (3, 2)


def test_a_422_that_names_no_event_fails_the_whole_batch() -> None:
    outbox, items = queued(events=3)
    run(deliver(items, outbox, RetryPolicy(), collect([])), lambda s: Reply(422, {}, b'{"error": {}}'))
    assert outbox.stats().failed == 3


def test_a_batch_too_large_is_split_until_it_fits() -> None:
    outbox, items = queued(events=4)
    sizes: list[int] = []

    def answer(send: Send) -> Reply:
        events = json.loads(send.body)["events"]
        sizes.append(len(events))
        return created(send.body) if len(events) == 1 else Reply(413)

    run(deliver(items, outbox, RetryPolicy(), collect([])), answer)
    assert sizes == [4, 2, 1, 1, 2, 1, 1]
    assert outbox.stats().sent == 4


def test_retrying_stops_after_the_give_up_window() -> None:
    outbox, items = queued(events=2)
    clock = Clock()
    warnings: list[str] = []
    policy = RetryPolicy(base=1.0, max_delay=1.0, give_up_after=5.0, rand=lambda: 1.0)
    run(deliver(items, outbox, policy, collect(warnings), clock=clock), lambda s: Reply(503), clock)
    assert outbox.stats().failed == 2
    assert warnings == ["gave-up"]


def test_feedback_goes_to_the_feedback_endpoint() -> None:
    outbox, items = queued(feedback=1)
    steps = run(deliver(items, outbox, RetryPolicy(), no_warnings), lambda s: Reply(201, {}, b'{"status":"recorded"}'))
    assert steps[0].path == FEEDBACK_PATH
    assert json.loads(steps[0].body) == {"event_id": "e0", "flag": "success"}
    assert outbox.stats().sent == 1


def test_abandoning_during_a_backoff_counts_the_batch_as_dropped() -> None:
    outbox, items = queued(events=3)
    plan = deliver(items, outbox, RetryPolicy(), no_warnings)
    assert isinstance(next(plan), Send)
    assert isinstance(plan.send(Reply(503)), Wait)
    with pytest.raises(StopIteration):
        plan.throw(Abandon())
    assert outbox.stats().dropped == 3

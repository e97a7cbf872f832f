"""The bounded queue between log() and the sender (pure, single-threaded)."""

from __future__ import annotations

from phosphobs.exporters.outbox import Outbox


def fill(outbox: Outbox, events: int = 0, feedback: int = 0) -> None:
    for i in range(events):
        outbox.put("event", {"n": i})
    for i in range(feedback):
        outbox.put("feedback", {"n": i})


def test_a_full_queue_drops_and_counts_instead_of_growing() -> None:
    outbox = Outbox(capacity=3, batch_size=100)
    results = [outbox.put("event", {"n": n}) for n in range(5)]
    assert results == [True, True, True, False, False]
    assert outbox.stats().dropped == 2
    assert outbox.stats().queued == 3


def test_items_being_sent_still_count_against_the_capacity() -> None:
    outbox = Outbox(capacity=2, batch_size=100)
    fill(outbox, events=2)
    assert len(outbox.take()) == 2
    assert not outbox.put("event", {})
    outbox.release()
    assert outbox.put("event", {})


def test_take_gives_a_batch_of_events_before_any_feedback() -> None:
    outbox = Outbox(capacity=100, batch_size=2)
    outbox.put("feedback", {"f": 1})
    fill(outbox, events=3)
    assert [i.kind for i in outbox.take()] == ["event", "event"]
    outbox.release()
    assert [i.kind for i in outbox.take()] == ["event"]
    outbox.release()
    assert [i.kind for i in outbox.take()] == ["feedback"]
    outbox.release()
    assert outbox.take() == []


def test_flush_waits_for_older_items_even_when_newer_ones_were_sent_first() -> None:
    outbox = Outbox(capacity=100, batch_size=100)
    outbox.put("feedback", {"old": True})
    target = outbox.request_flush()
    outbox.put("event", {"new": True})
    outbox.take()  # the newer event goes first
    outbox.release()
    assert not outbox.drained(target)
    outbox.take()  # now the older feedback
    assert not outbox.drained(target)
    outbox.release()
    assert outbox.drained(target)


def test_nothing_is_accepted_after_close() -> None:
    outbox = Outbox(capacity=10, batch_size=10)
    outbox.close()
    assert not outbox.put("event", {})
    assert outbox.stats().dropped == 1


def test_dropping_what_is_left_counts_queued_and_in_flight_items() -> None:
    outbox = Outbox(capacity=10, batch_size=2)
    fill(outbox, events=5)
    outbox.take()
    outbox.drop_in_flight()
    assert outbox.drop_queued() == 3
    assert outbox.stats().dropped == 5
    assert outbox.pending == 0


def test_a_full_batch_wakes_the_sender_without_waiting_for_the_interval() -> None:
    outbox = Outbox(capacity=10, batch_size=2)
    fill(outbox, events=2)
    assert outbox.ready()
    outbox.wait_for_work(timeout=3600)  # returns at once: a batch is ready

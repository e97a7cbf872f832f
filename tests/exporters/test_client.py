"""The thread client against a real `phosphobs serve` process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from phosphobs.exporters import Client, session


@pytest.fixture
def client(backend) -> Iterator[Client]:
    # A long interval, so batches leave when the test flushes and their shape is predictable.
    with Client(backend.api_key, backend.url, flush_interval=60.0) as c:
        yield c


def test_log_returns_a_fresh_event_id_and_the_event_lands_with_its_metadata(backend, client, session_id) -> None:
    event_id = client.log(
        "What is the capital of France?", "Paris.", session_id=session_id, user_id="u-42",
        metadata={"custom_key": "kept", "tags": ["prod"]}, model="gpt-4", provider="openai", latency_ms=850,
        token_count_input=12, token_count_output=18, cost_cents=2.3,
    )
    assert uuid.UUID(event_id).version == 4
    assert client.flush()
    stored = backend.get(f"/api/events/{event_id}").json()
    assert (stored["input"], stored["output"], stored["session_id"]) == (
        "What is the capital of France?", "Paris.", session_id)
    meta = stored["metadata"]
    assert (meta["model"], meta["provider"], meta["latency_ms"]) == ("gpt-4", "openai", 850)
    assert (meta["token_count_input"], meta["token_count_output"], meta["cost_cents"]) == (12, 18, 2.3)
    assert (meta["user_id"], meta["tags"], meta["custom_key"]) == ("u-42", ["prod"], "kept")
    assert client.stats.sent == 1


def test_250_events_arrive_in_batches_each_exactly_once(backend, client, session_id) -> None:
    ids = [client.log(f"q{n}", f"a{n}", session_id=session_id) for n in range(250)]
    assert client.flush()
    stored = [e["event_id"] for e in backend.events(session_id)]
    assert sorted(stored) == sorted(ids)
    assert (client.stats.sent, client.stats.duplicates, client.stats.failed) == (250, 0, 0)


def test_the_timestamp_is_taken_at_log_time_or_given(backend, client, session_id) -> None:
    given = client.log("q", "a", session_id=session_id, timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    client.flush()
    assert backend.get(f"/api/events/{given}").json()["timestamp"].startswith("2026-01-02T03:04:05")


def test_a_callers_event_id_is_kept(backend, client, session_id) -> None:
    mine = str(uuid.uuid4())
    assert client.log("q", "a", session_id=session_id, event_id=mine) == mine
    client.flush()
    assert backend.get(f"/api/events/{mine}").status_code == 200


def test_feedback_reaches_its_event(backend, client, session_id) -> None:
    event_id = client.log("q", "a", session_id=session_id)
    client.feedback(event_id, "failure", comment="wrong city")
    assert client.flush()
    assert backend.get(f"/api/events/{event_id}").json()["flag"] == "failure"
    assert client.stats.sent == 2


def test_an_unknown_feedback_flag_is_counted_as_failed_not_raised(client) -> None:
    client.feedback(str(uuid.uuid4()), "meh")
    assert client.stats.failed == 1


def test_inside_a_session_block_events_get_its_session_and_user(backend, client, session_id) -> None:
    with session(session_id, user_id="u-7"):
        event_id = client.log("q", "a")
    client.flush()
    stored = backend.get(f"/api/events/{event_id}").json()
    assert (stored["session_id"], stored["metadata"]["user_id"]) == (session_id, "u-7")


def test_odd_values_are_coerced_rather_than_rejected(backend, client, session_id) -> None:
    event_id = client.log({"messages": ["hi"]}, None, session_id=session_id,
                          metadata={"score": float("nan"), "when": datetime(2026, 1, 1, tzinfo=UTC)})
    assert client.flush()
    stored = backend.get(f"/api/events/{event_id}").json()
    assert (stored["input"], stored["output"]) == ('{"messages": ["hi"]}', "")
    assert stored["metadata"]["score"] is None


def test_one_invalid_event_does_not_sink_the_rest_of_its_batch(backend, client, session_id) -> None:
    good = [client.log("q", "a", session_id=session_id) for _ in range(3)]
    client.log("q", "a", session_id="x" * 600)  # longer than the API allows
    good.append(client.log("q", "a", session_id=session_id))
    assert client.flush()
    assert sorted(e["event_id"] for e in backend.events(session_id)) == sorted(good)
    assert (client.stats.sent, client.stats.failed) == (4, 1)


def test_a_rejected_api_key_fails_the_batch_without_retrying(backend, session_id) -> None:
    with Client("ph_not_a_real_key", backend.url, flush_interval=60.0) as wrong:
        wrong.log("q", "a", session_id=session_id)
        assert wrong.flush()
        assert (wrong.stats.failed, wrong.stats.retried, wrong.stats.sent) == (1, 0, 0)


def test_log_returns_at_once_while_the_server_is_down_and_the_queue_grows(dead_end) -> None:
    client = Client("ph_x", dead_end, flush_interval=60.0)
    ids = [client.log("q", "a") for _ in range(50)]
    assert len(set(ids)) == 50
    assert client.pending == 50
    assert client.stats.sent == 0
    assert client.shutdown(timeout=0) is False
    assert client.stats.dropped == 50


def test_a_full_queue_drops_and_counts_instead_of_raising(dead_end) -> None:
    client = Client("ph_x", dead_end, max_queue=10, flush_interval=60.0)
    for _ in range(25):
        client.log("q", "a")
    assert (client.pending, client.stats.dropped) == (10, 15)
    client.shutdown(timeout=0)


def test_flush_gives_up_after_its_timeout_while_the_server_is_down(dead_end) -> None:
    client = Client("ph_x", dead_end)
    client.log("q", "a")
    assert client.flush(timeout=0.2) is False
    assert client.stats.retried >= 1
    client.shutdown(timeout=0)


def test_after_shutdown_logging_is_dropped_and_counted(backend) -> None:
    client = Client(backend.api_key, backend.url)
    assert client.shutdown()
    client.log("q", "a")
    assert client.stats.dropped == 1
    assert client.shutdown() is True  # idempotent


def test_flush_and_shutdown_before_any_log_return_at_once(dead_end) -> None:
    client = Client("ph_x", dead_end)
    assert client.flush() is True
    assert client.shutdown() is True


def test_shutdown_sends_what_is_still_queued(backend, session_id) -> None:
    client = Client(backend.api_key, backend.url, flush_interval=3600.0)
    ids = [client.log("q", "a", session_id=session_id) for _ in range(5)]
    assert client.shutdown(timeout=30)
    assert sorted(e["event_id"] for e in backend.events(session_id)) == sorted(ids)


def test_events_logged_just_before_the_interpreter_exits_are_sent(backend, session_id) -> None:
    code = f"""
        from phosphobs.exporters import Client
        client = Client({backend.api_key!r}, {backend.url!r}, flush_interval=3600.0)
        for n in range(7):
            client.log("q", "a", session_id={session_id!r})
        # no flush, no shutdown: the exit hook must send them
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=120)
    assert len(backend.events(session_id)) == 7

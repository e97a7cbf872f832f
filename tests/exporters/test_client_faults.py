"""The thread client when the network and the server misbehave: a real fault-injecting proxy in front of
the real server, and a server killed and restarted mid-stream. Every event must land exactly once."""

from __future__ import annotations

import threading

import pytest
from phosphobs.exporters import Client, RetryPolicy

from tests.exporters.live import Backend
from tests.support.polling import wait_until

FAST = RetryPolicy(base=0.05, max_delay=0.5)  # short waits keep the test quick; the rules are the same


@pytest.mark.parametrize("status", [429, 503])
def test_throttled_requests_are_retried_after_retry_after_until_they_land(backend, fault_proxy, session_id,
                                                                           status) -> None:
    fault_proxy.fail_first, fault_proxy.fail_status, fault_proxy.retry_after = 3, status, "0"
    with Client(backend.api_key, fault_proxy.url, flush_interval=60.0, retry=FAST) as client:
        ids = [client.log(f"q{n}", "a", session_id=session_id) for n in range(10)]
        assert client.flush(timeout=60)
        assert (client.stats.sent, client.stats.retried, client.stats.failed) == (10, 30, 0)
    assert sorted(e["event_id"] for e in backend.events(session_id)) == sorted(ids)
    assert [action for _, action in fault_proxy.log] == ["fail", "fail", "fail", "forward"]


def test_server_errors_without_retry_after_back_off_and_retry(backend, fault_proxy, session_id) -> None:
    fault_proxy.fail_first, fault_proxy.fail_status, fault_proxy.retry_after = 2, 500, None
    with Client(backend.api_key, fault_proxy.url, flush_interval=60.0, retry=FAST) as client:
        ids = [client.log("q", "a", session_id=session_id) for _ in range(4)]
        assert client.flush(timeout=60)
    assert sorted(e["event_id"] for e in backend.events(session_id)) == sorted(ids)


def test_a_lost_answer_is_retried_and_the_server_stores_the_events_once(backend, fault_proxy, session_id) -> None:
    fault_proxy.lose_answers = 1  # the server commits the batch; the client never hears back
    with Client(backend.api_key, fault_proxy.url, flush_interval=60.0, retry=FAST) as client:
        ids = [client.log(f"q{n}", "a", session_id=session_id) for n in range(10)]
        assert client.flush(timeout=60)
        assert (client.stats.sent, client.stats.duplicates) == (10, 10)
    assert sorted(e["event_id"] for e in backend.events(session_id)) == sorted(ids)


def test_feedback_is_retried_too(backend, fault_proxy, session_id) -> None:
    with Client(backend.api_key, backend.url) as direct:
        event_id = direct.log("q", "a", session_id=session_id)
        direct.flush()
    fault_proxy.fail_first = 2
    with Client(backend.api_key, fault_proxy.url, retry=FAST) as client:
        client.feedback(event_id, "success")
        assert client.flush(timeout=60)
    assert backend.get(f"/api/events/{event_id}").json()["flag"] == "success"


def test_killing_and_restarting_the_server_mid_stream_loses_and_duplicates_nothing(own_server, session_id) -> None:
    backend = Backend(own_server.base_url, own_server.api_key)
    killed, restarted = threading.Event(), threading.Event()
    logged: list[str] = []
    client = Client(own_server.api_key, own_server.base_url, batch_size=20, flush_interval=0.05, retry=FAST)

    def app() -> None:  # keeps logging through the outage, as a real app would
        for n in range(300):
            logged.append(client.log(f"q{n}", f"a{n}", session_id=session_id))
            if n == 100:
                killed.wait(60)
            if n == 200:
                restarted.wait(60)

    writer = threading.Thread(target=app)
    writer.start()
    wait_until(lambda: len(logged) > 100, 60)
    own_server.kill()
    killed.set()
    wait_until(lambda: len(logged) > 200, 60)
    assert client.pending > 0  # queued while the server is down
    own_server.start()
    restarted.set()
    writer.join(60)
    assert client.flush(timeout=120)
    client.shutdown()
    stored = [e["event_id"] for e in backend.events(session_id)]
    assert len(stored) == len(set(stored)) == 300
    assert set(stored) == set(logged)
    assert (client.stats.dropped, client.stats.failed) == (0, 0)

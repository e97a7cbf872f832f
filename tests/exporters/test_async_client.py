"""The asyncio client against the real server: same contract, sender on the app's loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from phosphobs.exporters import AsyncClient, RetryPolicy, session


def test_events_and_feedback_land_after_flush(backend, session_id) -> None:
    async def app() -> tuple[list[str], object]:
        async with AsyncClient(backend.api_key, backend.url, flush_interval=60.0) as client:
            ids = [client.log(f"q{n}", "a", session_id=session_id, model="gpt-4o") for n in range(150)]
            client.feedback(ids[0], "success")
            assert await client.flush()
            return ids, client.stats

    ids, stats = asyncio.run(app())
    stored = backend.events(session_id)
    assert sorted(e["event_id"] for e in stored) == sorted(ids)
    assert backend.get(f"/api/events/{ids[0]}").json()["flag"] == "success"
    assert (stats.sent, stats.failed, stats.dropped) == (151, 0, 0)


def test_concurrent_tasks_log_into_their_own_sessions(backend, session_id) -> None:
    async def conversation(client: AsyncClient, name: str) -> None:
        async with session(name, user_id=f"user-{name}"):
            for turn in range(3):
                await asyncio.sleep(0)
                client.log(f"turn {turn}", "ok")

    async def app() -> None:
        async with AsyncClient(backend.api_key, backend.url) as client:
            await asyncio.gather(*(conversation(client, f"{session_id}-{n}") for n in range(4)))
            assert await client.flush()

    asyncio.run(app())
    for n in range(4):
        stored = backend.events(f"{session_id}-{n}")
        assert len(stored) == 3
        assert {e["metadata"]["user_id"] for e in stored} == {f"user-{session_id}-{n}"}


def test_throttling_is_retried_on_the_loop(backend, fault_proxy, session_id) -> None:
    fault_proxy.fail_first, fault_proxy.fail_status = 2, 429

    async def app() -> object:
        async with AsyncClient(backend.api_key, fault_proxy.url, retry=RetryPolicy(base=0.05)) as client:
            for _ in range(5):
                client.log("q", "a", session_id=session_id)
            assert await client.flush(timeout=60)
            return client.stats

    stats = asyncio.run(app())
    assert (stats.sent, stats.retried) == (5, 10)
    assert len(backend.events(session_id)) == 5


def test_log_never_blocks_the_loop_while_the_server_is_down(dead_end) -> None:
    async def app() -> tuple[int, object]:
        client = AsyncClient("ph_x", dead_end, max_queue=20, flush_interval=60.0)
        for _ in range(30):
            client.log("q", "a")
        pending = client.pending
        assert await client.flush(timeout=0.2) is False
        await client.aclose(timeout=0)
        return pending, client.stats

    pending, stats = asyncio.run(app())
    assert pending == 20
    assert stats.dropped == 30  # 10 on the full queue, 20 abandoned at aclose


def test_events_left_when_the_loop_ends_are_sent_at_exit(backend, session_id) -> None:
    code = f"""
        import asyncio
        from phosphobs.exporters import AsyncClient

        async def main():
            client = AsyncClient({backend.api_key!r}, {backend.url!r}, flush_interval=3600.0)
            for n in range(6):
                client.log("q", "a", session_id={session_id!r})

        asyncio.run(main())  # no flush, no aclose: the loop is gone before the exit hook runs
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=120)
    assert len(backend.events(session_id)) == 6

"""`session()` scoping across nesting, threads, asyncio tasks, and baggage."""

from __future__ import annotations

import asyncio
import threading

from opentelemetry import baggage
from phosphobs.exporters.session_context import SessionInfo, current_session, session, session_from_baggage


def test_outside_any_block_there_is_no_session() -> None:
    assert current_session() is None


def test_a_block_sets_and_restores_the_session() -> None:
    with session("s-1", user_id="u-42") as info:
        assert info == SessionInfo("s-1", "u-42")
        assert current_session() == info
    assert current_session() is None


def test_a_nested_block_inherits_the_outer_user() -> None:
    with session("outer", user_id="u-1"), session("inner"):
        assert current_session() == SessionInfo("inner", "u-1")
    with session("outer", user_id="u-1"):
        with session("inner", user_id="u-2"):
            assert current_session() == SessionInfo("inner", "u-2")
        assert current_session() == SessionInfo("outer", "u-1")


def test_the_ids_travel_as_baggage_unless_told_not_to() -> None:
    with session("s-1", user_id="u-42"):
        assert baggage.get_baggage("session.id") == "s-1"
        assert session_from_baggage() == SessionInfo("s-1", "u-42")
    assert baggage.get_baggage("session.id") is None
    with session("private", propagate=False):
        assert baggage.get_baggage("session.id") is None
        assert current_session() == SessionInfo("private", None)


def test_concurrent_asyncio_tasks_each_see_their_own_session() -> None:
    async def conversation(name: str) -> list[str | None]:
        seen = []
        async with session(name):
            for _ in range(3):
                await asyncio.sleep(0)
                info = current_session()
                seen.append(info.session_id if info else None)
        return seen

    async def main() -> list[list[str | None]]:
        return list(await asyncio.gather(*(conversation(f"s-{n}") for n in range(5))))

    assert asyncio.run(main()) == [[f"s-{n}"] * 3 for n in range(5)]


def test_a_new_thread_does_not_inherit_the_callers_session() -> None:
    seen: list[SessionInfo | None] = []
    with session("s-1"):
        thread = threading.Thread(target=lambda: seen.append(current_session()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_session_info_maps_to_every_attribute_readers_look_for() -> None:
    assert SessionInfo("s", "u").span_attributes() == {
        "session.id": "s",
        "gen_ai.conversation.id": "s",
        "langfuse.session.id": "s",
        "traceloop.association.properties.session_id": "s",
        "user.id": "u",
        "langfuse.user.id": "u",
        "traceloop.association.properties.user_id": "u",
    }
    assert SessionInfo(None, "u").span_attributes().keys() == {
        "user.id", "langfuse.user.id", "traceloop.association.properties.user_id"}

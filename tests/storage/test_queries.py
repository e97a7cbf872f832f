"""Event and session queries: every filter, keyset pages, full-text search, project scoping."""

from __future__ import annotations

import pytest
from phosphobs.storage.dashboard_records import SessionSearch
from phosphobs.storage.protocol import EventQuery, IngestOp, Project, SessionQuery, Storage

from tests.support.factories import BASE_US, MINUTE_US, make_event

NOW = BASE_US


@pytest.fixture
def seeded(storage: Storage, project: Project):
    events = [
        make_event(session_id="s1", user_id="u1", model="gpt-4", provider="openai", tags=["prod"],
                   input="What is the capital of France?", output="Paris is the capital.", timestamp_us=BASE_US),
        make_event(session_id="s1", user_id="u1", model="gpt-4", provider="openai",
                   input="And of Italy?", output="Rome.", timestamp_us=BASE_US + MINUTE_US),
        make_event(session_id="s2", user_id="u2", model="claude-3", provider="anthropic", tags=["beta", "prod"],
                   input="Écris un poème", output="Les roses sont rouges", timestamp_us=BASE_US + 2 * MINUTE_US,
                   flag="failure", status="error"),
        make_event(user_id="u3", model="gpt-4", kind="tool", input='{"q": "weather"}', output="sunny",
                   timestamp_us=BASE_US + 3 * MINUTE_US),
    ]
    storage.write([IngestOp(project.id, events, None)], NOW)
    return events


def ids(page) -> list[str]:
    return [e.event.event_id for e in page.items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (EventQuery(session_id="s1"), [1, 0]),
        (EventQuery(user_id="u2"), [2]),
        (EventQuery(model="gpt-4"), [3, 1, 0]),
        (EventQuery(provider="anthropic"), [2]),
        (EventQuery(tag="prod"), [2, 0]),
        (EventQuery(flag="failure"), [2]),
        (EventQuery(kind="tool"), [3]),
        (EventQuery(since_us=BASE_US + MINUTE_US, until_us=BASE_US + 3 * MINUTE_US), [2, 1]),
        (EventQuery(text="capital"), [0]),
        (EventQuery(text="paris france"), [0]),
        (EventQuery(text="ecris"), [2]),  # diacritics folded
        (EventQuery(text="rome", model="gpt-4"), [1]),
        (EventQuery(text="nothing-matches-this"), []),
    ],
)
def test_event_filters(storage: Storage, project: Project, seeded, query: EventQuery, expected: list[int]) -> None:
    assert ids(storage.list_events(project.id, query)) == [seeded[i].event_id for i in expected]


ODD_SEARCHES = ['"', "a OR", "NEAR(", "*", "-x", "col:val", "'", "AND AND", "(", "^", "   ", "tool_call",
                "__init__", "a.b-c/d", '"exact phrase"', "it's", "x AND (y OR NOT z)", "NEAR(a b, 2)", "{a b}:c",
                "a\\b", "%_%", "e\u0301\u0301", "a\u200db", "\u19b0\u19b1", "\u1cf2x", "日本語のテキスト",
                "\U0001f600 ok", "\x00", "' OR 1=1 --", "$$; DROP TABLE events; --", "a:b:c", "+-*/", "\\x", ":" * 40]


@pytest.mark.parametrize("text", ODD_SEARCHES)
def test_search_text_is_never_a_syntax_error(storage: Storage, project: Project, seeded, text: str) -> None:
    storage.list_events(project.id, EventQuery(text=text))
    storage.search_sessions(project.id, SessionSearch(text=text))


def test_words_joined_by_underscores_and_punctuation_are_found(storage: Storage, project: Project) -> None:
    hit = make_event(session_id="s-hit", input="calling tool_call now", output="see my.module-name/v2 and don't stop")
    storage.write([IngestOp(project.id, [hit, make_event(input="unrelated")], None)], NOW)
    for text in ("tool_call", "my.module-name", "module-name/v2", "don't", '"tool_call"', "TOOL_CALL now"):
        assert ids(storage.list_events(project.id, EventQuery(text=text))) == [hit.event_id], text
        assert [s.session_id for s in storage.search_sessions(project.id, SessionSearch(text=text)).items] == [
            hit.session_id], text


def test_event_pages_cover_everything_once_in_time_order(storage: Storage, project: Project) -> None:
    events = [make_event(timestamp_us=BASE_US + (i // 3) * MINUTE_US) for i in range(23)]  # ties on purpose
    storage.write([IngestOp(project.id, events, None)], NOW)
    seen, after = [], None
    while True:
        page = storage.list_events(project.id, EventQuery(limit=5, after=after))
        seen += page.items
        after = page.next_after
        if after is None:
            break
    assert sorted(e.event.event_id for e in seen) == sorted(e.event_id for e in events)
    assert [e.event.timestamp_us for e in seen] == sorted((e.timestamp_us for e in events), reverse=True)


def test_session_filters_and_order(storage: Storage, project: Project, seeded) -> None:
    def listed(**kw):
        return [s.session_id for s in storage.list_sessions(project.id, SessionQuery(**kw)).items]

    auto = [s for s in listed() if s.startswith("auto_")]
    assert listed() == [auto[0], "s2", "s1"]  # newest activity first
    assert listed(user_id="u1") == ["s1"]
    assert listed(model="claude-3") == ["s2"]
    assert listed(tag="prod") == ["s2", "s1"]
    assert listed(has_failures=True) == ["s2"]
    assert listed(since_us=BASE_US + 2 * MINUTE_US) == [auto[0], "s2"]
    assert listed(until_us=BASE_US + MINUTE_US) == ["s1"]


def test_session_pages_cover_everything_once(storage: Storage, project: Project) -> None:
    events = [make_event(session_id=f"s{i:02}", timestamp_us=BASE_US + (i % 4)) for i in range(17)]
    storage.write([IngestOp(project.id, events, None)], NOW)
    seen, after = [], None
    while True:
        page = storage.list_sessions(project.id, SessionQuery(limit=4, after=after))
        seen += [s.session_id for s in page.items]
        if (after := page.next_after) is None:
            break
    assert sorted(seen) == sorted(f"s{i:02}" for i in range(17)) and len(seen) == 17


def test_session_events_are_in_time_order(storage: Storage, project: Project, seeded) -> None:
    assert [e.event.event_id for e in storage.session_events(project.id, "s1", 100)] == [
        seeded[0].event_id, seeded[1].event_id]


def test_other_projects_see_nothing(storage: Storage, project: Project, seeded) -> None:
    other = storage.create_project("other", "free", NOW)
    assert storage.get_event(other.id, seeded[0].event_id) is None
    assert storage.get_session(other.id, "s1") is None
    assert storage.list_events(other.id, EventQuery()).items == []
    assert storage.list_sessions(other.id, SessionQuery()).items == []


def test_text_search_pages_cover_every_match_once_newest_stored_first(storage: Storage, project: Project) -> None:
    events = [make_event(input=f"alpha {i}", timestamp_us=BASE_US + (i % 5) * MINUTE_US) for i in range(23)]
    events += [make_event(input="beta") for _ in range(5)]
    for event in events:  # stored one by one: storage order is known
        storage.write([IngestOp(project.id, [event], None)], NOW)
    seen, after = [], None
    while True:
        page = storage.list_events(project.id, EventQuery(text="alpha", limit=5, after=after))
        seen += [e.event.event_id for e in page.items]
        if (after := page.next_after) is None:
            break
    assert seen == [e.event_id for e in reversed(events[:23])]


def test_tag_filtered_pages_cover_every_tagged_event_once_in_time_order(storage: Storage, project: Project) -> None:
    tagged = [make_event(tags=["keep"], timestamp_us=BASE_US + (i // 2) * MINUTE_US) for i in range(17)]
    others = [make_event(tags=["other"]) for _ in range(5)]
    storage.write([IngestOp(project.id, tagged + others, None)], NOW)
    seen, after = [], None
    while True:
        page = storage.list_events(project.id, EventQuery(tag="keep", limit=4, after=after))
        seen += page.items
        if (after := page.next_after) is None:
            break
    assert sorted(e.event.event_id for e in seen) == sorted(e.event_id for e in tagged) and len(seen) == 17
    assert [e.event.timestamp_us for e in seen] == sorted((e.timestamp_us for e in tagged), reverse=True)


def test_text_search_keeps_the_time_range_and_tag(storage: Storage, project: Project) -> None:
    events = [make_event(input=f"alpha {i}", tags=["keep" if i % 2 else "other"],
                         timestamp_us=BASE_US + (i % 5) * MINUTE_US) for i in range(20)]
    storage.write([IngestOp(project.id, events, None)], NOW)
    since, until = BASE_US + MINUTE_US, BASE_US + 3 * MINUTE_US
    wanted = {e.event_id for e in events if since <= e.timestamp_us < until and "keep" in e.tags}
    seen, after = [], None
    while True:
        page = storage.list_events(project.id, EventQuery(text="alpha", tag="keep", since_us=since, until_us=until,
                                                          limit=3, after=after))
        seen += [e.event.event_id for e in page.items]
        if (after := page.next_after) is None:
            break
    assert sorted(seen) == sorted(wanted) and len(wanted) == 4

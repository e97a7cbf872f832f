"""Group commits in a child process (the server's SQLite default): same results as in-process writes,
per-op failures still isolated, and a dead writer fails only the commit in flight."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from phosphobs.storage.models import Feedback
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, Project
from phosphobs.storage.sqlite.store import SqliteStorage
from phosphobs.storage.sqlite.writer_process import WriterFailed, WriterProcess

from tests.support.factories import BASE_US, make_event

NOW = BASE_US + 10**9


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStorage]:
    storage = SqliteStorage(tmp_path / "writer.db", writer_process=True)
    storage.migrate()
    yield storage
    storage.close()


@pytest.fixture
def project(store: SqliteStorage) -> Project:
    return store.create_project("p", "free", NOW)


def test_commits_in_the_child_are_read_back_by_the_parent(store: SqliteStorage, project: Project) -> None:
    first, second = make_event(session_id="s1", tokens_in=3), make_event(session_id="s1", tokens_in=4)
    store.write([FeedbackOp(project.id, Feedback(second.event_id, "failure"))], NOW)  # before its event
    results = store.write([IngestOp(project.id, [first, second, first], rate_limit_per_min=None)], NOW)
    assert results[0].statuses == ["created", "created", "duplicate"]
    assert store.get_event(project.id, second.event_id).flag == "failure"
    session = store.get_session(project.id, "s1")
    assert (session.event_count, session.tokens_in, session.flagged_count) == (2, 7, 1)


def test_rate_limit_results_cross_the_process_boundary(store: SqliteStorage, project: Project) -> None:
    assert store.write([IngestOp(project.id, [make_event()], rate_limit_per_min=1)], NOW)[0].ok
    refused = store.write([IngestOp(project.id, [make_event()], rate_limit_per_min=1)], NOW)[0]
    assert refused.rate_limited and refused.rate_limit is not None and refused.rate_limit.remaining == 0


def test_a_failing_op_fails_alone(store: SqliteStorage, project: Project) -> None:
    good = IngestOp(project.id, [make_event()], None)
    bad = IngestOp(project.id, [make_event(input=None)], None)  # violates NOT NULL in the child
    results = store.write([good, bad], NOW)
    assert results[0].ok and not results[1].ok and "storage error" in (results[1].error or "")
    assert len(store.list_events(project.id, EventQuery(limit=10)).items) == 1


def test_a_killed_writer_fails_one_commit_and_the_next_starts_a_new_one(store: SqliteStorage,
                                                                        project: Project) -> None:
    kept = make_event()
    store.write([IngestOp(project.id, [kept], None)], NOW)
    channel = store._writer._channel  # type: ignore[union-attr]
    assert channel is not None
    child = channel.process
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(5)
    with pytest.raises(WriterFailed):
        store.write([IngestOp(project.id, [make_event()], None)], NOW)
    later = make_event()
    assert store.write([IngestOp(project.id, [later], None)], NOW)[0].ok
    stored = {e.event.event_id for e in store.list_events(project.id, EventQuery(limit=10)).items}
    assert stored == {kept.event_id, later.event_id}


def test_concurrent_writers_each_get_their_own_reply(store: SqliteStorage, project: Project) -> None:
    """Commits in flight at once are answered in order: each caller gets the result of its own ops."""
    assert store.commits_in_flight == 2
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for round_ in range(15):
                events = [make_event(session_id=f"s{n}") for _ in range(n + 1)]
                again = events[0]  # a duplicate inside the op: its own status list tells the replies apart
                result = store.write([IngestOp(project.id, [*events, again], None)], NOW)[0]
                assert result.statuses == ["created"] * (n + 1) + ["duplicate"], (n, round_)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for n in range(6):
        assert store.get_session(project.id, f"s{n}").event_count == 15 * (n + 1)


def test_admin_writes_in_the_parent_interleave_with_child_commits(store: SqliteStorage, project: Project) -> None:
    for n in range(5):
        store.write([IngestOp(project.id, [make_event()], None)], NOW)
        store.create_project(f"other-{n}", "free", NOW)
    assert len(store.list_projects()) == 6
    assert len(store.list_events(project.id, EventQuery(limit=10)).items) == 5


def test_the_wal_is_copied_into_the_database_beside_the_writer(store: SqliteStorage, project: Project) -> None:
    """The writer's own autocheckpoint is only a safety net far away; the checkpointer thread does it."""
    initial = store.path.stat().st_size
    for _ in range(20):
        store.write([IngestOp(project.id, [make_event(input="x" * 2000) for _ in range(20)], None)], NOW)
    deadline = time.monotonic() + 10
    while store.path.stat().st_size < initial + 400 * 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.path.stat().st_size >= initial + 400 * 2000  # 400 events of 2 KB reached the main file


def _open_files(pid: int) -> set[str]:
    fds = Path(f"/proc/{pid}/fd")
    return {os.path.realpath(fds / fd) for fd in os.listdir(fds)}


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads the child's open files from /proc")
def test_the_child_has_the_database_open_before_the_store_is_returned(tmp_path: Path) -> None:
    """A server that is up commits its first request at once: the child's start-up (an interpreter, its
    imports, the connection) is awaited when the store opens, not paid by the first commit, whose
    slowness would also have made the pipeline measure a tiny commit rate and shed the first burst."""
    path = tmp_path / "ready.db"
    storage = SqliteStorage(path, writer_process=True)
    try:
        channel = storage._writer._channel  # type: ignore[union-attr]
        assert channel is not None
        assert str(path.resolve()) in _open_files(channel.process.pid)
    finally:
        storage.close()


def test_a_child_that_cannot_start_fails_the_open_not_a_later_commit(tmp_path: Path) -> None:
    with pytest.raises(WriterFailed, match="did not start"):
        WriterProcess(tmp_path / "missing-directory" / "x.db", "FULL")

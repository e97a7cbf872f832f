"""Scale-out with real processes: 4 workers (two `serve --workers 2` on different ports, one database),
8 client processes sending overlapping, shuffled batches with duplicate event ids and racing feedback.
Afterwards the database must equal a single-process run of the same events exactly. Run on Postgres
and on one shared SQLite file (whose writers hand the write lock over between processes)."""

from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from phosphobs.api.bootstrap import create_key, now_us
from phosphobs.storage.models import Event, Feedback
from phosphobs.storage.open import open_storage
from phosphobs.storage.protocol import EventQuery, FeedbackOp, IngestOp, SessionQuery, Storage
from phosphobs.storage.sqlite.store import SqliteStorage

from tests.support import postgres
from tests.support.factories import BASE_US, MINUTE_US
from tests.support.server import ServerProcess

CLIENTS = 8


@dataclass
class Cluster:
    url: str
    base_urls: list[str]


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with postgres.fresh_database(request.param, "phosphobs_workers", tmp_path_factory.mktemp("shared")) as url:
        servers = []
        try:
            for name in ("a", "b"):  # started one after the other: the first bootstraps the database
                servers.append(ServerProcess(tmp_path_factory.mktemp(name),
                                             args=["--database-url", url, "--workers", "2"],
                                             env={"PHOSPHOBS_LOG_LEVEL": "warning"}).start(timeout=60))
            yield Cluster(url, [s.base_url for s in servers])
        finally:
            for server in servers:
                server.stop()


def _project(url: str, rate_limit: int) -> tuple[str, str]:
    store = open_storage(url)
    try:
        project = store.create_project(f"w-{uuid.uuid4().hex[:8]}", "free", now_us())
        store.set_project_plan(project.id, "free", rate_limit)
        key, _ = create_key(store, project, "test")
        return project.id, key
    finally:
        store.close()


def _iso(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _workload(seed: int) -> tuple[list[dict], dict[str, str]]:
    """Native events: user-window events (gaps around 30 min) and explicit sessions; plus one feedback
    for some events. Timestamps are whole seconds so both runs parse them identically."""
    rng = random.Random(seed)
    events = []
    for user in ("alice", "bob", "carol", "dave"):
        t = BASE_US
        for _ in range(45):
            t += rng.choice([1, 5, 20, 29, 31, 45, 120]) * MINUTE_US + rng.randrange(60) * 1_000_000
            events.append({"event_id": str(uuid.uuid4()), "input": f"q {len(events)}", "output": "a",
                           "timestamp": _iso(t), "metadata": {"user_id": user, "token_count_input": rng.randrange(50)}})
    for n in range(120):
        events.append({"event_id": str(uuid.uuid4()), "input": f"q {len(events)}", "output": "a",
                       "session_id": f"chat-{n % 6}", "timestamp": _iso(BASE_US + rng.randrange(10**4) * 1_000_000),
                       "metadata": {"user_id": f"u{n % 3}", "token_count_output": n}})
    flags = {e["event_id"]: rng.choice(["success", "failure"]) for e in rng.sample(events, 60)}
    return events, flags


def _plans(events: list[dict], flags: dict[str, str], base_urls: list[str], seed: int) -> list[list[tuple]]:
    """Per client: a shuffled list of (base_url, kind, payload). Every event goes to two clients."""
    rng = random.Random(seed)
    per_client: list[list[dict]] = [[] for _ in range(CLIENTS)]
    for event in events:
        for client in rng.sample(range(CLIENTS), 2):
            per_client[client].append(event)
    plans = []
    for mine in per_client:
        rng.shuffle(mine)
        steps: list[tuple] = []
        i = 0
        while i < len(mine):
            size = rng.randint(1, 20)
            batch = mine[i : i + size]
            if rng.random() < 0.2:
                batch = [*batch, batch[0]]  # a duplicate inside one request
            steps.append((rng.choice(base_urls), "batch", batch))
            i += size
        plans.append(steps)
    for event_id, flag in flags.items():  # each feedback from one client, anywhere: often before its event
        steps = plans[rng.randrange(CLIENTS)]
        steps.insert(rng.randrange(len(steps) + 1),
                     (rng.choice(base_urls), "feedback", {"event_id": event_id, "flag": flag}))
    return plans


def run_client(key: str, steps: list[tuple]) -> dict:
    """One client process: sends its steps in order, retrying 429/503; returns statuses per event id."""
    created: dict[str, int] = {}
    answered = {"accepted": 0, "limited": 0}
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        for base_url, kind, payload in steps:
            path, body = ("/api/ingest/batch", {"events": payload}) if kind == "batch" else ("/api/feedback", payload)
            for _ in range(200):
                response = client.post(base_url + path, json=body)
                if response.status_code == 503:
                    time.sleep(0.05)
                    continue
                break
            if response.status_code == 429:
                answered["limited"] += 1
                continue
            assert response.status_code in (200, 201), response.text
            answered["accepted"] += 1
            if kind == "batch":
                for item in response.json()["results"]:
                    created[item["event_id"]] = created.get(item["event_id"], 0) + (item["status"] == "created")
    return {"created": created, **answered}


def _run_clients(key: str, plans: list[list[tuple]]) -> list[dict]:
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        return pool.starmap(run_client, [(key, steps) for steps in plans])


def _state(storage: Storage, project_id: str) -> tuple:
    events, after = [], None
    while True:
        page = storage.list_events(project_id, EventQuery(limit=200, after=after))
        events += page.items
        if page.next_after is None:
            break
        after = page.next_after
    per_event = sorted((e.event.event_id, e.session_id, e.flag, e.user_id) for e in events)
    found = storage.list_sessions(project_id, SessionQuery(limit=200)).items
    sessions = sorted((s.session_id, s.kind, s.user_id, s.start_us, s.end_us, s.event_count, s.tokens_in,
                       s.tokens_out, s.flagged_count, s.success_count, s.failure_count) for s in found)
    return per_event, sessions


def _reference(tmp_path: Path, project_id: str, events: list[dict], flags: dict[str, str]) -> tuple:
    """The same events, once each, in order, through one process (the embedded SQLite backend)."""
    store = SqliteStorage(tmp_path / "reference.db")
    store.migrate()
    store._admin(lambda c: c.execute("INSERT INTO projects VALUES (?, 'ref', 'free', NULL, 0)", (project_id,)))
    stored = [Event(event_id=e["event_id"], input=e["input"], output=e["output"],
                    timestamp_us=int(datetime.fromisoformat(e["timestamp"] + "+00:00").timestamp()) * 1_000_000,
                    session_id=e.get("session_id"), user_id=e["metadata"]["user_id"],
                    tokens_in=e["metadata"].get("token_count_input"),
                    tokens_out=e["metadata"].get("token_count_output"))
              for e in events]
    store.write([IngestOp(project_id, stored, None)], now_us())
    store.write([FeedbackOp(project_id, Feedback(event_id, flag)) for event_id, flag in flags.items()], now_us())
    try:
        return _state(store, project_id)
    finally:
        store.close()


def test_concurrent_workers_store_everything_exactly_once_with_single_process_sessions(
        cluster: Cluster, tmp_path: Path) -> None:
    project_id, key = _project(cluster.url, rate_limit=0)
    events, flags = _workload(seed=11)
    outcomes = _run_clients(key, _plans(events, flags, cluster.base_urls, seed=12))

    created: dict[str, int] = {}
    for outcome in outcomes:
        for event_id, n in outcome["created"].items():
            created[event_id] = created.get(event_id, 0) + n
    assert created == {e["event_id"]: 1 for e in events}  # every event answered "created" exactly once
    store = open_storage(cluster.url)
    try:
        got = _state(store, project_id)
    finally:
        store.close()
    expected = _reference(tmp_path, project_id, events, flags)
    assert len(got[0]) == len(events)
    assert got[0] == expected[0]  # same events, sessions, flags and users, none lost, none twice
    assert got[1] == expected[1]  # same session aggregates as one process writing in order


def test_rate_limit_holds_across_workers(cluster: Cluster) -> None:
    limit, batch = 100, 10
    project_id, key = _project(cluster.url, rate_limit=limit)
    plans = [[(cluster.base_urls[(c + i) % 2], "batch",
               [{"input": "x", "output": "y", "event_id": str(uuid.uuid4())} for _ in range(batch)])
              for i in range(10)] for c in range(CLIENTS)]
    outcomes = _run_clients(key, plans)
    store = open_storage(cluster.url)
    try:
        stored = store.list_events(project_id, EventQuery(limit=200)).items
        stored += store.list_events(project_id, EventQuery(limit=200, after=(stored[-1].event.timestamp_us,
                                                                             stored[-1].seq))).items
    finally:
        store.close()
    received = [e.received_us for e in stored]
    windows = max(received) // 60_000_000 - min(received) // 60_000_000 + 1
    assert sum(o["limited"] for o in outcomes) > 0
    assert sum(o["accepted"] for o in outcomes) * batch == len(stored)
    assert limit <= len(stored) <= windows * limit + batch

"""`SqliteStorage`: the embedded default backend (one file, WAL, one writer, pooled readers)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from phosphobs.storage.dashboard_records import (
    AdminCredentials,
    LatencyBucket,
    ModelUsage,
    SessionBucket,
    SessionSearch,
    UsageBucket,
    UserQuery,
    UserSummary,
    WebSession,
)
from phosphobs.storage.detection_sql import Sql
from phosphobs.storage.detection_store import DetectionMethods
from phosphobs.storage.protocol import (
    ApiKey,
    EventQuery,
    FeedbackRecord,
    KeyMatch,
    Page,
    Project,
    SessionQuery,
    SessionRecord,
    StoredEvent,
    WriteOp,
    WriteResult,
)
from phosphobs.storage.sqlite import admin, analytics, detection, reads, retention, web_admin
from phosphobs.storage.sqlite.connection import connect, connect_writer, migrate
from phosphobs.storage.sqlite.writer_lock import WriterLock
from phosphobs.storage.sqlite.writer_process import WriterProcess
from phosphobs.storage.sqlite.writes import write_ops

T = TypeVar("T")


class SqliteStorage(DetectionMethods):
    """Writes go through one connection under a lock (the pipeline's writer thread is its only
    caller in the server) that also serialises writers of other processes on the same file; each
    reading thread gets its own connection."""

    def __init__(self, path: Path, synchronous: str = "FULL", *, writer_process: bool = False,
                 detect: bool = True) -> None:
        """`writer_process`: run group commits (`write`) in a child process; see `writer_process.py`.
        `detect`: queue new events for detection in their ingest transaction."""
        self.path = path
        self._synchronous = synchronous
        self._detect = detect
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_conn = connect_writer(path, synchronous)
        self._write_lock = WriterLock(path)
        self._drainer = detection.DrainerLock(path)
        self._writer = WriterProcess(path, synchronous, detect) if writer_process else None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self._synchronous)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _admin(self, fn, *args):
        """Small admin writes share the writer connection so they serialise with group commits."""
        with self._write_lock:
            self._write_conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self._write_conn, *args)
                self._write_conn.execute("COMMIT")
            except BaseException:
                self._write_conn.execute("ROLLBACK")
                raise
            return result

    def migrate(self) -> list[str]:
        with self._write_lock:
            return migrate(self._write_conn)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        with self._write_lock:
            self._write_conn.close()
        self._write_lock.close()
        self._drainer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    @property
    def commits_in_flight(self) -> int:
        """The writer process queues a second commit in its pipe while it runs the first."""
        return 2 if self._writer is not None else 1

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        if self._writer is not None:
            return self._writer.write(ops, now_us)
        with self._write_lock:
            return write_ops(self._write_conn, ops, now_us, self._detect)

    # detection (the queries are in detection_sql, shared with Postgres)
    def _det_read(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(Sql(self._reader(), "?"), *args)

    def _det_write(self, fn: Callable[..., T], *args: Any) -> T:
        return self._admin(lambda conn: fn(Sql(conn, "?"), *args))

    @contextmanager
    def claim_detections(self, limit: int, ready_us: int) -> Iterator[detection.SqliteClaim]:
        with detection.claim(self._drainer, self._reader(), self._admin, limit, ready_us) as claimed:
            yield claimed

    def create_project(self, name: str, plan: str, now_us: int) -> Project:
        return self._admin(admin.create_project, name, plan, now_us)

    def get_project(self, name_or_id: str) -> Project | None:
        return admin.get_project(self._reader(), name_or_id)

    def list_projects(self) -> list[Project]:
        return admin.list_projects(self._reader())

    def set_project_plan(self, project_id: str, plan: str, rate_limit_per_min: int | None) -> None:
        self._admin(admin.set_project_plan, project_id, plan, rate_limit_per_min)

    def create_key(self, project_id: str, name: str, prefix: str, key_hash: str, now_us: int) -> ApiKey:
        return self._admin(admin.create_key, project_id, name, prefix, key_hash, now_us)

    def find_key(self, key_hash: str) -> KeyMatch | None:
        return admin.find_key(self._reader(), key_hash)

    def list_keys(self, project_id: str | None = None) -> list[ApiKey]:
        return admin.list_keys(self._reader(), project_id)

    def revoke_key(self, key_id_or_prefix: str, now_us: int) -> ApiKey | None:
        return self._admin(admin.revoke_key, key_id_or_prefix, now_us)

    def get_event(self, project_id: str, event_id: str) -> StoredEvent | None:
        return reads.get_event(self._reader(), project_id, event_id)

    def list_events(self, project_id: str, query: EventQuery) -> Page[StoredEvent]:
        return reads.list_events(self._reader(), project_id, query)

    def list_feedback(self, project_id: str, event_id: str) -> list[FeedbackRecord]:
        return reads.list_feedback(self._reader(), project_id, event_id)

    def get_session(self, project_id: str, session_id: str) -> SessionRecord | None:
        return reads.get_session(self._reader(), project_id, session_id)

    def list_sessions(self, project_id: str, query: SessionQuery) -> Page[SessionRecord]:
        return reads.list_sessions(self._reader(), project_id, query)

    def session_events(self, project_id: str, session_id: str, limit: int) -> list[StoredEvent]:
        return reads.session_events(self._reader(), project_id, session_id, limit)

    def prune(self, older_than_us: int) -> int:
        total = 0
        for project in self.list_projects():  # short batches: the writer is never held for long
            while deleted := self._admin(retention.prune_batch, project.id, older_than_us):
                total += deleted
        return total

    # dashboard
    def usage_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[UsageBucket]:
        return analytics.usage_series(self._reader(), project_id, since_us, until_us, bucket_us)

    def session_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[SessionBucket]:
        return analytics.session_series(self._reader(), project_id, since_us, until_us, bucket_us)

    def latency_percentiles(self, project_id: str, since_us: int, until_us: int,
                            bucket_us: int) -> list[LatencyBucket]:
        return analytics.latency_percentiles(self._reader(), project_id, since_us, until_us, bucket_us)

    def top_models(self, project_id: str, since_us: int, until_us: int, limit: int) -> list[ModelUsage]:
        return analytics.top_models(self._reader(), project_id, since_us, until_us, limit)

    def list_users(self, project_id: str, query: UserQuery) -> Page[UserSummary]:
        return analytics.list_users(self._reader(), project_id, query)

    def search_sessions(self, project_id: str, query: SessionSearch) -> Page[SessionRecord]:
        return analytics.search_sessions(self._reader(), project_id, query)

    def get_admin(self, username: str) -> AdminCredentials | None:
        return web_admin.get_admin(self._reader(), username)

    def count_admins(self) -> int:
        return web_admin.count_admins(self._reader())

    def set_admin_password(self, username: str, password_hash: str, now_us: int) -> None:
        self._admin(web_admin.set_admin_password, username, password_hash, now_us)

    def create_web_session(self, session: WebSession) -> None:
        self._admin(web_admin.create_web_session, session)

    def get_web_session(self, token_hash: str, now_us: int) -> WebSession | None:
        return web_admin.get_web_session(self._reader(), token_hash, now_us)

    def delete_web_session(self, token_hash: str, now_us: int) -> None:
        self._admin(web_admin.delete_web_session, token_hash, now_us)

"""`PostgresStorage`: the scale-out backend. Every worker process opens its own pool; anything shared
(dedupe, rate-limit counters, sessions) lives in the database, so workers need not know each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from phosphobs.storage.postgres import admin, analytics, detection, reads, retention, web_admin
from phosphobs.storage.postgres.connection import in_transaction, make_pool, migrate
from phosphobs.storage.postgres.writes import write_ops
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

T = TypeVar("T")


class PostgresStorage(DetectionMethods):
    def __init__(self, url: str, pool_size: int = 10, *, detect: bool = True) -> None:
        """`detect`: queue new events for detection in their ingest transaction."""
        self.url = url
        self._detect = detect
        self._pool = make_pool(url, pool_size)

    def _read(self, fn: Callable[..., T], *args: object) -> T:
        with self._pool.connection() as conn:
            return fn(conn, *args)

    def _admin(self, fn: Callable[..., T], *args: object) -> T:
        return in_transaction(self._pool, lambda conn: fn(conn, *args))

    def migrate(self) -> list[str]:
        return migrate(self._pool)

    def close(self) -> None:
        self._pool.close()

    @property
    def commits_in_flight(self) -> int:
        """One per worker: Postgres scales out by workers, each with its own pipeline (more commits in
        flight per worker were not tried)."""
        return 1

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        return write_ops(self._pool, ops, now_us, self._detect)

    # detection (the queries are in detection_sql, shared with SQLite)
    def _det_read(self, fn: Callable[..., T], *args: Any) -> T:
        return self._read(lambda conn: fn(Sql(conn, "%s"), *args))

    def _det_write(self, fn: Callable[..., T], *args: Any) -> T:
        return self._admin(lambda conn: fn(Sql(conn, "%s"), *args))

    @contextmanager
    def claim_detections(self, limit: int, ready_us: int) -> Iterator[detection.PostgresClaim]:
        with detection.claim(self._pool, limit, ready_us) as claimed:
            yield claimed

    def prune(self, older_than_us: int) -> int:
        """Delete events with ts_us < older_than_us (in short batches); returns how many went."""
        total = 0
        for project in self.list_projects():
            while deleted := self._admin(retention.prune_batch, project.id, older_than_us):
                total += deleted
        return total

    def create_project(self, name: str, plan: str, now_us: int) -> Project:
        return self._admin(admin.create_project, name, plan, now_us)

    def get_project(self, name_or_id: str) -> Project | None:
        return self._read(admin.get_project, name_or_id)

    def list_projects(self) -> list[Project]:
        return self._read(admin.list_projects)

    def set_project_plan(self, project_id: str, plan: str, rate_limit_per_min: int | None) -> None:
        self._admin(admin.set_project_plan, project_id, plan, rate_limit_per_min)

    def create_key(self, project_id: str, name: str, prefix: str, key_hash: str, now_us: int) -> ApiKey:
        return self._admin(admin.create_key, project_id, name, prefix, key_hash, now_us)

    def find_key(self, key_hash: str) -> KeyMatch | None:
        return self._read(admin.find_key, key_hash)

    def list_keys(self, project_id: str | None = None) -> list[ApiKey]:
        return self._read(admin.list_keys, project_id)

    def revoke_key(self, key_id_or_prefix: str, now_us: int) -> ApiKey | None:
        return self._admin(admin.revoke_key, key_id_or_prefix, now_us)

    def get_event(self, project_id: str, event_id: str) -> StoredEvent | None:
        return self._read(reads.get_event, project_id, event_id)

    def list_events(self, project_id: str, query: EventQuery) -> Page[StoredEvent]:
        return self._read(reads.list_events, project_id, query)

    def list_feedback(self, project_id: str, event_id: str) -> list[FeedbackRecord]:
        return self._read(reads.list_feedback, project_id, event_id)

    def get_session(self, project_id: str, session_id: str) -> SessionRecord | None:
        return self._read(reads.get_session, project_id, session_id)

    def list_sessions(self, project_id: str, query: SessionQuery) -> Page[SessionRecord]:
        return self._read(reads.list_sessions, project_id, query)

    def session_events(self, project_id: str, session_id: str, limit: int) -> list[StoredEvent]:
        return self._read(reads.session_events, project_id, session_id, limit)

    # dashboard
    def usage_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[UsageBucket]:
        return self._read(analytics.usage_series, project_id, since_us, until_us, bucket_us)

    def session_series(self, project_id: str, since_us: int, until_us: int, bucket_us: int) -> list[SessionBucket]:
        return self._read(analytics.session_series, project_id, since_us, until_us, bucket_us)

    def latency_percentiles(self, project_id: str, since_us: int, until_us: int,
                            bucket_us: int) -> list[LatencyBucket]:
        return self._read(analytics.latency_percentiles, project_id, since_us, until_us, bucket_us)

    def top_models(self, project_id: str, since_us: int, until_us: int, limit: int) -> list[ModelUsage]:
        return self._read(analytics.top_models, project_id, since_us, until_us, limit)

    def list_users(self, project_id: str, query: UserQuery) -> Page[UserSummary]:
        return self._read(analytics.list_users, project_id, query)

    def search_sessions(self, project_id: str, query: SessionSearch) -> Page[SessionRecord]:
        return self._read(analytics.search_sessions, project_id, query)

    def get_admin(self, username: str) -> AdminCredentials | None:
        return self._read(web_admin.get_admin, username)

    def count_admins(self) -> int:
        return self._read(web_admin.count_admins)

    def set_admin_password(self, username: str, password_hash: str, now_us: int) -> None:
        self._admin(web_admin.set_admin_password, username, password_hash, now_us)

    def create_web_session(self, session: WebSession) -> None:
        self._admin(web_admin.create_web_session, session)

    def get_web_session(self, token_hash: str, now_us: int) -> WebSession | None:
        return self._read(web_admin.get_web_session, token_hash, now_us)

    def delete_web_session(self, token_hash: str, now_us: int) -> None:
        self._admin(web_admin.delete_web_session, token_hash, now_us)

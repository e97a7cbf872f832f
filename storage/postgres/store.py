"""`PostgresStorage`: the scale-out backend. Every worker process opens its own pool; anything shared
(dedupe, rate-limit counters, sessions) lives in the database, so workers need not know each other."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from phosphobs.storage.postgres import detection
from phosphobs.storage.postgres.connection import in_snapshot, in_transaction, make_pool
from phosphobs.storage.postgres.schema import MIGRATIONS
from phosphobs.storage.postgres.writes import write_ops
from phosphobs.storage.protocol import WriteOp, WriteResult
from phosphobs.storage.registry import BackendRegistry, OpenedStorage
from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.sql.migrations import apply_migrations
from phosphobs.storage.sql.store import SqlStorage

T = TypeVar("T")


class PostgresRunner:
    def __init__(self, url: str, pool_size: int = 10, detect: bool = True) -> None:
        self._pool = make_pool(url, pool_size)
        self._detect = detect

    def read(self, fn: Callable[[Conn], T]) -> T:
        return in_snapshot(self._pool, fn)  # type: ignore[arg-type]

    def transaction(self, fn: Callable[[Conn], T]) -> T:
        return in_transaction(self._pool, fn)

    def write(self, ops: list[WriteOp], now_us: int) -> list[WriteResult]:
        return write_ops(self._pool, ops, now_us, self._detect)

    def migrate(self) -> list[str]:
        return apply_migrations(self.transaction, MIGRATIONS)

    def close(self) -> None:
        self._pool.close()


class PostgresStorage(SqlStorage):
    def __init__(self, url: str, pool_size: int = 10, *, detect: bool = True) -> None:
        """`detect`: queue new events for detection in their ingest transaction."""
        self.url = url
        self._pg: PostgresRunner = PostgresRunner(url, pool_size, detect)
        super().__init__(self._pg)

    @contextmanager
    def claim_detections(self, limit: int, ready_us: int) -> Iterator[detection.PostgresClaim]:
        """Row locks held while the batch is worked on (see `postgres/detection.py`)."""
        with detection.claim(self._pg._pool, limit, ready_us) as claimed:
            yield claimed


def register(registry: BackendRegistry) -> None:
    """One commit in flight per worker: Postgres scales out by workers, each with its own pipeline."""
    registry.register(("postgresql", "postgres"),
                      lambda url, options: OpenedStorage(PostgresStorage(url, detect=options.detect)))

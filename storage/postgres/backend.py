"""Registers the Postgres backend for `postgresql://…` and `postgres://…`."""

from __future__ import annotations

from phosphobs.storage.registry import BackendRegistry, OpenedStorage, StorageOptions


def open_postgres(url: str, options: StorageOptions) -> OpenedStorage:
    """One commit in flight per worker: Postgres scales out by workers, each with its own pipeline."""
    from phosphobs.storage.postgres.store import PostgresStorage

    return OpenedStorage(PostgresStorage(url))


def register(registry: BackendRegistry) -> None:
    registry.register(("postgresql", "postgres"), open_postgres)

"""Opening storage from a database URL (`sqlite:///path`, `postgresql://…`) through the backend registry."""

from __future__ import annotations

from pathlib import Path

from phosphobs.storage.protocol import Storage
from phosphobs.storage.registry import OpenedStorage, StorageOptions, UnsupportedDatabaseUrl, builtin_backends

__all__ = ["UnsupportedDatabaseUrl", "open_backend", "open_storage", "sqlite_url"]


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'phosphobs.db').resolve()}"


def open_backend(url: str, options: StorageOptions | None = None) -> OpenedStorage:
    """The storage and what its construction implies for callers (how many commits may be in flight)."""
    return builtin_backends().open(url, options)


def open_storage(url: str, *, sqlite_synchronous: str = "FULL", sqlite_writer_process: bool = False,
                 detect: bool = True) -> Storage:
    return open_backend(url, StorageOptions(sqlite_synchronous, sqlite_writer_process, detect)).storage

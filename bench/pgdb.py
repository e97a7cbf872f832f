"""A throwaway Postgres database for one benchmark run, on the server a `postgresql://` URL names."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg


@contextlib.contextmanager
def throwaway_database(server_url: str, prefix: str = "phosphobs_bench") -> Iterator[str]:
    """Creates `<prefix>_<random>` next to the database in `server_url`, yields its URL, drops it."""
    base, _, _ = server_url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""A throwaway Postgres database for one benchmark run, on the server a `postgresql://` URL names."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

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


def run_on_database(database_url: str | None, prefix: str, run: Callable[[str, Path], None]) -> None:
    """`run(url, tmp)` on a throwaway database beside `database_url` (Postgres), else a temporary SQLite file."""
    from phosphobs.storage.open import sqlite_url

    with tempfile.TemporaryDirectory() as tmp:
        if database_url:
            with throwaway_database(database_url, prefix) as url:
                run(url, Path(tmp))
        else:
            run(sqlite_url(Path(tmp)), Path(tmp))


def throwaway_if_postgres(args: argparse.Namespace, run: Callable[[argparse.Namespace], None]) -> None:
    """`run(args)`, on a throwaway database beside it when `args.database_url` names a Postgres server."""
    if args.database_url and args.database_url.startswith("postgres"):
        with throwaway_database(args.database_url) as url:
            args.database_url = url
            run(args)
    else:
        run(args)

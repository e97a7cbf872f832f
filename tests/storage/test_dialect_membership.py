"""`Dialect.rows_in` / `rows_in_pairs`: membership over many keys, chunked (SQLite) or one array (Postgres)."""

from __future__ import annotations

from typing import Any, cast

from phosphobs.storage.protocol import Storage
from phosphobs.storage.sql.dialect import Conn

KEYS = 1_234  # more than one SQLite chunk


def _with_table(storage: Storage, check: Any) -> Any:
    def run(conn: Conn) -> Any:
        conn.execute("CREATE TEMP TABLE membership (a TEXT NOT NULL, b TEXT NOT NULL)")
        try:
            # every (a, b) pair of 40 firsts x 40 seconds: a pair's firsts and seconds also meet in other pairs
            conn.executemany("INSERT INTO membership (a, b) VALUES (?, ?)",
                             [(f"a{i}", f"b{j}") for i in range(40) for j in range(40)])
            conn.executemany("INSERT INTO membership (a, b) VALUES (?, ?)",
                             [(f"k{i}", "single") for i in range(KEYS + 10)])
            return check(conn)
        finally:
            conn.execute("DROP TABLE membership")

    return cast(Any, storage)._runner.transaction(run)


def test_rows_in_returns_exactly_the_rows_of_every_key_beyond_one_chunk(storage: Storage) -> None:
    keys = [f"k{i}" for i in range(KEYS)]
    rows = _with_table(storage, lambda conn: conn.dialect.rows_in(
        conn, "SELECT a FROM membership WHERE b = ? AND a {in}", ("single",), keys))
    assert sorted(r["a"] for r in rows) == sorted(keys)
    assert _with_table(storage, lambda conn: conn.dialect.rows_in(
        conn, "SELECT a FROM membership WHERE a {in}", (), [])) == []


def test_rows_in_pairs_returns_every_wanted_pair_and_callers_keep_theirs(storage: Storage) -> None:
    wanted = {(f"a{i}", f"b{(i * 7) % 40}") for i in range(40)} | {(f"a{i}", f"b{(i + 1) % 40}") for i in range(40)}
    wanted |= {(f"k{i}", "single") for i in range(KEYS)}
    rows = _with_table(storage, lambda conn: conn.dialect.rows_in_pairs(
        conn, "SELECT a, b FROM membership WHERE a {first} AND b {second}", (), list(wanted)))
    found = {(r["a"], r["b"]) for r in rows}
    assert wanted <= found  # a superset: firsts and seconds of different pairs may meet
    assert not {(f"k{i}", "single") for i in range(KEYS, KEYS + 10)} & found

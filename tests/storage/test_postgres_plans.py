"""Postgres plans every statement that reads a table for its own parameters: a generic plan cached while a
table was small (a fresh database, before autoanalyze) kept scanning it as it grew, on every write. Inserts of
values or arrays choose no access path: they stay prepared, so the hot write path is not re-planned each time."""

from __future__ import annotations

import uuid
from pathlib import Path

from phosphobs.storage.postgres.connection import make_pool

from tests.support import postgres

RUNS = 12  # psycopg prepares a statement after a few runs; Postgres may then go generic


def test_table_reads_are_never_prepared_and_plain_inserts_are(tmp_path: Path) -> None:
    with postgres.fresh_database("postgres", "phosphobs_plans", tmp_path) as url:
        pool = make_pool(url, max_size=1)
        try:
            with pool.connection() as conn:
                conn.execute("CREATE TABLE items (project_id TEXT, item_id TEXT, UNIQUE (project_id, item_id))")
                for _ in range(RUNS):
                    ids = [str(uuid.uuid4()) for _ in range(3)]
                    conn.execute("INSERT INTO items (project_id, item_id) SELECT 'p', * FROM unnest(?::text[])"
                                 " ON CONFLICT DO NOTHING", (ids,))
                    conn.execute("SELECT item_id FROM items WHERE project_id = ? AND item_id = ANY(?)",
                                 ("p", ids)).fetchall()
                    conn.executemany("UPDATE items SET item_id = item_id WHERE project_id = ? AND item_id = ?",
                                     [("p", i) for i in ids])
                    conn.execute("SELECT count(*) AS n FROM items").fetchone()
                prepared = [r["statement"] for r in conn.execute(
                    "SELECT statement FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared%'").fetchall()]
        finally:
            pool.close()
    assert [s.split()[0] for s in prepared] == ["INSERT"]

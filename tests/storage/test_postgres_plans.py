"""Postgres plans every statement for its own parameters: a generic plan cached while a table was small
(a fresh database, before autoanalyze) kept scanning it as it grew, on every write."""

from __future__ import annotations

import uuid
from pathlib import Path

from phosphobs.storage.postgres.connection import make_pool

from tests.support import postgres


def test_prepared_statements_never_run_a_cached_generic_plan(tmp_path: Path) -> None:
    with postgres.fresh_database("postgres", "phosphobs_plans", tmp_path) as url:
        pool = make_pool(url, max_size=1)
        try:
            with pool.connection() as conn:
                conn.execute("CREATE TABLE items (project_id TEXT, item_id TEXT, UNIQUE (project_id, item_id))")
                for _ in range(12):  # psycopg prepares it after a few runs; Postgres may then go generic
                    conn.execute("SELECT item_id FROM items WHERE project_id = ? AND item_id = ANY(?)",
                                 ("p", [str(uuid.uuid4()) for _ in range(3)])).fetchall()
                row = conn.execute("SELECT sum(generic_plans) AS generic, sum(custom_plans) AS custom"
                                   " FROM pg_prepared_statements").fetchone()
        finally:
            pool.close()
    assert row["custom"] > 0 and row["generic"] == 0

"""Hourly usage rollups, kept inside the write transaction so dashboard charts never scan events.

Each transaction upserts its rows in key order, so concurrent writers cannot deadlock on them. Where the
dialect has a rollup `shard` (Postgres: the writing backend), concurrent writers to the same hour and
model update different rows instead of queueing on one row lock; readers sum over shards.
"""

from __future__ import annotations

import functools

from phosphobs.storage.sql.dialect import Conn
from phosphobs.storage.usage_facts import UsageFacts, tally

_USAGE = ("events", "errors", "tokens_in", "tokens_out", "cost_cents", "costed", "latency_ms_sum", "latency_count",
          "success_count", "failure_count")
_FLOATS = (4, 6)


@functools.cache
def _upsert(table: str, key: tuple[str, ...], values: tuple[str, ...], shard: str | None) -> str:
    columns = ("project_id", *key, *(("shard",) if shard else ()), *values)
    marks = ["?"] * (1 + len(key)) + ([shard] if shard else []) + ["?"] * len(values)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
            f" ON CONFLICT ({', '.join(columns[: len(columns) - len(values)])}) DO UPDATE SET "
            + ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values))


def apply(conn: Conn, project_id: str, removed: list[UsageFacts], added: list[UsageFacts]) -> None:
    """Subtract `removed` and add `added` to the rollups, one row per touched (hour, model)."""
    if removed == added:
        return
    usage, latency = tally(removed, added)
    shard = conn.dialect.shard
    if usage:
        conn.executemany(_upsert("usage_hourly", ("hour_us", "model"), _USAGE, shard), [
            (project_id, *key, *(v if i in _FLOATS else int(v) for i, v in enumerate(usage[key])))
            for key in sorted(usage)])
    changed = sorted((k, n) for k, n in latency.items() if n)
    if changed:
        conn.executemany(_upsert("latency_hourly", ("hour_us", "model", "bucket"), ("count",), shard),
                         [(project_id, *k, n) for k, n in changed])

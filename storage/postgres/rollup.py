"""Hourly usage rollups on Postgres, kept in the write transaction (same contract as sqlite/rollup.py).

Rows are sharded by the writing backend (pid modulo ROLLUP_SHARDS) so concurrent workers rarely
share a row lock; each transaction upserts its rows in key order, so they cannot deadlock either.
"""

from __future__ import annotations

import psycopg
from phosphobs.storage.usage_facts import FACT_COLUMNS, UsageFacts, facts_from_row, facts_of, tally, with_flag

ROLLUP_SHARDS = 16

_UPSERT_USAGE = (
    "INSERT INTO usage_hourly AS u (project_id, hour_us, model, shard, events, errors, tokens_in, tokens_out,"
    " cost_cents, costed, latency_ms_sum, latency_count, success_count, failure_count)"
    f" SELECT %s, h, m, pg_backend_pid() %% {ROLLUP_SHARDS}, ev, er, ti, tout, c, cd, ls, lc, ok, bad FROM unnest("
    "%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::float8[], %s::bigint[],"
    " %s::float8[], %s::bigint[], %s::bigint[], %s::bigint[]) AS t(h, m, ev, er, ti, tout, c, cd, ls, lc, ok, bad)"
    " ORDER BY h, m"
    " ON CONFLICT (project_id, hour_us, model, shard) DO UPDATE SET"
    " events = u.events + excluded.events, errors = u.errors + excluded.errors,"
    " tokens_in = u.tokens_in + excluded.tokens_in, tokens_out = u.tokens_out + excluded.tokens_out,"
    " cost_cents = u.cost_cents + excluded.cost_cents, costed = u.costed + excluded.costed,"
    " latency_ms_sum = u.latency_ms_sum + excluded.latency_ms_sum,"
    " latency_count = u.latency_count + excluded.latency_count,"
    " success_count = u.success_count + excluded.success_count,"
    " failure_count = u.failure_count + excluded.failure_count"
)
_UPSERT_LATENCY = (
    "INSERT INTO latency_hourly AS l (project_id, hour_us, model, bucket, shard, count)"
    f" SELECT %s, h, m, b, pg_backend_pid() %% {ROLLUP_SHARDS}, n FROM unnest(%s::bigint[], %s::text[], %s::int[],"
    " %s::bigint[]) AS t(h, m, b, n) ORDER BY h, m, b"
    " ON CONFLICT (project_id, hour_us, model, bucket, shard) DO UPDATE SET count = l.count + excluded.count"
)


def apply(conn: psycopg.Connection, project_id: str, removed: list[UsageFacts], added: list[UsageFacts]) -> None:
    """Subtract `removed` and add `added` to the rollups, one statement per table."""
    if removed == added:
        return
    usage, latency = tally(removed, added)
    if usage:
        keys = sorted(usage)
        cols: list[list] = [[k[0] for k in keys], [k[1] for k in keys]]
        for i in range(10):
            cast = float if i in (4, 6) else int
            cols.append([cast(usage[k][i]) for k in keys])
        conn.execute(_UPSERT_USAGE, (project_id, *cols))
    changed = sorted((k, n) for k, n in latency.items() if n)
    if changed:
        conn.execute(_UPSERT_LATENCY, (project_id, [k[0] for k, _ in changed], [k[1] for k, _ in changed],
                                       [k[2] for k, _ in changed], [n for _, n in changed]))


__all__ = ["FACT_COLUMNS", "UsageFacts", "apply", "facts_from_row", "facts_of", "with_flag"]

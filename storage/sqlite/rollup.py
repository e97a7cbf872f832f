"""Hourly usage rollups kept inside the SQLite write transaction, so dashboard charts never scan events."""

from __future__ import annotations

import sqlite3

from phosphobs.storage.usage_facts import FACT_COLUMNS, UsageFacts, facts_from_row, facts_of, tally, with_flag

_UPSERT_USAGE = (
    "INSERT INTO usage_hourly (project_id, hour_us, model, events, errors, tokens_in, tokens_out, cost_cents,"
    " costed, latency_ms_sum, latency_count, success_count, failure_count)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, hour_us, model) DO UPDATE SET"
    " events = events + excluded.events, errors = errors + excluded.errors,"
    " tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out,"
    " cost_cents = cost_cents + excluded.cost_cents, costed = costed + excluded.costed,"
    " latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,"
    " latency_count = latency_count + excluded.latency_count,"
    " success_count = success_count + excluded.success_count, failure_count = failure_count + excluded.failure_count"
)
_UPSERT_LATENCY = (
    "INSERT INTO latency_hourly (project_id, hour_us, model, bucket, count) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (project_id, hour_us, model, bucket) DO UPDATE SET count = count + excluded.count"
)


def apply(conn: sqlite3.Connection, project_id: str, removed: list[UsageFacts], added: list[UsageFacts]) -> None:
    """Subtract `removed` and add `added` to the rollups, one upsert per touched (hour, model)."""
    if removed == added:
        return
    usage, latency = tally(removed, added)
    rows = []
    for (hour, model), v in usage.items():
        ints = [int(v[i]) for i in (0, 1, 2, 3)]
        rows.append((project_id, hour, model, *ints, v[4], int(v[5]), v[6], int(v[7]), int(v[8]), int(v[9])))
    if rows:
        conn.executemany(_UPSERT_USAGE, rows)
    changed = [(project_id, h, m, b, n) for (h, m, b), n in latency.items() if n]
    if changed:
        conn.executemany(_UPSERT_LATENCY, changed)


__all__ = ["FACT_COLUMNS", "UsageFacts", "apply", "facts_from_row", "facts_of", "with_flag"]

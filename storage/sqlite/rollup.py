"""Hourly usage rollups kept inside the write transaction, so dashboard charts never scan events.

Every change to an event's counted facts goes through `apply`: a new event adds its facts, feedback that
changes a flag or a patch that fills model/tokens subtracts the old facts and adds the new. The rollup is
therefore a function of the stored events alone, whatever the arrival order.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from phosphobs.storage.dashboard_records import HOUR_US, latency_bucket
from phosphobs.storage.models import Event

# Columns of `events` that `facts_from_row` needs; select them before changing a stored event.
FACT_COLUMNS = "ts_us, model, tokens_in, tokens_out, cost_cents, latency_ms, status, flag"


@dataclass(slots=True, frozen=True)
class UsageFacts:
    ts_us: int
    model: str | None
    tokens_in: int | None
    tokens_out: int | None
    cost_cents: float | None
    latency_ms: float | None
    status: str
    flag: str | None


def facts_of(event: Event, flag: str | None) -> UsageFacts:
    return UsageFacts(event.timestamp_us, event.model, event.tokens_in, event.tokens_out, event.cost_cents,
                      event.latency_ms, event.status, flag)


def facts_from_row(row: Any) -> UsageFacts:
    return UsageFacts(row["ts_us"], row["model"], row["tokens_in"], row["tokens_out"], row["cost_cents"],
                      row["latency_ms"], row["status"], row["flag"])


def with_flag(facts: UsageFacts, flag: str | None) -> UsageFacts:
    return replace(facts, flag=flag)


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
    usage: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0] * 10)
    latency: dict[tuple[int, str, int], int] = defaultdict(int)
    for sign, facts_list in ((-1, removed), (1, added)):
        for f in facts_list:
            key = ((f.ts_us // HOUR_US) * HOUR_US, f.model or "")
            row = usage[key]
            for i, value in enumerate((
                1, f.status == "error", f.tokens_in or 0, f.tokens_out or 0, f.cost_cents or 0.0,
                f.cost_cents is not None, f.latency_ms or 0.0, f.latency_ms is not None,
                f.flag == "success", f.flag == "failure",
            )):
                row[i] += sign * value
            if f.latency_ms is not None:
                latency[(*key, latency_bucket(f.latency_ms))] += sign
    rows = []
    for (hour, model), v in usage.items():
        ints = [int(v[i]) for i in (0, 1, 2, 3)]
        rows.append((project_id, hour, model, *ints, v[4], int(v[5]), v[6], int(v[7]), int(v[8]), int(v[9])))
    if rows:
        conn.executemany(_UPSERT_USAGE, rows)
    changed = [(project_id, h, m, b, n) for (h, m, b), n in latency.items() if n]
    if changed:
        conn.executemany(_UPSERT_LATENCY, changed)

"""The facts about one event that usage rollups count, and their signed tally (shared by the backends).

A rollup changes only through `tally(removed, added)`: a new event adds its facts; feedback that changes
a flag, or a patch that fills model/tokens, removes the old facts and adds the new. The rollups are
therefore a function of the stored events alone, whatever the arrival order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from phosphobs.storage.dashboard_records import HOUR_US, latency_bucket
from phosphobs.storage.models import Event

UsageKey = tuple[int, str]  # (hour start, model or "")
UsageTotals = list[float]  # events, errors, tokens in, tokens out, cost, costed, latency sum, latency n, ok, bad
LatencyKey = tuple[int, str, int]  # (hour start, model or "", latency bucket)


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


def tally(removed: list[UsageFacts], added: list[UsageFacts]) -> tuple[dict[UsageKey, UsageTotals],
                                                                       dict[LatencyKey, int]]:
    """Signed per-(hour, model) totals and latency-bucket counts for a change from `removed` to `added`."""
    usage: dict[UsageKey, UsageTotals] = defaultdict(lambda: [0.0] * 10)
    latency: dict[LatencyKey, int] = defaultdict(int)
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
    return usage, latency

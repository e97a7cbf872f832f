"""Overview: usage, sessions, cost, latency and quality over a chosen range, from the hourly rollups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from phosphobs.api.dashboard.charts import Series, align, bar_list, bucket_starts, line_chart
from phosphobs.api.dashboard.common import ProjectDep, page
from phosphobs.api.dashboard.pages_quality import quality_context
from phosphobs.api.dashboard.render import fmt_cost, fmt_duration_ms, fmt_plural
from phosphobs.api.enrich import read_together
from phosphobs.storage.clock import now_us
from phosphobs.storage.dashboard_records import HOUR_US, LatencyBucket, ModelUsage, SessionBucket, UsageBucket
from phosphobs.storage.protocol import Storage
from starlette.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

DAY_US = 24 * HOUR_US
RANGES = {"24h": (DAY_US, HOUR_US), "7d": (7 * DAY_US, 6 * HOUR_US), "30d": (30 * DAY_US, DAY_US),
          "90d": (90 * DAY_US, DAY_US)}


CHART_TITLES = ("Events and errors", "Sessions and users", "Tokens in / out", "Cost", "Latency p50 / p95",
                "Success rate (final flags: human, else OTel evaluation, else detected)")


@dataclass(slots=True)
class Totals:
    events: int = 0
    errors: int = 0
    sessions: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_cents: float | None = None
    successes: int = 0
    failures: int = 0


@router.get("/p/{project}")
async def project_home(project: str) -> Response:
    return RedirectResponse(f"/p/{project}/overview", status_code=303)


@router.get("/p/{project}/overview")
async def overview(request: Request, ctx: ProjectDep, range: str = "24h", rerun: int | None = None) -> Response:
    if range not in RANGES:
        range = "24h"
    span, bucket = RANGES[range]
    until = (now_us() // HOUR_US + 1) * HOUR_US
    since = until - span
    pid = ctx.project.id

    def read(store: Storage) -> tuple[list[UsageBucket], list[SessionBucket], list[LatencyBucket],
                                      LatencyBucket | None, list[ModelUsage], dict[str, Any]]:
        """Every figure on the page from one committed state: the totals and the charts agree."""
        [overall] = store.latency_percentiles(pid, since, until, span) or [None]
        return (store.usage_series(pid, since, until, bucket), store.session_series(pid, since, until, bucket),
                store.latency_percentiles(pid, since, until, bucket), overall, store.top_models(pid, since, until, 10),
                quality_context(store, pid, since, until))

    usage, sessions, latency, overall, models, quality = await read_together(ctx.storage, read)

    starts = bucket_starts(since, until, bucket)
    totals = Totals(sessions=sum(s.sessions for s in sessions))
    for u in usage:
        totals.events += u.events
        totals.errors += u.errors
        totals.tokens_in += u.tokens_in
        totals.tokens_out += u.tokens_out
        totals.successes += u.success_count
        totals.failures += u.failure_count
        if u.cost_cents is not None:
            totals.cost_cents = (totals.cost_cents or 0.0) + u.cost_cents
    by = {u.start_us: u for u in usage}
    flagged = {s: (u.success_count / (u.success_count + u.failure_count) * 100)
               for s, u in by.items() if u.success_count + u.failure_count}
    charts = [
        line_chart("Events", starts, bucket, [Series("events", align(starts, {s: u.events for s, u in by.items()})),
                                              Series("errors", align(starts, {s: u.errors for s, u in by.items()}),
                                                     "s3")]),
        line_chart("Sessions and users", starts, bucket, [
            Series("sessions", align(starts, {b.start_us: b.sessions for b in sessions})),
            Series("users", align(starts, {b.start_us: b.users for b in sessions}), "s2")]),
        line_chart("Tokens", starts, bucket, [
            Series("input tokens", align(starts, {s: u.tokens_in for s, u in by.items()})),
            Series("output tokens", align(starts, {s: u.tokens_out for s, u in by.items()}), "s2")]),
        line_chart("Cost", starts, bucket, [Series("cost", align(starts, {s: u.cost_cents for s, u in by.items()}))],
                   fmt=fmt_cost),
        line_chart("Latency p50 / p95", starts, bucket, [
            Series("p50", align(starts, {b.start_us: b.p50_ms for b in latency}, None)),
            Series("p95", align(starts, {b.start_us: b.p95_ms for b in latency}, None), "s3")], fmt=fmt_duration_ms),
        line_chart("Success rate (flagged events)", starts, bucket,
                   [Series("success %", align(starts, flagged, None), "s2")], fmt=lambda v: f"{v:.0f}%", top=100),
    ]
    model_bars = bar_list([(m.model or "(no model)", m.events,
                            f"{fmt_plural(int(m.events), 'event')} · {fmt_cost(m.cost_cents)}") for m in models])
    return page(request, ctx, "overview.html", "overview", range=range, ranges=list(RANGES), totals=totals,
                p50=overall.p50_ms if overall else None, p95=overall.p95_ms if overall else None, charts=charts,
                models=models, model_bars=model_bars, chart_titles=CHART_TITLES, rerun=rerun, **quality)

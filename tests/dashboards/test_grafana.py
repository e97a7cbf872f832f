"""The Grafana dashboards: valid dashboard JSON, Prometheus panels over metrics we export, and Postgres panels
whose SQL returns the right numbers on a database phosphobs itself wrote."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.cog.runtime import panelcfg_config
from grafana_foundation_sdk.models.dashboard import Dashboard
from phosphobs.storage.models import Feedback
from phosphobs.storage.postgres.store import PostgresStorage
from phosphobs.storage.protocol import FeedbackOp, IngestOp
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import new_api_project
from tests.support import postgres
from tests.support.factories import make_event
from tests.support.server import ServerProcess

GRAFANA = Path(__file__).resolve().parents[2] / "dashboards" / "grafana"
PROMETHEUS = GRAFANA / "phosphobs-prometheus.json"
POSTGRES = GRAFANA / "phosphobs-postgres.json"
HOUR_S = 3600


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def unknown_keys(original: Any, decoded: Any, path: str = "") -> list[str]:
    """Keys of `original` that did not survive decoding: fields the dashboard schema does not know."""
    if isinstance(original, dict):
        if not isinstance(decoded, dict):
            return [path]
        return [p for k, v in original.items()
                for p in ([f"{path}/{k}"] if k not in decoded else unknown_keys(v, decoded[k], f"{path}/{k}"))]
    if isinstance(original, list):
        if not isinstance(decoded, list) or len(decoded) != len(original):
            return [path]
        pairs = enumerate(zip(original, decoded, strict=True))
        return [p for i, (a, b) in pairs for p in unknown_keys(a, b, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("path", [PROMETHEUS, POSTGRES], ids=lambda p: p.stem)
def test_dashboard_json_decodes_as_a_grafana_dashboard_with_no_unknown_fields(path: Path) -> None:
    register_default_plugins()  # panel options and field config are then decoded by their plugin's schema too
    data = load(path)
    decoded = json.loads(json.dumps(Dashboard.from_json(data), cls=JSONEncoder))
    assert unknown_keys(data, decoded) == []
    panels = data["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(panelcfg_config(p["type"]) is not None for p in panels), "every panel type is a known plugin"
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    variables = {v["name"] for v in data["templating"]["list"]}
    assert {"datasource", "project", "model"} <= variables


def test_provisioning_files_point_at_the_dashboards() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "phosphobs.yaml").read_text())
    assert {d["type"] for d in sources["datasources"]} == {"prometheus", "grafana-postgresql-datasource"}
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "phosphobs.yaml").read_text())
    assert providers["providers"][0]["type"] == "file" and providers["providers"][0]["options"]["path"]


def queried_metrics() -> set[str]:
    data = load(PROMETHEUS)
    exprs = [t["expr"] for p in data["panels"] for t in p["targets"]]
    exprs += [v["query"]["query"] for v in data["templating"]["list"] if v["type"] == "query"]
    selectors = [re.sub(r"\{[^}]*\}|\b(?:by|without)\s*\([^)]*\)", "", e) for e in exprs]  # drop label names
    return {name for e in selectors for name in re.findall(r"\b((?:phosphobs|gen_ai)_[a-z0-9_]+)\b", e)}


def test_every_metric_the_prometheus_dashboard_queries_is_exported_after_ingestion(server: ServerProcess) -> None:
    api = new_api_project(server)
    response = api.client.post("/api/ingest", json={
        "input": "hi", "output": "hello", "metadata": {"model": "gpt-4o", "provider": "openai", "latency_ms": 420,
                                                      "token_count_input": 3, "token_count_output": 5,
                                                      "cost_cents": 0.2}})
    assert response.status_code == 201
    event_id = response.json()["event_id"]
    assert api.client.post("/api/feedback", json={"event_id": event_id, "flag": "success"}).status_code == 201
    scraped = httpx.get(server.base_url + "/metrics", headers=server.metrics_headers).text
    samples = {s.name for family in text_string_to_metric_families(scraped)
               for s in family.samples}
    wanted = queried_metrics()
    assert len(wanted) >= 8
    assert wanted - samples == set()


# ------------------------------------------------------------------------------------------------ Postgres
def render_sql(sql: str, project_ids: list[str], models: list[str], start_s: int, end_s: int) -> str:
    """What Grafana's Postgres datasource sends: macros expanded, multi-value variables as quoted lists."""
    def quoted(values: list[str]) -> str:
        return ",".join("'" + v.replace("'", "''") + "'" for v in values)

    return (sql.replace("$__unixEpochFrom()", str(start_s)).replace("$__unixEpochTo()", str(end_s))
            .replace("$project", quoted(project_ids)).replace("$model", quoted(models)))


@pytest.fixture(scope="module")
def seeded() -> Iterator[dict[str, Any]]:
    """A throwaway database written by phosphobs' Postgres backend, with known sessions, users and costs."""
    postgres.require_postgres(explicit=False)
    url = postgres.create_database("phosphobs_grafana")
    store = PostgresStorage(url)
    try:
        store.migrate()
        base_us = 1_767_225_600_000_000  # 2026-01-01T00:00Z
        shop = store.create_project("shop", "free", base_us)
        other = store.create_project("other", "free", base_us)
        minute = 60_000_000
        events = [
            # alice: one 3-event session on gpt-4o, 10 minutes long, 3 cents, one failure
            make_event(session_id="s-alice", user_id="alice", model="gpt-4o", cost_cents=1.0, tokens_in=10,
                       tokens_out=20, timestamp_us=base_us + 0 * minute),
            make_event(session_id="s-alice", user_id="alice", model="gpt-4o", cost_cents=1.0, tokens_in=10,
                       tokens_out=20, timestamp_us=base_us + 5 * minute),
            make_event(session_id="s-alice", user_id="alice", model="gpt-4o", cost_cents=1.0, tokens_in=10,
                       tokens_out=20, timestamp_us=base_us + 10 * minute),
            # bob: a 1-hour session on two models (claude has one failure, one success), 5 cents
            *(make_event(session_id="s-bob", user_id="bob", model=model, cost_cents=cost,
                         timestamp_us=base_us + at * minute)
              for model, cost, at in (("claude-3", 2.0, 65), ("claude-3", 2.0, 95), ("gpt-4o", 1.0, 125))),
            # anonymous, no model, no cost
            make_event(session_id="s-anon", timestamp_us=base_us + 130 * minute),
        ]
        [result] = store.write([IngestOp(shop.id, events, None)], base_us)
        assert result.ok
        flags = [(events[1], "failure"), (events[3], "failure"), (events[4], "success")]
        store.write([FeedbackOp(shop.id, Feedback(e.event_id, f)) for e, f in flags], base_us)  # type: ignore[arg-type]
        store.write([IngestOp(other.id, [make_event(session_id="s-other", user_id="alice", model="gpt-4o",
                                                    cost_cents=50.0, timestamp_us=base_us)], None)], base_us)
        yield {"url": url, "shop": shop.id, "other": other.id, "start_s": base_us // 1_000_000 - HOUR_S,
               "end_s": base_us // 1_000_000 + 24 * HOUR_S}
    finally:
        store.close()
        postgres.drop_database(url)


def run_panel(seeded: dict[str, Any], title: str, models: list[str] | None = None,
              window: tuple[int, int] | None = None) -> list[tuple]:
    panel = next(p for p in load(POSTGRES)["panels"] if p["title"] == title)
    start_s, end_s = window or (seeded["start_s"], seeded["end_s"])
    sql = render_sql(panel["targets"][0]["rawSql"], [seeded["shop"]], models or ["gpt-4o", "claude-3", "(none)"],
                     start_s, end_s)
    with psycopg.connect(seeded["url"]) as conn:
        return [tuple(float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int) else v for v in row)
                for row in conn.execute(sql).fetchall()]


def test_postgres_totals_panels_count_the_selected_project_and_models(seeded: dict[str, Any]) -> None:
    assert run_panel(seeded, "Events (range)") == [(7,)]
    assert run_panel(seeded, "Events (range)", models=["gpt-4o"]) == [(4,)]
    assert run_panel(seeded, "Sessions (range)") == [(3,)]
    assert run_panel(seeded, "Sessions (range)", models=["claude-3"]) == [(1,)]
    assert run_panel(seeded, "Cost (range)") == [(0.08,)]
    assert run_panel(seeded, "Failure rate (range)") == [(pytest.approx(200 / 3),)]


def test_postgres_events_per_hour_is_a_time_series(seeded: dict[str, Any]) -> None:
    rows = run_panel(seeded, "Events and failures per hour")
    assert [(row[0].timestamp() - seeded["start_s"] - HOUR_S, row[1], row[2]) for row in rows] == [
        (0, 3, 1), (HOUR_S, 2, 1), (2 * HOUR_S, 2, 0)]


def test_postgres_cost_per_user_ranks_users_by_cost(seeded: dict[str, Any]) -> None:
    assert run_panel(seeded, "Cost per user") == [
        ("bob", 0.05, 3, 0), ("alice", 0.03, 3, 90), ("(anonymous)", None, 1, 0)]


def test_postgres_failure_rate_per_model(seeded: dict[str, Any]) -> None:
    assert run_panel(seeded, "Failure rate per model") == [
        ("gpt-4o", 4, 1, 1, 100.0), ("claude-3", 2, 2, 1, 50.0), ("(none)", 1, 0, 0, None)]


def test_postgres_slowest_sessions_come_first(seeded: dict[str, Any]) -> None:
    rows = run_panel(seeded, "Slowest sessions")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("s-bob", "bob", 3600.0, 3), ("s-alice", "alice", 600.0, 3),
                                                        ("s-anon", None, 0.0, 1)]


def test_postgres_sessions_table_respects_the_time_range(seeded: dict[str, Any]) -> None:
    rows = run_panel(seeded, "Sessions")
    assert [r[0] for r in rows] == ["s-anon", "s-bob", "s-alice"]
    assert rows[1][7] == 50.0 and rows[1][8] == "claude-3, gpt-4o"
    later = (seeded["start_s"] + HOUR_S + 60 * 60 + 60, seeded["end_s"])  # from 01:01: alice's session ended at 00:10
    assert [r[0] for r in run_panel(seeded, "Sessions", window=later)] == ["s-anon", "s-bob"]


def test_postgres_dashboard_variables_list_projects_and_models(seeded: dict[str, Any]) -> None:
    variables = {v["name"]: v["query"] for v in load(POSTGRES)["templating"]["list"] if v["type"] == "query"}
    with psycopg.connect(seeded["url"]) as conn:
        projects = conn.execute(variables["project"]).fetchall()
        models = conn.execute(render_sql(variables["model"], [seeded["shop"]], [], 0, 0)).fetchall()
    assert [p[0] for p in projects] == ["other", "shop"]
    assert [m[0] for m in models] == ["(none)", "claude-3", "gpt-4o"]
    assert uuid.UUID(projects[1][1])

"""GET /metrics: what was ingested, by whom and how it went, in Prometheus exposition format."""

from __future__ import annotations

from pathlib import Path

import httpx
from phosphobs.api.app import create_app
from phosphobs.api.settings import Settings
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import new_api_project
from tests.support.server import ServerProcess


def scrape(base_url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(base_url + "/metrics", headers=headers or {})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_ingested_events_tokens_latency_cost_and_feedback_are_counted_per_project(server: ServerProcess) -> None:
    api = new_api_project(server)
    name = api.project.name
    events = [{"input": "q", "output": "a", "metadata": {"model": "gpt-4o", "provider": "openai", "latency_ms": 1500,
                                                        "token_count_input": 100, "token_count_output": 50,
                                                        "cost_cents": 2.5}} for _ in range(3)]
    events.append({"input": "q", "output": "a"})
    response = api.client.post("/api/ingest/batch", json={"events": events})
    assert response.status_code == 201
    duplicate = {**events[0], "event_id": response.json()["results"][0]["event_id"]}
    assert api.client.post("/api/ingest", json=duplicate).json()["status"] == "duplicate"  # not counted again
    first = response.json()["results"][0]["event_id"]
    for flag in ("failure", "success"):
        assert api.client.post("/api/feedback", json={"event_id": first, "flag": flag}).status_code == 201

    samples = scrape(server.base_url, server.metrics_headers)
    assert value(samples, "phosphobs_ingested_events_total", project=name, source="api", model="gpt-4o",
                 provider="openai") == 3
    assert value(samples, "phosphobs_ingested_events_total", project=name, source="api", model="", provider="") == 1
    gen_ai = {"project": name, "gen_ai_request_model": "gpt-4o", "gen_ai_provider_name": "openai"}
    assert value(samples, "gen_ai_client_token_usage_sum", gen_ai_token_type="input", **gen_ai) == 300
    assert value(samples, "gen_ai_client_token_usage_sum", gen_ai_token_type="output", **gen_ai) == 150
    assert value(samples, "gen_ai_client_token_usage_count", gen_ai_token_type="input", **gen_ai) == 3
    assert value(samples, "gen_ai_client_operation_duration_seconds_sum", **gen_ai) == 4.5
    assert value(samples, "gen_ai_client_operation_duration_seconds_bucket", le="1.28", **gen_ai) == 0
    assert value(samples, "gen_ai_client_operation_duration_seconds_bucket", le="2.56", **gen_ai) == 3
    assert round(value(samples, "phosphobs_llm_cost_usd_total", project=name, model="gpt-4o"), 6) == 0.075
    assert value(samples, "phosphobs_feedback_total", project=name, flag="failure") == 1
    assert value(samples, "phosphobs_feedback_total", project=name, flag="success") == 1
    assert ("phosphobs_ingest_queue_depth", frozenset()) in samples
    assert value(samples, "phosphobs_ingest_commit_duration_seconds_count") >= 4


def test_refused_ingest_requests_are_counted_by_reason(server: ServerProcess) -> None:
    limited = new_api_project(server, rate_limit=2)
    before = scrape(server.base_url, server.metrics_headers)
    bad_key = httpx.post(server.base_url + "/api/ingest", json={"input": "x", "output": "y"},
                         headers={"Authorization": "Bearer ph_not_a_real_key_at_all_000"})
    assert bad_key.status_code == 401
    assert limited.client.post("/api/ingest", json={"input": "x"}).status_code == 422
    assert limited.client.post("/api/ingest", content=b"{", headers={"content-type": "application/json"}
                               ).status_code == 400
    batch = {"events": [{"input": "x", "output": "y"}] * 3}
    assert limited.client.post("/api/ingest/batch", json=batch).status_code == 429
    after = scrape(server.base_url, server.metrics_headers)

    def delta(reason: str) -> float:
        key = ("phosphobs_ingest_rejections_total", frozenset({"reason": reason}.items()))
        return after[key] - before[key]

    assert (delta("auth"), delta("validation"), delta("rate_limit")) == (1, 2, 1)
    assert delta("overload") == 0


def test_metrics_can_require_a_bearer_token(tmp_path: Path) -> None:
    guarded = ServerProcess(tmp_path, env={"PHOSPHOBS_METRICS_TOKEN": "s3cret-token"}).start()
    try:
        assert httpx.get(guarded.base_url + "/metrics").status_code == 401
        wrong = httpx.get(guarded.base_url + "/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert ("phosphobs_up", frozenset()) in scrape(guarded.base_url, {"Authorization": "Bearer s3cret-token"})
    finally:
        guarded.stop()


def test_each_app_has_its_own_registry(tmp_path: Path) -> None:
    first = create_app(Settings(data_dir=tmp_path / "a", grpc_port=0))
    second = create_app(Settings(data_dir=tmp_path / "b", grpc_port=0))
    try:
        assert first.state.metrics.registry is not second.state.metrics.registry
        first.state.metrics.rejected("auth")
        assert b'phosphobs_ingest_rejections_total{reason="auth"} 1.0' in first.state.metrics.render()
        assert b'phosphobs_ingest_rejections_total{reason="auth"} 0.0' in second.state.metrics.render()
    finally:
        first.state.storage.close()
        second.state.storage.close()


def test_metrics_are_closed_by_default_with_a_token_printed_once_that_survives_restarts(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path).start()
    try:
        token = proc.metrics_token
        assert token and token.startswith("phm_"), "".join(proc.output)
        anonymous = httpx.get(proc.base_url + "/metrics")
        assert anonymous.status_code == 401 and "phosphobs" not in anonymous.text.replace("metrics token", "")
        assert httpx.get(proc.base_url + "/metrics", headers={"Authorization": "Bearer phm_wrong"}).status_code == 401
        assert httpx.get(proc.base_url + "/metrics", headers={"Authorization": b"Bearer \xc3\xa9"}).status_code == 401
        assert ("phosphobs_up", frozenset()) in scrape(proc.base_url, proc.metrics_headers)
        proc.stop()
        proc.start()
        assert "PHOSPHOBS_METRICS_TOKEN" not in "".join(proc.output)  # shown once only
        assert ("phosphobs_up", frozenset()) in scrape(proc.base_url, {"Authorization": f"Bearer {token}"})
        assert httpx.get(proc.base_url + "/metrics").status_code == 401
    finally:
        proc.stop()


def test_metrics_can_be_made_public_explicitly(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path, env={"PHOSPHOBS_METRICS_PUBLIC": "true"}).start()
    try:
        assert proc.metrics_token is None
        assert ("phosphobs_up", frozenset()) in scrape(proc.base_url)
    finally:
        proc.stop()


def test_series_per_metric_are_capped_and_the_overflow_is_counted_as_other(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path, env={"PHOSPHOBS_METRICS_MAX_SERIES": "8"}).start()
    try:
        api = new_api_project(proc)
        events = [{"input": "q", "output": "a", "metadata": {
            "model": f"model-{m}", "provider": f"provider-{p}", "latency_ms": 100, "token_count_input": 1,
            "token_count_output": 1, "cost_cents": 1}} for m in range(10) for p in range(10)]
        assert api.client.post("/api/ingest/batch", json={"events": events}).status_code == 201
        samples = scrape(proc.base_url, proc.metrics_headers)
        for name, per_series in (("phosphobs_ingested_events_total", 1), ("phosphobs_llm_cost_usd_total", 0.01),
                                 ("gen_ai_client_operation_duration_seconds_count", 1)):
            series = {labels: v for (n, labels), v in samples.items() if n == name}
            assert 1 < len(series) <= 8 + 1, (name, len(series))
            assert round(sum(series.values()) / per_series) == 100  # nothing lost, only folded into "other"
            assert any(dict(labels).get("project") == "other" for labels in series), sorted(series)[:3]
        token_series = [labels for (n, labels) in samples if n == "gen_ai_client_token_usage_count"]
        assert len(token_series) <= 8 + 2  # one overflow series per token type
        assert len(httpx.get(proc.base_url + "/metrics", headers=proc.metrics_headers).content) < 200_000
    finally:
        proc.stop()

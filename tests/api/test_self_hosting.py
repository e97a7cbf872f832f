"""Self-hosting defaults: an unlimited first project, offline /docs, a complete OpenAPI, a README that works."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.test_cli import cli
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
INGEST = ("/api/ingest", "/api/ingest/batch", "/api/feedback", "/v1/traces", "/v1/logs", "/v1/metrics")


def test_the_first_start_project_has_no_rate_limit(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path, env={"PHOSPHOBS_RATE_LIMIT_FREE": "50"}).start()
    try:
        headers = {"Authorization": f"Bearer {proc.api_key}"}
        batch = {"events": [{"input": "q", "output": "a"}] * 100}
        for _ in range(3):  # 300 events in a minute, six times the free plan's limit here
            response = httpx.post(proc.base_url + "/api/ingest/batch", json=batch, headers=headers)
            assert response.status_code == 201, response.text
        assert "unlimited" in "".join(proc.output)
    finally:
        proc.stop()
    listing = cli("projects", "list", data_dir=tmp_path).stdout
    assert re.search(r"^default\s+unlimited\s+unlimited", listing, re.M), listing
    assert cli("projects", "create", "hosted", data_dir=tmp_path).returncode == 0  # free stays the default
    assert re.search(r"^hosted\s+free\s+1000\b", cli("projects", "list", data_dir=tmp_path).stdout, re.M)
    assert cli("projects", "set-plan", "hosted", "--plan", "unlimited", data_dir=tmp_path).returncode == 0


def test_docs_are_served_locally_with_the_dashboard_security_headers(server: ServerProcess) -> None:
    page = httpx.get(server.base_url + "/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)  # no CDN
    for asset in assets:
        got = httpx.get(server.base_url + asset)
        assert got.status_code == 200 and got.headers["x-content-type-options"] == "nosniff", asset
        assert "content-security-policy" in got.headers
    assert httpx.get(server.base_url + "/redoc").status_code == 404  # it would need a CDN


def test_openapi_documents_every_ingest_body_and_error(server: ServerProcess) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    for path in INGEST:
        operation = spec["paths"][path]["post"]
        content = operation["requestBody"]["content"]
        assert content, path
        if path.startswith("/v1/"):
            assert set(content) == {"application/x-protobuf", "application/json"}
        else:
            assert content["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")
        for code in ("400", "401", "413", "415", "429", "503"):
            assert code in operation["responses"], (path, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        assert operation["security"] == [{"apiKey": []}, {"basicKey": []}]
    schemas = spec["components"]["schemas"]
    assert {"IngestEvent", "IngestBatch", "FeedbackIn", "Error", "RpcStatus"} <= set(schemas)
    assert schemas["IngestEvent"]["required"] == ["input", "output"]


def test_the_readme_openai_instrumentation_install_line_works_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("pip install opentelemetry-instrumentation"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *shlex.split(line)[2:]],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    imported = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor;"
                               "i = OpenAIInstrumentor(); i.instrument(); assert i.is_instrumented_by_opentelemetry"],
                              capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr[-2000:]

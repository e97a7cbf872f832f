"""The client package stays light: importing and using it loads nothing of the server, and it works
in an environment where the server's dependencies cannot be imported at all."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

EXPORTERS = Path(__file__).resolve().parents[2] / "exporters"
SERVER_ONLY = ("fastapi", "uvicorn", "starlette", "pydantic", "sqlite3", "grpc", "psycopg", "orjson", "openai")

BLOCKER = f"""
import sys

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ImportError(f"{{name}} is blocked in this test")
        return None

sys.meta_path.insert(0, _Blocked())
"""

USE_EVERYTHING = """
import sys
import phosphobs.exporters as px
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk._logs import LoggerProvider

telemetry = px.configure("ph_x", "http://127.0.0.1:9", tracer_provider=TracerProvider(),
                         logger_provider=LoggerProvider(), llm_only=True)
with px.session("s", user_id="u"):
    client = px.Client("ph_x", "http://127.0.0.1:9")
    client.log("q", "a")
    client.feedback(client.log("q", "a"), "success")
client.shutdown(timeout=0)
px.AsyncClient("ph_x", "http://127.0.0.1:9")
px.wrap_openai
telemetry.shutdown()
bad = sorted(m for m in sys.modules if m.split(".")[0] in {server_only!r}
             or m.startswith(("phosphobs.api", "phosphobs.storage", "phosphobs.collector", "phosphobs.dashboards")))
print(bad)
"""


def run(code: str, extra_path: Path | None = None) -> str:
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=120, cwd="/", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_using_the_whole_client_api_loads_no_server_module() -> None:
    assert run(USE_EVERYTHING.format(server_only=SERVER_ONLY)) == "[]"


def test_the_client_works_where_server_dependencies_cannot_be_imported(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    assert run("import fastapi", tmp_path) if False else True
    probe = "try:\n    import fastapi\nexcept ImportError:\n    print('blocked')\n"
    assert run(probe, tmp_path) == "blocked"
    assert run(USE_EVERYTHING.format(server_only=SERVER_ONLY), tmp_path) == "[]"


def test_the_grpc_exporter_is_loaded_only_when_grpc_is_asked_for() -> None:
    code = """
        import sys
        from phosphobs.exporters.otlp_exporters import span_exporter
        from phosphobs.exporters.otlp_settings import resolve_otlp_settings
        span_exporter(resolve_otlp_settings({}))
        print("grpc" in sys.modules)
        span_exporter(resolve_otlp_settings({}, protocol="grpc"))
        print("grpc" in sys.modules)
    """
    assert run(code).split() == ["False", "True"]


def test_exporters_modules_import_only_phosphobs_exporters() -> None:
    for path in EXPORTERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                assert not name.startswith("phosphobs.") or name.startswith("phosphobs.exporters"), (
                    f"{path.name} imports {name}")
                assert name.split(".")[0] not in SERVER_ONLY, f"{path.name} imports {name}"

"""Conventions that would otherwise rot: every folder ships, and imports follow the architecture's arrows."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("collector", "exporters", "storage", "api", "dashboards")
ALLOWED = {
    "exporters": {"phosphobs.exporters"},
    "storage": {"phosphobs.storage"},
    "collector": {"phosphobs.collector", "phosphobs.storage.models", "phosphobs.storage.protocol",
                  "phosphobs.storage.enrichment", "phosphobs.storage.clock", "phosphobs.storage.calls",
                  "phosphobs.storage.pricing"},
    "dashboards": {"phosphobs.dashboards"},
    "api": {"phosphobs."},
}


def shipped_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_source_folder_is_listed_as_a_package() -> None:
    listed = shipped_packages()
    for top in PACKAGES:
        for folder in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or not any(f.is_file() for f in folder.iterdir()):
                continue
            name = "phosphobs." + ".".join(folder.relative_to(ROOT).parts)
            assert name in listed, f"{folder.relative_to(ROOT)} is missing from [tool.setuptools] packages"


def all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def phosphobs_imports(path: Path) -> set[str]:
    return {n for n in all_imports(path) if n.startswith("phosphobs")}


@pytest.mark.parametrize("top", PACKAGES)
def test_imports_follow_the_architecture(top: str) -> None:
    allowed = ALLOWED[top]
    for path in (ROOT / top).rglob("*.py"):
        for name in phosphobs_imports(path):
            assert any(name == a or name.startswith(a + ".") or (a.endswith(".") and name.startswith(a))
                       for a in allowed), f"{path.relative_to(ROOT)} imports {name}"


def _matches(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# Inside collector/: OTLP translation is pure (protobufs in, records out); receivers reach storage only
# through the `Submit` function they are given; the collector's own core never knows its receivers.
COLLECTOR_ALLOWED = {
    "collector/otlp": {"phosphobs.collector.otlp", "phosphobs.storage.models", "phosphobs.storage.enrichment",
                       "phosphobs.storage.calls"},  # pure: what makes spans one call, shared with storage
}
COLLECTOR_FORBIDDEN = {
    "collector/receivers": {"phosphobs.collector.pipeline", "phosphobs.storage.protocol"},
    "collector": {"phosphobs.collector.receivers"},  # its top-level modules
}


@pytest.mark.parametrize("folder", sorted(COLLECTOR_ALLOWED.keys() | COLLECTOR_FORBIDDEN.keys()))
def test_imports_inside_the_collector_follow_its_layers(folder: str) -> None:
    allowed, forbidden = COLLECTOR_ALLOWED.get(folder), COLLECTOR_FORBIDDEN.get(folder, set())
    for path in (ROOT / folder).glob("*.py"):
        for name in phosphobs_imports(path):
            where = f"{path.relative_to(ROOT)} imports {name}"
            assert allowed is None or _matches(name, allowed), where
            assert not _matches(name, forbidden), where


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split(".")[1:])  # phosphobs.collector.x → collector/x.py or collector/x/
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def _reachable(start: Path) -> set[str]:
    """Every phosphobs module that importing `start` loads, directly or through what it imports."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in phosphobs_imports(todo.pop()):
            if name not in seen and (path := _module_file(name)) is not None:
                seen.add(name)
                todo.append(path)
    return seen


@pytest.mark.parametrize("receiver", sorted(p.name for p in (ROOT / "collector" / "receivers").glob("*.py")))
def test_receivers_reach_storage_only_through_submit(receiver: str) -> None:
    reached = _reachable(ROOT / "collector" / "receivers" / receiver)
    assert not any(_matches(name, {"phosphobs.collector.pipeline", "phosphobs.storage.sqlite",
                                   "phosphobs.storage.postgres", "phosphobs.api"}) for name in reached), reached


@pytest.mark.parametrize("module", sorted(p.name for p in (ROOT / "collector" / "otlp").glob("*.py")))
def test_the_otlp_package_loads_no_receiver_pipeline_or_server(module: str) -> None:
    reached = _reachable(ROOT / "collector" / "otlp" / module)
    assert not any(_matches(name, {"phosphobs.collector.receivers", "phosphobs.collector.pipeline",
                                   "phosphobs.collector.submit", "phosphobs.api"}) for name in reached), reached


def test_importing_the_exporters_loads_nothing_of_the_server() -> None:
    probe = (
        "import sys, phosphobs.exporters\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'fastapi', 'uvicorn', 'starlette', 'sqlite3',"
        " 'psycopg', 'grpc', 'pydantic'} or m.startswith(('phosphobs.api', 'phosphobs.storage',"
        " 'phosphobs.collector')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip() == "[]"


def test_every_setting_is_documented_in_the_readme() -> None:
    from dataclasses import fields

    from phosphobs.api.settings import ENV_PREFIX, Settings

    readme = (ROOT / "README.md").read_text()
    missing = [f.name for f in fields(Settings) if f"{ENV_PREFIX}{f.name.upper()}" not in readme]
    assert missing == []


# Inside storage/: the shared SQL core knows no backend (nor any driver); a backend uses the core and the
# shared records, never the other backend; the records know neither. Only the registry names backends.
STORAGE_RECORDS = {f"phosphobs.storage.{m}" for m in (
    "models", "protocol", "rows", "sessions", "session_delta", "usage_facts", "enrichment", "dashboard_records",
    "clock", "detection_records", "flags", "calls", "call_links", "pricing", "trace_records")}
STORAGE_LAYERS = {
    "sql": STORAGE_RECORDS | {"phosphobs.storage.sql"},
    "sqlite": STORAGE_RECORDS | {"phosphobs.storage.sql", "phosphobs.storage.sqlite", "phosphobs.storage.registry"},
    "postgres": STORAGE_RECORDS | {"phosphobs.storage.sql", "phosphobs.storage.postgres",
                                   "phosphobs.storage.registry"},
}
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool"}


@pytest.mark.parametrize("layer", [*STORAGE_LAYERS, "records"])
def test_storage_imports_follow_the_layers(layer: str) -> None:
    if layer == "records":
        paths, allowed = [ROOT / "storage" / (n.rsplit(".", 1)[1] + ".py") for n in STORAGE_RECORDS], STORAGE_RECORDS
    else:
        paths, allowed = list((ROOT / "storage" / layer).rglob("*.py")), STORAGE_LAYERS[layer]
    assert paths
    for path in paths:
        for name in phosphobs_imports(path):
            assert any(name == a or name.startswith(a + ".") for a in allowed), (
                f"{path.relative_to(ROOT)} imports {name}")
        if layer in ("sql", "records"):
            drivers = {n.split(".")[0] for n in all_imports(path)} & DRIVERS
            assert not drivers, f"{path.relative_to(ROOT)} imports the driver {drivers}"

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
                  "phosphobs.storage.enrichment"},
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
    "models", "protocol", "rows", "sessions", "session_delta", "usage_facts", "enrichment", "dashboard_records")}
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

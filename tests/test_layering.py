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
                  "phosphobs.storage.enrichment", "phosphobs.storage.calls", "phosphobs.storage.pricing"},
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


def phosphobs_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n.startswith("phosphobs")}


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

"""Throwaway, cached environments for the real libraries: one Python venv or node folder per pinned set.

Each environment lives under `~/.cache/phosphobs-interop/<name>-<hash of its pins>` (override with
`PHOSPHOBS_INTEROP_CACHE`), is built once from PyPI / npm with the ordinary clients, and is marked complete
only after the install succeeded, so a half-built folder is rebuilt rather than trusted. Building holds an
exclusive lock on `<folder>.lock`: two runs sharing the cache (two checkouts, two CI jobs) wait for each other
instead of deleting each other's half-built environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: there one run at a time
    fcntl = None  # type: ignore[assignment]

INSTALL_TIMEOUT_S = 1800


def cache_root() -> Path:
    return Path(os.environ.get("PHOSPHOBS_INTEROP_CACHE") or Path.home() / ".cache" / "phosphobs-interop")


def key_of(runtime: str, pins: tuple[str, ...]) -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}" if runtime == "python" else "node"
    return hashlib.sha256(json.dumps([runtime, version, sorted(pins)]).encode()).hexdigest()[:12]


def _prune(folder: Path) -> None:
    """Environments of the same name built from older pins are dead weight once the new one is complete."""
    name = folder.name.rsplit("-", 1)[0]
    for old in folder.parent.glob(f"{name}-*"):
        if old != folder and old.is_dir() and old.name.rsplit("-", 1)[0] == name:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _building(folder: Path) -> Iterator[None]:
    """Exclusive use of `folder` while it is checked, built or pruned."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def python_env(name: str, install_args: tuple[str, ...], key_pins: tuple[str, ...]) -> Path:
    """A venv built with `pip install *install_args`, cached by `key_pins`; returns its python executable."""
    folder = cache_root() / f"{name}-{key_of('python', key_pins)}"
    python = folder / "bin" / "python"
    with _building(folder):
        if (folder / ".complete").is_file():
            return python
        shutil.rmtree(folder, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(folder)])
        _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *install_args])
        freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--disable-pip-version-check"],
                                capture_output=True, text=True, check=True).stdout
        (folder / "freeze.txt").write_text(freeze)
        (folder / ".complete").write_text("\n".join(install_args) + "\n")
        _prune(folder)
    return python


def node_env(name: str, pins: tuple[str, ...]) -> Path:
    """A node folder with `pins` (`pkg@version`) in node_modules; returns the folder."""
    folder = cache_root() / f"{name}-{key_of('node', pins)}"
    with _building(folder):
        if (folder / ".complete").is_file():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"name": f"interop-{name}", "private": True,
                                                         "type": "module"}))
        _run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--save-exact", *pins], cwd=folder)
        (folder / ".complete").write_text("\n".join(pins) + "\n")
        _prune(folder)
    return folder


def installed_versions(runtime: str, env: Path) -> dict[str, str]:
    """What the environment really holds (recorded beside each capture)."""
    if runtime == "python":
        freeze = (env.parent.parent / "freeze.txt").read_text()
        return dict(line.split("==", 1) for line in freeze.splitlines() if "==" in line)
    lock = json.loads((env / "package-lock.json").read_text())
    return {path.removeprefix("node_modules/"): info["version"]
            for path, info in lock.get("packages", {}).items()
            if path.startswith("node_modules/") and "version" in info and path.count("node_modules/") == 1}

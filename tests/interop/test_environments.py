"""The interop environment cache is safe to share: concurrent runs wait for one build instead of deleting
each other's half-built environment (two checkouts or CI jobs on one machine)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.interop import environments


def test_concurrent_builds_of_one_environment_share_one_complete_build(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOSPHOBS_INTEROP_CACHE", str(tmp_path))
    # `pip install pip` is already satisfied (no download): the cost is the venv itself
    with ThreadPoolExecutor(3) as pool:
        pythons = list(pool.map(lambda _: environments.python_env("race", ("pip",), ("race-pin",)), range(3)))
    assert len(set(pythons)) == 1 and pythons[0].exists()
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (folder / ".complete").is_file() and (folder / "freeze.txt").is_file()

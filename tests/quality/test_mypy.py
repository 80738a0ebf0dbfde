"""mypy finds no type errors in tagger/, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_mypy_finds_nothing(tmp_path: Path) -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")
    # A cache of its own: a fresh clone needs nothing prepared and the checkout stays clean;
    # a cold run takes about five CPU seconds.
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"mypy (files and settings from pyproject.toml):\n{done.stdout}{done.stderr}", pytrace=False)

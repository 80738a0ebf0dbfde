"""ruff finds nothing: lint and import order, as configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKED = ["tagger", "ui", "tests", "benchmarks", "packaging"]


def test_ruff_finds_nothing() -> None:
    pytest.importorskip("ruff", reason="ruff is not installed (pip install '.[test]')")
    # --no-cache: a checkout stays free of .ruff_cache, and ruff takes well under a second anyway.
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           *CHECKED], cwd=REPO, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"ruff check {' '.join(CHECKED)}:\n{done.stdout}{done.stderr}", pytrace=False)

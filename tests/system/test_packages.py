"""The wheel works on its own: packaging/check_wheel.py builds the wheel and sdist,
checks them with twine, installs the wheel into a fresh virtual environment and runs
``suggest --demo`` and the tests there, with no source tree beside it.

Minutes long and pip needs a package index, so it is deselected by default: run it
with ``pytest -m packaging``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.paths import REPO

CHECK_WHEEL = REPO / "packaging" / "check_wheel.py"

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.skipif(not CHECK_WHEEL.is_file(), reason=f"no source tree here: {CHECK_WHEEL} is absent"),
]


def test_the_wheel_installs_and_passes_the_tests_alone():
    for tool in ("build", "twine"):
        pytest.importorskip(tool, reason=f"{tool} is not installed (pip install build twine)")
    result = subprocess.run([sys.executable, str(CHECK_WHEEL)], capture_output=True, text=True, timeout=3 * 3600)
    print(result.stdout)  # the figures: wheel size, files, suggest --demo, test counts (shown with -s)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]

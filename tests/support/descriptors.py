"""The descriptors a test leaves open, for the locks that must be let go."""

from __future__ import annotations

import os
from pathlib import Path


def descriptors_within(*folders: Path) -> int:
    """How many of this process's descriptors are open on ``folders`` or on files in them.
    Only these are counted: other tests' threads open and close descriptors at any time."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
        count += any(target == folder or folder in target.parents for folder in folders)
    return count

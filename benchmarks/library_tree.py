"""Shared by the benchmarks: spread a few seed files over a big artist/album tree."""

from __future__ import annotations

import os
from pathlib import Path


def link_tree(seeds: list[Path], library: Path, count: int, per_artist: int, per_album: int = 20) -> None:
    """``count`` hard links to ``seeds``, in turn, named like a tagged collection, so a
    library of 100,000 files costs the disk space of its seeds."""
    for i in range(count):
        seed = seeds[i % len(seeds)]
        path = library / f"artist {i // per_artist:03d}" / f"album {i // per_album:05d}" / f"{i:06d} track{seed.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.link(seed, path)

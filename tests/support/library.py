"""A library of small tagged files for the tests that write many at once."""

from __future__ import annotations

from pathlib import Path

import mutagen
import numpy as np
import soundfile as sf


def make_library(folder: Path, count: int) -> list[Path]:
    """``count`` short MP3 and FLAC files, alternately, each with the genre "Original" and a title."""
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.{'flac' if i % 2 else 'mp3'}"
        sf.write(path, 0.1 * rng.standard_normal((4410, 1)).astype(np.float32), 44100)
        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        if path.suffix == ".flac":
            audio.tags["GENRE"] = ["Original"]
            audio.tags["TITLE"] = [f"track {i}"]
        else:
            from mutagen.id3 import TCON, TIT2

            audio.tags.add(TCON(encoding=3, text=["Original"]))
            audio.tags.add(TIT2(encoding=3, text=[f"track {i}"]))
        audio.save()
        paths.append(path)
    return paths

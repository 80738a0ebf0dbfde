"""Finding audio files under the paths a user gives, one event at a time.

Paths named directly are taken whatever their extension; folders are walked
recursively for files with an audio extension. Problems (a missing path, an
unreadable folder, a symlink loop, a FIFO or device, a folder without audio) are
events too, so a caller reports them and carries on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tagger.files.atomic import TEMP_PREFIX
from tagger.files.regular import irregular_file

AUDIO_EXTENSIONS = frozenset(
    ".mp3 .mp2 .flac .ogg .oga .opus .spx .m4a .m4b .mp4 .aac .alac .wav .wave .w64 .aif .aiff .aifc "
    ".wma .asf .ape .wv .mpc .tta .dsf .dff .mka .webm .caf .au".split()
)


@dataclass(frozen=True)
class ScanEvent:
    """Either an audio file to analyse (``problem`` is None) or a problem at ``path``."""

    path: Path
    problem: str | None = None


def is_audio_name(name: str) -> bool:
    # A write interrupted by a crash can leave its temporary copy behind.
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS and not name.startswith(TEMP_PREFIX)


def scan(roots: Iterable[Path]) -> Iterator[ScanEvent]:
    visited: set[tuple[int, int]] = set()
    for root in roots:
        try:
            is_dir = root.is_dir()
            exists = is_dir or root.exists() or root.is_symlink()
        except OSError as e:
            yield ScanEvent(root, e.strerror or str(e))
            continue
        if not exists:
            yield ScanEvent(root, "no such file or folder")
        elif is_dir:
            yield from scan_folder(root, visited)
        else:
            yield ScanEvent(root, irregular_file(root))


def scan_folder(root: Path, visited: set[tuple[int, int]]) -> Iterator[ScanEvent]:
    found_audio = False
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as e:
            yield ScanEvent(folder, f"cannot read folder: {e.strerror or e}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            yield ScanEvent(folder, "skipped: this folder was already scanned (a symlink loop or a second link to it)")
            continue
        visited.add(key)
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name.casefold())
        except OSError as e:
            yield ScanEvent(folder, f"cannot read folder: {e.strerror or e}")
            continue
        subfolders = []
        for entry in listing:
            try:
                if entry.is_dir():
                    subfolders.append(Path(entry.path))
                elif is_audio_name(entry.name):
                    if entry.is_file():
                        found_audio = True
                        yield ScanEvent(Path(entry.path))
                    elif problem := irregular_file(entry.path):
                        # Named like audio, so the person may expect it read: say why it is not.
                        yield ScanEvent(Path(entry.path), problem)
            except OSError as e:
                yield ScanEvent(Path(entry.path), e.strerror or str(e))
        stack.extend(reversed(subfolders))
    if not found_audio:
        yield ScanEvent(root, "no audio files found in this folder")

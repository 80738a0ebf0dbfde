"""What other programs show as a file's genre and title: FFmpeg (through PyAV, and the
system's ffprobe), TagLib (through kid3-cli) and exiftool, each as it shows them by default.

A reader gives "" for a field it shows nothing for; the readers other than PyAV give None
where their program is not installed. Used by tests/tags/test_readers.py and
benchmarks/reader_table.py, so that the test and the docs' table read files the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Where readers join several values, and where a joined value holds several genres.
SHOWN_SEPARATORS = re.compile(r"\s*(?:[;,/|]|\x00)\s*")


@dataclass(frozen=True)
class Shown:
    """The genre and the title a reader shows for a file; "" where it shows none."""

    genre: str
    title: str


def pyav_shows(path: Path) -> Shown:
    """What FFmpeg gives PyAV: the container's tags, else the audio stream's (Ogg keeps its
    comments there). Where FFmpeg holds a key twice, PyAV keeps the last."""
    import av

    with av.open(os.fspath(path)) as container:
        dictionaries = [container.metadata, *(stream.metadata for stream in container.streams)]
    return Shown(*(next((value for tags in dictionaries for key, value in tags.items() if key.lower() == name), "")
                   for name in ("genre", "title")))


def ffprobe_shows(path: Path) -> Shown | None:
    """What the system's ffprobe prints in the container's section, else a stream's; a key
    printed twice shows as both values joined with " | "."""
    if shutil.which("ffprobe") is None:
        return None
    out = _run(["ffprobe", "-v", "error", "-show_format", "-show_streams", os.fspath(path)])
    sections = re.split(r"^\[/?(?:FORMAT|STREAM)\]$", out, flags=re.MULTILINE)
    format_first = sorted(sections, key=lambda section: "format_name=" not in section)

    def shown(name: str) -> str:
        for section in format_first:
            values = [line.split("=", 1)[1] for line in section.splitlines() if line.lower().startswith(f"tag:{name}=")]
            if values:
                return " | ".join(values)
        return ""

    return Shown(shown("genre"), shown("title"))


def kid3_shows(path: Path) -> Shown | None:
    """What kid3-cli's ``get`` prints: the file's main tag (kid3's tag 2), else its ID3v1 tag."""
    if shutil.which("kid3-cli") is None:
        return None
    commands = [arg for name in ("genre", "title") for arg in ("-c", json.dumps({"method": "get", "params": [name]}))]
    out, results = _run(["kid3-cli", *commands, os.fspath(path)]).strip(), []
    decoder = json.JSONDecoder()
    while out:  # one JSON answer a command
        answer, end = decoder.raw_decode(out)
        results.append(answer.get("result") or "")
        out = out[end:].strip()
    return Shown(*results) if len(results) == 2 else Shown("", "")


def exiftool_shows(path: Path) -> Shown | None:
    """The one Genre and Title exiftool prints by default, each from the tag it ranks first;
    a list as exiftool prints it, joined with ", "."""
    if shutil.which("exiftool") is None:
        return None
    (found,) = json.loads(_run(["exiftool", "-j", "-Genre", "-Title", os.fspath(path)]) or "[{}]")

    def shown(name: str) -> str:
        value = found.get(name, "")
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    return Shown(shown("Genre"), shown("Title"))


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60,
                          env={**os.environ, "LC_ALL": "C.UTF-8"}).stdout


READERS: dict[str, Callable[[Path], Shown | None]] = {
    "FFmpeg (PyAV)": pyav_shows,
    "ffprobe": ffprobe_shows,
    "TagLib (kid3-cli)": kid3_shows,
    "exiftool": exiftool_shows,
}


def shown_genres(shown: str) -> list[str]:
    """The genres in what a reader shows, in its order: its text split where readers join values."""
    return [part for part in SHOWN_SEPARATORS.split(shown.strip()) if part]


def versions() -> dict[str, str]:
    """Each reader's version, or "not installed"."""
    import av

    found = {"FFmpeg (PyAV)": f"FFmpeg {av.ffmpeg_version_info} in PyAV {av.__version__}"}
    for name, command, pattern in [("ffprobe", ["ffprobe", "-version"], r"ffprobe version (\S+)"),
                                   ("TagLib (kid3-cli)", ["kid3-cli", "--help"], r"kid3-cli (\S+)"),
                                   ("exiftool", ["exiftool", "-ver"], r"(\S+)")]:
        if shutil.which(command[0]) is None:
            found[name] = "not installed"
        else:
            match = re.search(pattern, _run(command))
            found[name] = match.group(1) if match else "unknown version"
    return found

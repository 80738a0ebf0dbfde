"""What the commands print: the streams, the suggestion table, JSON Lines, result lines
and their summary, the progress line and log messages."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tagger.genres.suggestion import STANDOUT_DESCRIPTOR, Source
from tagger.text import printable, write_lines
from tagger.writing.writer import SUCCEEDED


class Output:
    """Standard output or error whose reader may go away (`genre-tagger ... | head`).

    A write after that is dropped instead of raising BrokenPipeError, and ``broken``
    says so: a write batch goes on to its end, ``suggest`` stops. The descriptor is
    pointed at /dev/null, so Python's own flush at exit finds nothing to complain
    about ("Exception ignored ... BrokenPipeError")."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self.stream.write(text)
            except OSError as e:
                self._failed(e)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, error: OSError) -> None:
        if not isinstance(error, BrokenPipeError) and error.errno != errno.EPIPE:
            raise error
        self.broken_pipe()

    def broken_pipe(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError):  # a stream without a descriptor (a test's capture)
            pass

    def isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


# json.dumps escapes C0 controls, but without ensure_ascii it leaves DEL and the C1 controls
# raw, and U+009B starts a terminal command as ESC [ does. Those characters occur only
# inside JSON strings, so as \u escapes the values stay exact.
JSON_CONTROL_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def json_line(record: dict[str, Any]) -> str:
    """``record`` as one line of JSON that is safe to print to a terminal."""
    line = json.dumps(record, ensure_ascii=False).translate(JSON_CONTROL_ESCAPES)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # A file name that is not valid UTF-8 (surrogate-escaped by Python) cannot be
        # written raw; \u escapes keep the line valid JSON that round-trips in Python.
        line = json.dumps(record)
    return line


class Table:
    """The plain, human-readable output."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.width = shutil.get_terminal_size((100, 20)).columns

    def album(self, record: dict[str, Any]) -> None:
        write = self.out.write
        write(printable(f"{record['album']}  ({len(record['tracks'])} track(s))") + "\n")
        write("    album: " + (genre_line(record["genres"]) or "no genre above the confidence threshold") + "\n")
        for track in record["tracks"]:
            self.row(track, indent="    ")

    def row(self, record: dict[str, Any], indent: str = "") -> None:
        write = self.out.write
        write(indent + printable(record["path"]) + "\n")
        indent += "    "
        if record["status"] == "error":
            write(indent + printable(f"error: {record['error']}") + "\n")
            return
        if not record["music_detected"]:
            write(f"{indent}{record['message']}\n")
        elif record["genres"]:
            write(indent + genre_line(record["genres"]) + "\n")
        else:
            write(f"{indent}no genre above the confidence threshold\n")
        if record["music_detected"] and record.get("message"):
            write(indent + printable(record["message"]) + "\n")
        details = []
        standout = [d for d in record["descriptors"] if d["confidence"] >= STANDOUT_DESCRIPTOR]
        if standout:
            details.append("sounds: " + ", ".join(d["descriptor"] for d in standout[:5]))
        details.append("now tagged: " + (", ".join(record["current_genres"]) or "(no genre)"))
        write(indent + printable(" | ".join(details)) + "\n")


def genre_line(genres: list[dict[str, Any]]) -> str:
    """Genres with their confidence; where sources mix, each but the learned ones says
    what vouched for it most (base, album, artist, folder)."""
    mixed = len({g["source"] for g in genres}) > 1
    marked = [f"{g['genre']} {g['confidence']:.0%}"
              + (f" ({g['source']})" if mixed and g["source"] != Source.LEARNED else "") for g in genres]
    return printable("   ".join(marked))


def emit(record: dict[str, Any], as_json: bool, out: TextIO) -> None:
    """A write command's result for one file: a JSON line, or its status, path, genres and message."""
    if as_json:
        out.write(json_line(record) + "\n")
    else:
        lines = [f"{record['status']:<9} {record['path']}"]
        if "new_genres" in record and record["status"] in SUCCEEDED:
            lines.append(f"          {', '.join(record['old_genres']) or '(no genre)'} -> "
                         f"{', '.join(record['new_genres']) or '(no genre)'}")
        detail = record.get("error") or record.get("message")
        if detail:
            lines.append(f"          {detail}")
        write_lines(out, lines)
    out.flush()


def summarise(records: Sequence[dict[str, Any]], err: TextIO) -> Counter[str]:
    """Write how many files ended in each status, in the order they first occurred, and return the counts."""
    counts = Counter(record["status"] for record in records)
    err.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n" if counts else "nothing to do\n")
    return counts


class ProgressLine:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.started = 0
        self.enabled = err.isatty()

    def start(self, path: Path) -> None:
        self.started += 1
        if self.enabled:
            line = f"[{self.started}] {path.name}"
            self.err.write("\r" + printable(line)[:79].ljust(79))
            self.err.flush()

    def clear(self) -> None:
        if self.enabled:
            self.err.write("\r" + " " * 79 + "\r")
            self.err.flush()


class CurrentStderrHandler(logging.StreamHandler):
    """Logs to whatever ``sys.stderr`` is when a record comes (DecoderNoteFilter swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(TerminalFormatter("genre-tagger: %(message)s"))

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        if not isinstance(sys.exc_info()[1], BrokenPipeError):  # stderr gone: nowhere to tell
            super().handleError(record)


class TerminalFormatter(logging.Formatter):
    """Messages name files and folders, so they are printable; a traceback keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

"""The ``genre-tagger`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from tagger import __version__
from tagger.analysis import Analysis, FileResult
from tagger.excerpt import Depth
from tagger.model import DEVICES, PRECISIONS
from tagger.resources import samples_dir
from tagger.scan import ScanEvent, scan
from tagger.tags import TagReadError, read_current_genres

# Descriptors are shown only with clear evidence: well above a typical track's level.
DESCRIPTOR_MIN_CONFIDENCE = 0.5
EXIT_OK, EXIT_FILE_ERRORS, EXIT_USAGE = 0, 1, 2


def confidence(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genre-tagger", description="Suggest genre tags for music files with a bundled neural model."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    suggest = commands.add_parser(
        "suggest", help="analyse files or folders and print genre suggestions (writes nothing)",
        description="Analyse audio files (folders are scanned recursively) and print genre suggestions.",
    )
    suggest.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="audio files or folders")
    suggest.add_argument("--demo", action="store_true", help="analyse the bundled demo samples")
    suggest.add_argument("--json", action="store_true", help="print JSON Lines, one object per file")
    suggest.add_argument("--top", type=positive_int, default=3, metavar="K", help="genres per file (default 3)")
    suggest.add_argument(
        "--min-confidence", type=confidence, default=0.0, metavar="X",
        help="hide genres below this confidence, 0..1 (default 0)",
    )
    suggest.add_argument(
        "--depth", choices=[d.value for d in Depth], default=Depth.FAST.value,
        help="fast: a few patches across the track (default); full: every 3 s patch",
    )
    suggest.add_argument("--device", choices=DEVICES, default="auto", help="where inference runs (default auto)")
    suggest.add_argument(
        "--precision", choices=PRECISIONS, default="auto",
        help="model weights: int8 is 1.5x faster on CPUs, fp32 exact (default auto: int8 on CPU, fp32 on GPU)",
    )
    suggest.add_argument("--threads", type=positive_int, help="files analysed at once (default: CPU cores)")
    suggest.add_argument("-v", "--verbose", action="store_true", help="log which execution provider is used")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "suggest":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    paths = list(args.paths)
    if args.demo:
        paths.append(samples_dir())
    if not paths:
        print("genre-tagger suggest: give at least one PATH, or --demo", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="genre-tagger: %(message)s"
    )
    return run_suggest(args, paths, sys.stdout, sys.stderr)


def run_suggest(args: argparse.Namespace, paths: list[Path], out: TextIO, err: TextIO) -> int:
    from tagger.analysis import Analyzer

    events = list(scan(paths))
    files = [e.path for e in events if e.problem is None]
    analyzer = Analyzer(device=args.device, threads=args.threads, precision=args.precision)
    progress = Progress(err, len(files))
    table = None if args.json else Table(out)
    failures = 0
    started = time.perf_counter()
    for record in suggest_records(events, analyzer.analyse_many(files, Depth(args.depth), progress.start), args):
        failures += record["status"] == "error"
        progress.clear()
        if table:
            table.row(record)
        else:
            out.write(json_line(record) + "\n")
        out.flush()
    progress.clear()
    elapsed = time.perf_counter() - started
    err.write(
        f"{len(files)} file(s) analysed in {elapsed:.1f} s on {analyzer.models.provider} "
        f"({analyzer.models.precision}), "
        f"{failures} problem(s)\n"
    )
    return EXIT_FILE_ERRORS if failures else EXIT_OK


def suggest_records(
    events: list[ScanEvent], results: Iterator[FileResult], args: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    """One record per scan problem and per analysed file, in scan order."""
    for event in events:
        if event.problem is not None:
            yield {"path": str(event.path), "status": "error", "error": event.problem}
            continue
        result = next(results)
        if result.error is not None:
            yield {"path": str(result.path), "status": "error", "error": result.error}
        else:
            yield analysis_record(result.analysis, args.top, args.min_confidence)


def analysis_record(analysis: Analysis, top: int, min_confidence: float) -> dict[str, Any]:
    try:
        current: list[str] | None = read_current_genres(analysis.path)
        tag_error = None
    except TagReadError as e:
        current, tag_error = [], str(e)
    record: dict[str, Any] = {
        "path": str(analysis.path),
        "status": "ok",
        "genres": [
            {"genre": g.genre, "confidence": round(g.confidence, 3), "family": g.family}
            for g in analysis.genres[:top]
            if g.confidence >= min_confidence
        ],
        "descriptors": [
            {"descriptor": d.name, "kind": d.kind, "confidence": round(d.confidence, 3)}
            for d in analysis.descriptors
            if d.confidence >= DESCRIPTOR_MIN_CONFIDENCE
        ],
        "current_genres": current,
        "music_detected": analysis.music_detected,
        "duration_s": round(analysis.duration_s, 2),
        "depth": analysis.depth.value,
        "segments": [
            {"start_s": round(s.start_s, 2), "end_s": round(s.end_s, 2),
             "genre": s.genres[0].genre, "confidence": round(s.genres[0].confidence, 3)}
            for s in analysis.segments
        ],
        "models": [f"{m.name} {m.version}" for m in analysis.models],
        "provider": analysis.provider,
        "seconds": round(analysis.timings.total_s, 3),
    }
    if not analysis.music_detected:
        record["message"] = "no music detected (silence or near-silence)"
    if tag_error:
        record["tag_error"] = tag_error
    return record


def json_line(record: dict[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False)
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

    def row(self, record: dict[str, Any]) -> None:
        write = self.out.write
        write(printable(record["path"]) + "\n")
        if record["status"] == "error":
            write(f"    error: {record['error']}\n")
            return
        if not record["music_detected"]:
            write(f"    {record['message']}\n")
        elif record["genres"]:
            write("    " + "   ".join(f"{g['genre']} {g['confidence']:.0%}" for g in record["genres"]) + "\n")
        else:
            write("    no genre above the confidence threshold\n")
        details = []
        if record["descriptors"]:
            details.append("sounds: " + ", ".join(d["descriptor"] for d in record["descriptors"][:5]))
        details.append("now tagged: " + (", ".join(record["current_genres"]) or "(no genre)"))
        write("    " + printable(" | ".join(details)) + "\n")


def printable(text: str) -> str:
    """Text safe to print whatever the terminal's encoding and the file name's bytes."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding, "replace")


class Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, err: TextIO, total: int) -> None:
        self.err = err
        self.total = total
        self.started = 0
        self.enabled = err.isatty()

    def start(self, path: Path) -> None:
        self.started += 1
        if self.enabled:
            line = f"[{self.started}/{self.total}] {path.name}"
            self.err.write("\r" + printable(line)[:79].ljust(79))
            self.err.flush()

    def clear(self) -> None:
        if self.enabled:
            self.err.write("\r" + " " * 79 + "\r")
            self.err.flush()


if __name__ == "__main__":
    sys.exit(main())

"""``set``: write the given genres into files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.batches import new_batch, write_batch
from tagger.cli.options import add_write_options
from tagger.files.scan import ScanEvent, scan
from tagger.writing.writer import GenreWriter, WriteRequest, provenance_text


def add_parser(commands: Any) -> None:
    set_ = commands.add_parser("set", help="write the given genres into files",
                               description="Write genres into audio files (journalled, undoable).")
    set_.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    set_.add_argument("--genre", action="append", required=True, metavar="NAME", help="a genre; repeat for more")
    set_.add_argument("-v", "--verbose", action="store_true", help="show decoders' notes on damaged files")
    add_write_options(set_)
    set_.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def requests(writer: GenreWriter, records: list[dict[str, Any]]) -> list[WriteRequest]:
        events = list(scan(args.paths))
        records += [problem_record(e) for e in events if e.problem]
        provenance = None if args.no_provenance else provenance_text({"source": "set"})
        return [WriteRequest(e.path, args.genre, provenance=provenance) for e in events if not e.problem]

    return write_batch(args, out, err, new_batch(args, requests))


def problem_record(event: ScanEvent) -> dict[str, Any]:
    return {"path": str(event.path), "status": "error", "error": event.problem}

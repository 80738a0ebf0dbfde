"""``undo``: restore the genres a batch replaced."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.batches import write_batch
from tagger.cli.options import add_batch_argument, add_write_options
from tagger.library.cleanup import undo_batch
from tagger.text import printable
from tagger.writing.journal import when
from tagger.writing.writer import GenreWriter, WriteResult


def add_parser(commands: Any) -> None:
    undo = commands.add_parser("undo", help="restore the genres a batch replaced (default: the last one)",
                               description="Restore the genres a batch replaced (default: the last one).")
    add_batch_argument(undo)
    undo.add_argument("--root", type=Path, metavar="FOLDER",
                      help="the folder that held the batch's files was moved or renamed to FOLDER")
    add_write_options(undo, dry_run=False)
    undo.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def results(writer: GenreWriter, records: list[dict[str, Any]]) -> Iterable[WriteResult]:
        summary = writer.batch_to_undo(args.batch)
        err.write(printable(f"undoing batch {summary.id} ({summary.command}, {when(summary.created)}, "
                            f"{summary.files} file(s))") + "\n")
        return undo_batch(writer, summary.id, args.root)

    return write_batch(args, out, err, results)

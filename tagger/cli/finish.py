"""``finish``: finish an interrupted batch."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagger.cli.batches import write_batch
from tagger.cli.options import add_batch_argument, add_write_options


def add_parser(commands: Any) -> None:
    finish = commands.add_parser("finish", help="finish an interrupted batch (default: the last one)",
                                 description="Finish an interrupted batch (default: the last one).")
    add_batch_argument(finish)
    add_write_options(finish, dry_run=False)
    finish.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return write_batch(args, out, err, lambda writer, records: writer.finish(args.batch))

"""``history``: list the batches of writes in the undo journal."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagger.cli.batches import open_journal
from tagger.cli.options import EXIT_OK
from tagger.cli.output import json_line
from tagger.text import printable
from tagger.writing.journal import BatchState, when


def add_parser(commands: Any) -> None:
    history = commands.add_parser("history", help="list the batches of writes in the undo journal")
    history.add_argument("--json", action="store_true", help="print JSON Lines, one object per batch")
    history.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    journal = open_journal(err)
    batches = journal.batches()
    if not batches and not args.json:
        out.write("the undo journal is empty\n")
    for batch in batches:
        if args.json:
            out.write(json_line({"batch": batch.id, "time": when(batch.created), "command": batch.command,
                                 "mode": batch.mode, "state": batch.state, "files": batch.counts}) + "\n")
        else:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(batch.counts.items())) or "no files"
            unfinished = "" if batch.state is BatchState.DONE else "  UNFINISHED"
            out.write(printable(f"{batch.id:>5}  {when(batch.created)}  {batch.mode:<7}  {counts}  "
                                f"({batch.command}){unfinished}") + "\n")
    journal.close()
    return EXIT_OK

"""``journal recover``: bring back the readable batches of a damaged undo journal."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.batches import open_journal
from tagger.cli.options import EXIT_FILE_ERRORS, EXIT_OK, EXIT_USAGE
from tagger.text import printable, write_lines
from tagger.writing.journal import damaged_journals


def add_parser(commands: Any) -> None:
    journal = commands.add_parser("journal", help="recover the batches of a damaged undo journal",
                                  description="A damaged undo journal is set aside when a command finds it; "
                                              "'recover' brings its readable batches back, so undo works for them.")
    actions = journal.add_subparsers(dest="action", metavar="ACTION", required=True)
    recover = actions.add_parser("recover", help="copy the readable batches of a set-aside journal into the "
                                                 "current one (default: the newest set aside)")
    recover.add_argument("damaged", nargs="?", type=Path, metavar="FILE", help="a journal set aside as damaged")
    journal.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagger.writing.recovery import recover

    journal = open_journal(err)
    try:
        damaged = args.damaged
        if damaged is None:
            candidates = damaged_journals(journal.path)
            if not candidates:
                err.write("genre-tagger journal recover: no journal has been set aside as damaged\n")
                return EXIT_USAGE
            damaged = candidates[-1]
        if not damaged.is_file():
            err.write(printable(f"genre-tagger journal recover: {damaged} is not a file") + "\n")
            return EXIT_USAGE
        recovery = recover(damaged, journal)
    finally:
        journal.close()
    lines = [f"batch {old} of the damaged journal is now batch {new}" for old, new in recovery.batches.items()]
    lines.append(f"recovered {len(recovery.batches)} batch(es) with {recovery.entries} file(s) from {damaged}")
    if recovery.lost_entries:
        lines.append(f"{recovery.lost_entries} file(s) belonged to batches that could not be read")
    lines += [f"unreadable: {part}" for part in recovery.unreadable]
    if recovery.found_anything:
        # Recovered once: the next plain 'recover' must not add the same batches again.
        done = damaged.with_name(damaged.name.replace(".damaged-", ".recovered-"))
        damaged.rename(done)
        lines.append(f"the damaged journal is kept as {done}")
    write_lines(out, lines)
    return EXIT_OK if recovery.found_anything or not recovery.unreadable else EXIT_FILE_ERRORS

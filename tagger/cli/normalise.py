"""``normalise``: tidy the genres a library holds, as one undoable batch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.options import add_write_options, multi_value_help
from tagger.cli.rewrite import rewrite
from tagger.library.cleanup import (
    CleanupRules,
    FileGenres,
    GenreOverview,
    GenrePlan,
    Target,
)
from tagger.tags import MultiValue


def add_parser(commands: Any) -> None:
    normalise = commands.add_parser(
        "normalise", aliases=["normalize"], help="tidy the genres a library holds, as one undoable batch",
        description="Give each genre one spelling, name numeric ID3 codes, split joined values whose parts are "
                    "all known genres, and drop duplicates, keeping each file's order. One batch: "
                    "'genre-tagger undo' restores every file.")
    normalise.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    normalise.add_argument("--to", choices=[t.value for t in Target], default=Target.LIBRARY.value,
                           help="library: each genre's most common spelling in these files (default); "
                                "canonical: the vocabulary's spelling")
    normalise.add_argument("--drop-junk", action="store_true",
                           help="remove values that are no genre (Other, Unknown, URLs, empty ones)")
    normalise.add_argument("--split", action=argparse.BooleanOptionalAction, default=True,
                           help="split values such as Rock/Pop whose parts are all known genres (default: split)")
    normalise.add_argument("--multi-value", choices=[m.value for m in MultiValue],
                           help="also convert how several genres are stored (default: keep each file's way); "
                                + multi_value_help("separate: one value per genre"))
    add_write_options(normalise, given_genres=False)
    normalise.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    multi_value = MultiValue(args.multi_value) if args.multi_value else None
    rules = CleanupRules(Target(args.to), args.drop_junk, args.split, multi_value)

    def tidy(overview: GenreOverview, files: list[FileGenres]) -> list[GenrePlan]:
        planner = overview.planner(rules)
        return [planner.plan(f) for f in files]

    return rewrite(args, out, err, "normalise", tidy)

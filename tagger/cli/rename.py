"""``rename``: rename a genre, or merge it into another, across the files, as one undoable batch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.options import add_write_options
from tagger.cli.rewrite import rewrite
from tagger.files.state import StateError, check_savable
from tagger.genres.vocabulary import user_aliases_path
from tagger.library.cleanup import CleanupRules, FileGenres, GenreOverview, GenrePlan


def add_parser(commands: Any) -> None:
    rename = commands.add_parser(
        "rename", help="rename a genre, or merge it into another, across the files, as one undoable batch",
        description="Replace OLD, in any spelling, with NEW in every file that has it; a file with both keeps "
                    "one. Genre Tagger remembers that OLD means NEW for later suggestions, learning and cleanup.")
    rename.add_argument("old", metavar="OLD", help="the genre to rename")
    rename.add_argument("new", metavar="NEW", help="its new name, or the genre to merge it into")
    rename.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    add_write_options(rename, given_genres=False)
    rename.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not args.dry_run:
        # The alias is saved after the files are written: a config folder that cannot take it
        # would leave the files renamed and the rename forgotten.
        try:
            check_savable("the genre aliases", user_aliases_path())
        except StateError as e:
            raise StateError(f"{e}; nothing was renamed") from e

    def renamed(overview: GenreOverview, files: list[FileGenres]) -> list[GenrePlan]:
        planner = overview.planner(CleanupRules())
        return [planner.rename(f, args.old, args.new) for f in files]

    return rewrite(args, out, err, f"rename {args.old} -> {args.new}", renamed, alias=(args.old, args.new))

"""``genres``: list the genres a library holds, with their variants and problems."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.cli.options import EXIT_FILE_ERRORS, EXIT_OK, add_separator
from tagger.cli.output import json_line
from tagger.library.cleanup import (
    FileGenres,
    GenreGroup,
    GenreOverview,
    Storage,
    survey,
)
from tagger.tags import MULTI_VALUE_NOTES, MultiValue
from tagger.text import write_lines


def add_parser(commands: Any) -> None:
    genres = commands.add_parser(
        "genres", help="list the genres a library holds, with their variants and problems (reads tags only)",
        description="List every distinct genre in the files: how many files have it, its variants, its "
                    "canonical name and family, and flags (junk, numeric, joined). No audio is analysed.")
    genres.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    genres.add_argument("--json", action="store_true",
                        help="print one JSON object: the genres, how each file stores its genres, and problems")
    add_separator(genres)
    genres.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    overview = GenreOverview(separator=args.separator)
    # Only --json lists every file, so only then are the files kept.
    files: list[FileGenres] = []
    problems = []
    for file in survey(args.paths, args.separator):
        overview.add(file)
        if file.problem is not None:
            problems.append({"path": str(file.path), "error": file.problem})
            if not args.json:
                write_lines(err, [f"error     {file.path}", f"          {file.problem}"])
        elif args.json:
            files.append(file)
    groups = overview.groups()
    storage = overview.storage()
    if args.json:
        out.write(json_line({
            "files": overview.files,
            "storage": {style.value: storage.get(style, 0) for style in Storage},
            "genres": [group_record(g) for g in groups],
            "file_storage": [{"path": str(f.path), "storage": overview.storage_of(f.stored).value,
                              "values": list(f.stored)} for f in files],
            "problems": problems,
        }) + "\n")
    else:
        for group in groups:
            write_lines(out, group_lines(group))
        with_problems = sum(g.has_problem for g in groups)
        styles = ", ".join(f"{storage[s]} {s.value}" for s in Storage if storage[s])
        # The summary stays the last line, where scripts read it.
        if storage[Storage.SEPARATE]:
            out.write(f"note: {storage[Storage.SEPARATE]} file(s) store several genres one value each. "
                      f"{MULTI_VALUE_NOTES[MultiValue.SEPARATE]} 'genre-tagger normalise --multi-value joined' "
                      f"joins them.\n")
        out.write(f"{overview.files} file(s) read, {len(groups)} genre(s), {with_problems} with variants or "
                  f"problems" + (f"; stored as: {styles}" if styles else "") + "\n")
    if problems:
        err.write(f"{len(problems)} file(s) could not be read\n")
    return EXIT_FILE_ERRORS if problems else EXIT_OK


def group_record(group: GenreGroup) -> dict[str, Any]:
    return {"genre": group.name, "files": group.files,
            "variants": [{"value": v, "files": n} for v, n in group.variants.items()],
            "canonical": group.canonical, "family": group.family or "unknown",
            "flags": sorted(f.value for f in group.flags), "untidy_files": group.untidy_files}


def group_lines(group: GenreGroup) -> list[str]:
    known = f"{group.canonical}, {group.family}" if group.canonical else "unknown"
    flags = f"  [{', '.join(sorted(f.value for f in group.flags))}]" if group.flags else ""
    lines = [f"{group.files:>6}  {group.name or '(empty)'}  ({known}){flags}"]
    if group.has_variants:
        lines.append("        as " + ", ".join(f"{v!r} ({n})" for v, n in group.variants.items()))
    return lines

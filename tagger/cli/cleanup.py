"""The command line's genre cleanup: ``genres``, ``normalise`` and ``rename``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.files.state import StateError, check_savable
from tagger.library.cleanup import (
    CleanupRules,
    FileGenres,
    GenreGroup,
    GenreOverview,
    GenrePlan,
    Storage,
    Target,
    survey,
)
from tagger.tags import MultiValue, WriteMode, WriteOptions
from tagger.text import printable

EXIT_OK, EXIT_FILE_ERRORS = 0, 1


def add_cleanup_commands(commands: Any) -> None:
    genres = commands.add_parser(
        "genres", help="list the genres a library holds, with their variants and problems (reads tags only)",
        description="List every distinct genre in the files: how many files have it, its variants, its "
                    "canonical name and family, and flags (junk, numeric, joined). No audio is analysed.")
    genres.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    genres.add_argument("--json", action="store_true",
                        help="print one JSON object: the genres, how each file stores its genres, and problems")
    add_separator(genres)

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
                           help="also convert how several genres are stored: separate values, or one value "
                                "joined with the separator (default: keep each file's way)")
    add_batch_options(normalise)

    rename = commands.add_parser(
        "rename", help="rename a genre, or merge it into another, across the files, as one undoable batch",
        description="Replace OLD, in any spelling, with NEW in every file that has it; a file with both keeps "
                    "one. Genre Tagger remembers that OLD means NEW for later suggestions, learning and cleanup.")
    rename.add_argument("old", metavar="OLD", help="the genre to rename")
    rename.add_argument("new", metavar="NEW", help="its new name, or the genre to merge it into")
    rename.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    add_batch_options(rename)


def add_separator(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--separator", default=WriteOptions.id3v23_separator, metavar="TEXT",
                        help="joins several genres in one value (ID3v2.3, joined storage; default '; ')")


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print each file's plan, write nothing")
    parser.add_argument("--json", action="store_true", help="print JSON Lines, one object per file")
    add_separator(parser)
    parser.add_argument("--keep-mtime", action="store_true", help="keep the files' modification times")
    parser.add_argument("--force-undecodable", action="store_true",
                        help="RISKY: also write files whose audio does not decode")


def run_cleanup_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagger.genres.vocabulary import user_aliases_path

    if args.command == "rename" and not args.dry_run:
        # The alias is saved after the files are written: a config folder that cannot take it
        # would leave the files renamed and the rename forgotten.
        try:
            check_savable("the genre aliases", user_aliases_path())
        except StateError as e:
            raise StateError(f"{e}; nothing was renamed") from e
    overview = GenreOverview(separator=args.separator)
    if args.command == "genres":
        return list_genres(args, overview, out, err)
    return rewrite_genres(args, overview, out, err)


def list_genres(args: argparse.Namespace, overview: GenreOverview, out: TextIO, err: TextIO) -> int:
    from tagger.cli import json_line
    from tagger.text import write_lines

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
        out.write(f"{overview.files} file(s) read, {len(groups)} genre(s), {with_problems} with variants or "
                  f"problems" + (f"; stored as: {styles}" if styles else "") + "\n")
    if problems:
        err.write(f"{len(problems)} file(s) could not be read\n")
    return EXIT_FILE_ERRORS if problems else EXIT_OK


def group_record(group: GenreGroup) -> dict[str, Any]:
    return {"genre": group.name, "files": group.files,
            "variants": [{"value": v, "files": n} for v, n in group.variants.items()],
            "canonical": group.canonical, "family": group.family or "unknown",
            "flags": sorted(f.value for f in group.flags)}


def group_lines(group: GenreGroup) -> list[str]:
    known = f"{group.canonical}, {group.family}" if group.canonical else "unknown"
    flags = f"  [{', '.join(sorted(f.value for f in group.flags))}]" if group.flags else ""
    lines = [f"{group.files:>6}  {group.name or '(empty)'}  ({known}){flags}"]
    if group.has_variants:
        lines.append("        as " + ", ".join(f"{v!r} ({n})" for v, n in group.variants.items()))
    return lines


def rewrite_genres(args: argparse.Namespace, overview: GenreOverview, out: TextIO, err: TextIO) -> int:
    """normalise and rename: a plan for every file, then one batch for those that change."""
    from tagger.cli import command_line, emit
    from tagger.cli.journal import close_journal, open_journal
    from tagger.genres.vocabulary import save_user_alias
    from tagger.writing.writer import (
        GenreWriter,
        WriteRequest,
        WriteResult,
        WriteStatus,
    )

    records: list[dict[str, Any]] = []
    unsaved: StateError | None = None
    files = []
    for file in survey(args.paths, args.separator):
        overview.add(file)
        if file.problem is not None:
            records.append({"path": str(file.path), "status": "error", "error": file.problem})
        else:
            files.append(file)
    if args.command == "rename":
        planner = overview.planner(CleanupRules())
        plans = [planner.rename(f, args.old, args.new) for f in files]
    else:
        multi_value = MultiValue(args.multi_value) if args.multi_value else None
        planner = overview.planner(CleanupRules(Target(args.to), args.drop_junk, args.split, multi_value))
        plans = [planner.plan(f) for f in files]
    changing = [p for p in plans if p.changed]
    # The plan's values say already how several genres are stored; exact rewrites a file unless
    # it stores exactly them, and the write keeps the file's own provenance field.
    options = WriteOptions(WriteMode.REPLACE, args.separator, keep_mtime=args.keep_mtime,
                           force_undecodable=args.force_undecodable, exact=True)
    journal = open_journal(err)
    try:
        requests = [WriteRequest(p.file.path, list(p.after), provenance=p.file.provenance, identity=p.file.identity)
                    for p in changing]
        name = args.command if args.command != "normalize" else "normalise"
        command = command_line(f"{name} {args.old} -> {args.new}" if name == "rename" else name, args)
        # The rename sticks as the person's alias; undoing its batch takes it back.
        aliases = [(args.old, args.new)] if args.command == "rename" else []
        writer = GenreWriter(journal, options)
        done: list[WriteResult] = []
        try:
            for result in writer.write(requests, command, args.dry_run, aliases=aliases) if requests else []:
                done.append(result)
        except StateError as e:
            if not done:
                raise
            unsaved = e  # the files are written: they are reported below, then this
        results = iter(done)
        for plan in plans:  # the writer's results come in the order of the requests
            if not plan.changed:
                records.append(plan_record(plan, "unchanged", kept=True))
                continue
            result = next(results)
            # A file that stores its genres its own way (ID3v2.3 joins them) may hold them already.
            record = plan_record(plan, result.status.value, kept=result.status is WriteStatus.UNCHANGED)
            if result.message:
                record["error" if result.failed else "message"] = result.message
            if result.batch is not None:
                record["batch"] = result.batch
            records.append(record)
        if aliases and not requests and not args.dry_run:
            save_user_alias(args.old, args.new)  # no file to write, and so no batch to undo
    finally:
        close_journal(journal)
    for record in records:
        emit(record, args.json, out)
    if unsaved is not None:
        err.write(printable(f"genre-tagger {args.command}: the files were written, but the rename of {args.old!r} "
                            f"to {args.new!r} was not saved for later suggestions and cleanup: {unsaved}; once that "
                            "is fixed, run the same rename again to save it") + "\n")
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    err.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n" if counts else "nothing to do\n")
    return EXIT_FILE_ERRORS if counts.get("error") or unsaved is not None else EXIT_OK


def plan_record(plan: GenrePlan, status: str, kept: bool = False) -> dict[str, Any]:
    return {"path": str(plan.file.path), "status": status, "old_genres": list(plan.file.stored),
            "new_genres": list(plan.file.stored if kept else plan.after)}

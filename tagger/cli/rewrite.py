"""What normalise and rename share: a plan for every file, then one batch for those that change."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from tagger.cli.batches import close_journal, command_line, open_journal, with_outcome
from tagger.cli.options import EXIT_FILE_ERRORS, EXIT_OK
from tagger.cli.output import emit, summarise
from tagger.files.state import StateError
from tagger.genres.vocabulary import save_user_alias
from tagger.library.cleanup import (
    FileGenres,
    GenreOverview,
    GenrePlan,
    survey,
    write_renaming,
)
from tagger.tags import WriteMode, WriteOptions
from tagger.text import printable
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult, WriteStatus

# Each readable file's plan, made once every file is in the overview (a library's own spellings).
FilePlans = Callable[[GenreOverview, list[FileGenres]], list[GenrePlan]]


def rewrite(args: argparse.Namespace, out: TextIO, err: TextIO, name: str, plan_files: FilePlans,
            alias: tuple[str, str] | None = None) -> int:
    """Write the changing plans as one batch, recorded as the command ``name``; ``alias``,
    a rename (old, new), is saved with it, so that undoing the batch takes it back."""
    overview = GenreOverview(separator=args.separator)
    records: list[dict[str, Any]] = []
    unsaved: StateError | None = None
    files = []
    for file in survey(args.paths, args.separator):
        overview.add(file)
        if file.problem is not None:
            records.append({"path": str(file.path), "status": "error", "error": file.problem})
        else:
            files.append(file)
    plans = plan_files(overview, files)
    changing = [p for p in plans if p.changed]
    # The plan's values say already how several genres are stored; exact rewrites a file unless
    # it stores exactly them, and the write keeps the file's own provenance field.
    options = WriteOptions(WriteMode.REPLACE, args.separator, keep_mtime=args.keep_mtime,
                           force_undecodable=args.force_undecodable, exact=True)
    journal = open_journal(err)
    try:
        requests = [WriteRequest(p.file.path, list(p.after), provenance=p.file.provenance, identity=p.file.identity)
                    for p in changing]
        writer = GenreWriter(journal, options)
        done: list[WriteResult] = []
        try:
            aliases = [alias] if alias else []
            for result in write_renaming(writer, requests, command_line(name, args), aliases, args.dry_run) \
                    if requests else []:
                done.append(result)
        except StateError as e:
            if not done or alias is None:
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
            records.append(with_outcome(record, result))
        if alias and not requests and not args.dry_run:
            save_user_alias(*alias)  # no file to write, and so no batch to undo
    finally:
        close_journal(journal)
    for record in records:
        emit(record, args.json, out)
    if unsaved is not None and alias is not None:  # only saving an alias fails once files are written
        old, new = alias
        err.write(printable(f"genre-tagger {args.command}: the files were written, but the rename of {old!r} "
                            f"to {new!r} was not saved for later suggestions and cleanup: {unsaved}; once that "
                            "is fixed, run the same rename again to save it") + "\n")
    return EXIT_FILE_ERRORS if summarise(records, err)["error"] or unsaved is not None else EXIT_OK


def plan_record(plan: GenrePlan, status: str, kept: bool = False) -> dict[str, Any]:
    return {"path": str(plan.file.path), "status": status, "old_genres": list(plan.file.stored),
            "new_genres": list(plan.file.stored if kept else plan.after)}

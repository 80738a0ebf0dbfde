"""What the commands that write share: the undo journal, the command line a batch records,
and the run of set, apply, undo and finish, which print a result line for every file."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from tagger.cli.options import EXIT_FILE_ERRORS, EXIT_OK, EXIT_USAGE, write_options
from tagger.cli.output import emit, summarise
from tagger.text import printable
from tagger.writing.journal import Journal
from tagger.writing.writer import (
    GenreWriter,
    WriteRequest,
    WriteResult,
    wait_for_writes,
)

# A command's writes: ``records`` takes the results of the files refused before writing.
BatchResults = Callable[[GenreWriter, list[dict[str, Any]]], Iterable[WriteResult]]
# What a new batch is to write, found by scanning (and analysing); ``records`` as above.
BatchRequests = Callable[[GenreWriter, list[dict[str, Any]]], list[WriteRequest]]


def open_journal(err: TextIO) -> Journal:
    """The undo journal for a command, saying where a damaged one was moved to."""
    journal = Journal()
    notice = journal.set_aside_notice()
    if notice:
        err.write(printable(f"genre-tagger: {notice}") + "\n")
    return journal


def close_journal(journal: Journal) -> None:
    """Close a command's journal once the write in flight, if any, is finished and recorded
    (a command stopped by a signal leaves one on the writer thread)."""
    wait_for_writes()
    journal.close()


def command_line(name: str, args: argparse.Namespace) -> str:
    """The command as its batch records it, for history."""
    return " ".join([name, *(str(p) for p in args.paths)])[:500]


def write_batch(args: argparse.Namespace, out: TextIO, err: TextIO, results: BatchResults,
                writer_for: Callable[[Journal], GenreWriter] | None = None) -> int:
    """Every file gets a result line, in order, and then the counts of how they ended.
    ``writer_for`` makes the batch's writer where the command's options alone do not
    (apply's review session does)."""
    journal = open_journal(err)
    writer = writer_for(journal) if writer_for else GenreWriter(journal, write_options(args))
    records: list[dict[str, Any]] = []
    try:
        written = results(writer, records)
        for record in records:
            emit(record, args.json, out)
        for result in written:
            record = with_outcome({"path": str(result.path), "status": result.status.value,
                                   "old_genres": result.old_genres, "new_genres": result.new_genres}, result)
            records.append(record)
            emit(record, args.json, out)
    except LookupError as e:
        print(printable(f"genre-tagger {args.command}: {e.args[0]}"), file=err)
        return EXIT_USAGE
    finally:
        close_journal(journal)
    return EXIT_FILE_ERRORS if summarise(records, err)["error"] else EXIT_OK


def with_outcome(record: dict[str, Any], result: WriteResult) -> dict[str, Any]:
    """``record`` with the result's message (an error where the write failed) and its batch."""
    if result.message:
        record["error" if result.failed else "message"] = result.message
    if result.batch is not None:
        record["batch"] = result.batch
    return record


def new_batch(args: argparse.Namespace, requests: BatchRequests) -> BatchResults:
    """set and apply: the batch is recorded before ``requests`` scans, so that a kill while
    scanning or analysing leaves an unfinished batch and a following undo does not revert
    the batch before it."""
    def results(writer: GenreWriter, records: list[dict[str, Any]]) -> Iterable[WriteResult]:
        command = command_line(args.command, args)
        batch = None if args.dry_run else writer.start(command)
        return writer.write(requests(writer, records), command, args.dry_run, batch)

    return results

"""Journals for the salvage and damage tests: a small one with batches and aliases, and
SQLite errors that carry a result code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tagger.writing.journal import Journal, PlannedEntry


def small_journal(path: Path, batches: int = 3, entries_per_batch: int = 2) -> Path:
    journal = Journal(path)
    for number in range(batches):
        batch = journal.start(f"set {number}", "replace")
        journal.plan(batch, [PlannedEntry(path=Path(f"/music/{number}/{i}.flac"), requested=[f"G{number}"])
                             for i in range(entries_per_batch)])
        journal.record_alias_change(batch, {"old": f"a{number}", "new": f"b{number}"})
        journal.complete(batch)
    journal.close()
    return path


class CodedError(sqlite3.DatabaseError):
    """An SQLite error with the result code that Python 3.11+ gives it, or without one (``code`` None)."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        if code is not None:
            self.sqlite_errorcode = code

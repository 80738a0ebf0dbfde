"""Salvaging the batches of a damaged undo journal, so that undo still works for them.

SQLite reads a damaged file up to the first bad page it meets on a table's way down,
so the rows are read in ranges of row ids, and a range that fails is split in two until
the rows on good pages are read and only those on bad pages are left. A garbled header
(the first 100 bytes) makes SQLite refuse the whole file although every page is intact:
the header's fixed fields are written back on a copy before reading.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tagger.writing.journal import SIDE_FILES, Journal

MAGIC = b"SQLite format 3\x00"
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536)
# Where a table cannot say its largest row id, none is looked for past one per this many
# bytes of the file: no row of the journal's tables is smaller.
SMALLEST_ROW_BYTES = 32


@dataclass
class Recovery:
    """What a salvage found and brought back."""

    source: Path
    batches: dict[int, int] = field(default_factory=dict)  # the damaged journal's id -> the new one
    entries: int = 0
    lost_entries: int = 0  # entries whose batch could not be read, so nothing can undo them
    unreadable: list[str] = field(default_factory=list)  # tables, or ranges of rows, that could not be read

    @property
    def found_anything(self) -> bool:
        return bool(self.batches)


def recover(damaged: Path, into: Journal) -> Recovery:
    """Copy every readable batch of ``damaged`` into ``into``, with new ids; the source is not changed."""
    recovery = Recovery(damaged)
    with tempfile.TemporaryDirectory(prefix="genre-tagger-recover-") as scratch:
        copy = Path(scratch) / "journal.sqlite3"
        shutil.copyfile(damaged, copy)
        for suffix in SIDE_FILES:
            side = damaged.with_name(damaged.name + suffix)
            if side.is_file():
                shutil.copyfile(side, copy.with_name(copy.name + suffix))
        repair_header(copy)
        ceiling = max(1000, copy.stat().st_size // SMALLEST_ROW_BYTES)
        db = sqlite3.connect(copy, isolation_level=None)
        try:
            # Reads the tables whose root pages survive even where another table's root page is
            # past the end of a cut-short file, which SQLite otherwise calls a malformed schema.
            db.execute("PRAGMA writable_schema=ON")
            # The columns of the journal they go into: one the damaged journal lacks reads as None.
            batches = readable_rows(db, "batches", into.columns("batches"), ceiling, recovery)
            entries = readable_rows(db, "entries", into.columns("entries"), ceiling, recovery)
            aliases = readable_rows(db, "alias_changes", into.columns("alias_changes"), ceiling, recovery)
        finally:
            db.close()
    known = {row["id"] for row in batches}
    recovery.lost_entries = sum(row["batch"] not in known for row in entries)
    entries = [row for row in entries if row["batch"] in known]
    recovery.batches = into.import_batches(batches, entries, [a for a in aliases if a["batch"] in known])
    recovery.entries = len(entries)
    return recovery


def repair_header(path: Path) -> None:
    """Write back the header fields SQLite needs to open the file, where they are garbled,
    and the page count where the file was cut short (SQLite calls every page malformed then)."""
    with open(path, "r+b") as f:
        header = bytearray(f.read(100))
        if len(header) < 100:
            return
        size = os.fstat(f.fileno()).st_size
        if header.startswith(MAGIC):
            stored = int.from_bytes(header[16:18], "big")
            page_size = 65536 if stored == 1 else stored
        else:
            page_size = next((p for p in PAGE_SIZES if size % p == 0), 4096)
            header[:16] = MAGIC
            header[16:18] = (1 if page_size == 65536 else page_size).to_bytes(2, "big")
            header[18:20] = b"\x01\x01"  # file format versions: legacy (rollback journal)
            header[20:24] = bytes([0, 64, 32, 32])  # reserved bytes, payload fractions (fixed values)
        pages = max(1, size // page_size) if page_size in PAGE_SIZES else 0
        if pages and int.from_bytes(header[28:32], "big") > pages:
            header[28:32] = pages.to_bytes(4, "big")
        f.seek(0)
        f.write(header)


def readable_rows(db: sqlite3.Connection, table: str, columns: tuple[str, ...], ceiling: int,
                  recovery: Recovery) -> list[dict]:
    """Every row of ``table`` that SQLite can still read, in row id order."""
    present = table_columns(db, table)
    if present is None:
        recovery.unreadable.append(f"table {table}")
        return []
    wanted = [c for c in columns if c in present]
    select = f"SELECT {', '.join(wanted)} FROM {table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
    try:
        highest = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        highest = ceiling
    rows: list = []
    lost: list[list[int]] = []  # runs of row ids that could not be read
    for low, high, found in row_ranges(db, select, 1, highest):
        if found is None:
            if lost and lost[-1][1] == low - 1:
                lost[-1][1] = high
            else:
                lost.append([low, high])
        else:
            rows.extend(dict(zip(wanted, row)) for row in found)
    recovery.unreadable += [f"{table} rows {low}-{high}" if low != high else f"{table} row {low}"
                            for low, high in lost]
    for row in rows:
        for column in columns:
            row.setdefault(column, None)
    return rows


def row_ranges(db: sqlite3.Connection, select: str, low: int, high: int) -> Iterator[tuple[int, int, list | None]]:
    """(low, high, rows) for each range of row ids that reads, and (low, high, None) for
    each single row id that does not, in order."""
    pending = [(low, high)]
    while pending:
        low, high = pending.pop()
        try:
            yield low, high, db.execute(select, (low, high)).fetchall()
        except sqlite3.DatabaseError:
            if low == high:
                yield low, high, None
                continue
            middle = (low + high) // 2
            # The upper half first onto the stack, so that ranges come out in order.
            pending.append((middle + 1, high))
            pending.append((low, middle))


def table_columns(db: sqlite3.Connection, table: str) -> set[str] | None:
    try:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    except sqlite3.DatabaseError:
        return None
    return columns or None

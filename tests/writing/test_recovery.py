"""Salvaging a damaged journal: its header, the rows around bad pages, and the salvage as a whole.

From the mutation run over the damaged-journal handling and the journal's salvage (the
changes from b157a2b on): each pins behaviour that a surviving mutant changed and no other
fast test noticed. Mutants left alive on purpose are listed in README's mutation section.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.journals import small_journal

from tagger.writing import recovery as journal_recovery
from tagger.writing.journal import Journal
from tagger.writing.recovery import (
    MAGIC,
    Recovery,
    readable_rows,
    recover,
    repair_header,
    row_ranges,
)

# -- the salvage: the header ------------------------------------------------------------------------


def header_file(path: Path, size: int, header: bytes) -> Path:
    path.write_bytes(header.ljust(100, b"\0") + b"\x55" * (size - 100))
    return path


def stored_header(page_size_field: int, pages: int) -> bytes:
    header = bytearray(range(100))  # every other field distinct, to see that it stays in place
    header[:16] = MAGIC
    header[16:18] = page_size_field.to_bytes(2, "big")
    header[28:32] = pages.to_bytes(4, "big")
    return bytes(header)


def test_a_garbled_header_is_written_back_byte_for_byte(tmp_path):
    path = small_journal(tmp_path / "j.sqlite3")
    original = path.read_bytes()
    assert original[18:20] == b"\x01\x01"  # a rollback journal, which the journal now is
    garbled = bytearray(original)
    garbled[:24] = bytes(range(200, 224))
    path.write_bytes(garbled)
    repair_header(path)
    assert path.read_bytes() == original


@pytest.mark.parametrize("size, page_size", [(5 * 1024, 1024), (3 * 4096, 4096), (4096 + 100, 4096)])
def test_a_garbled_header_gets_the_page_size_that_divides_the_file(tmp_path, size, page_size):
    path = header_file(tmp_path / "j", size, b"\xff" * 100)
    repair_header(path)
    header = path.read_bytes()[:100]
    assert header[:16] == MAGIC
    assert int.from_bytes(header[16:18], "big") == page_size
    assert header[18:24] == bytes([1, 1, 0, 64, 32, 32])
    # The page count (garbage: 0xffffffff) is cut to the pages the file has.
    assert int.from_bytes(header[28:32], "big") == max(1, size // page_size)
    assert path.read_bytes()[100:] == b"\x55" * (size - 100)


def test_pages_of_64_kib_are_stored_as_1(tmp_path):
    path = header_file(tmp_path / "j", 2 * 65536, stored_header(1, 99))
    repair_header(path)
    assert int.from_bytes(path.read_bytes()[28:32], "big") == 2
    assert int.from_bytes(path.read_bytes()[16:18], "big") == 1  # left as it was


@pytest.mark.parametrize("page_size", [1024, 2048, 4096, 8192, 16384, 32768])
@pytest.mark.parametrize("stored_pages", [9, (1 << 24) + 1])
def test_a_cut_short_file_gets_the_page_count_it_has(tmp_path, page_size, stored_pages):
    path = header_file(tmp_path / "j", 3 * page_size, stored_header(page_size, stored_pages))
    before = path.read_bytes()
    repair_header(path)
    after = path.read_bytes()
    assert int.from_bytes(after[28:32], "big") == 3
    assert after[:28] == before[:28] and after[32:] == before[32:]


def test_a_file_shorter_than_a_page_has_one(tmp_path):
    path = header_file(tmp_path / "j", 1000, stored_header(4096, 7))
    repair_header(path)
    assert int.from_bytes(path.read_bytes()[28:32], "big") == 1


def test_a_page_count_within_the_file_and_an_odd_page_size_are_left_alone(tmp_path):
    for name, header in (("fits", stored_header(4096, 2)), ("odd", stored_header(3000, 9))):
        path = header_file(tmp_path / name, 3 * 4096, header)
        before = path.read_bytes()
        repair_header(path)
        assert path.read_bytes() == before, name


def test_a_file_shorter_than_a_header_is_left_alone(tmp_path):
    path = tmp_path / "j"
    path.write_bytes(b"\x01" * 99)
    repair_header(path)
    assert path.read_bytes() == b"\x01" * 99


# -- the salvage: rows around bad pages -------------------------------------------------------------


class DamagedTable:
    """A stand-in connection to one table whose rows ``bad`` are on unreadable pages."""

    def __init__(self, rows: dict[int, dict], bad: set[int] = frozenset(), columns=("id", "batch", "change"),
                 max_fails: bool = False, no_table: bool = False):
        self.rows, self.bad, self.columns = rows, set(bad), columns
        self.max_fails, self.no_table = max_fails, no_table
        self.selects: list[tuple[int, int]] = []

    def execute(self, sql: str, params=()):
        if sql.startswith("PRAGMA table_info"):
            if self.no_table:
                raise sqlite3.DatabaseError("malformed")
            return [(i, c, "", 0, None, 0) for i, c in enumerate(self.columns)]
        if sql.startswith("SELECT max(rowid)"):
            if self.max_fails:
                raise sqlite3.DatabaseError("database disk image is malformed")
            return Rows([(max(self.rows, default=None),)])
        low, high = params
        self.selects.append((low, high))
        if any(low <= b <= high for b in self.bad):
            raise sqlite3.DatabaseError("database disk image is malformed")
        wanted = [c.strip() for c in sql.split("SELECT ")[1].split(" FROM")[0].split(",")]
        return Rows([tuple(self.rows[i].get(c) for c in wanted) for i in sorted(self.rows) if low <= i <= high])


class Rows(list):
    def fetchall(self):
        return list(self)

    def fetchone(self):
        return self[0]


def alias_rows(ids) -> dict[int, dict]:
    return {i: {"id": i, "batch": i, "change": f"c{i}"} for i in ids}


def test_rows_on_bad_pages_are_named_as_runs_and_the_rest_read(tmp_path):
    db = DamagedTable(alias_rows(range(1, 21)), bad={3, 4, 5, 9, 20})
    recovery = Recovery(tmp_path, unreadable=["table batches"])  # what an earlier table lost stays said
    rows = readable_rows(db, "alias_changes", ("id", "batch", "change"), 1000, recovery)
    assert [r["id"] for r in rows] == [1, 2, 6, 7, 8, *range(10, 20)]
    assert rows[0] == {"id": 1, "batch": 1, "change": "c1"}
    assert recovery.unreadable == ["table batches", "alias_changes rows 3-5", "alias_changes row 9",
                                   "alias_changes row 20"]


def test_two_runs_with_a_good_row_between_stay_apart(tmp_path):
    db = DamagedTable(alias_rows(range(1, 9)), bad={2, 4})
    recovery = Recovery(tmp_path)
    rows = readable_rows(db, "alias_changes", ("id", "batch", "change"), 1000, recovery)
    assert [r["id"] for r in rows] == [1, 3, 5, 6, 7, 8]
    assert recovery.unreadable == ["alias_changes row 2", "alias_changes row 4"]


def test_a_table_without_its_largest_row_id_is_read_up_to_the_ceiling(tmp_path):
    db = DamagedTable(alias_rows([1, 2, 50, 64]), max_fails=True)
    recovery = Recovery(tmp_path)
    rows = readable_rows(db, "alias_changes", ("id", "batch", "change"), 64, recovery)
    assert [r["id"] for r in rows] == [1, 2, 50, 64]
    assert max(high for _, high in db.selects) == 64
    assert recovery.unreadable == []


def test_an_empty_table_reads_nothing_and_loses_nothing(tmp_path):
    db = DamagedTable({})
    recovery = Recovery(tmp_path)
    assert readable_rows(db, "alias_changes", ("id", "batch", "change"), 1000, recovery) == []
    assert recovery.unreadable == []
    assert db.selects == [(1, 0)]


def test_columns_an_older_journal_lacks_come_back_as_none(tmp_path):
    rows = {1: {"id": 1, "batch": 1}}
    db = DamagedTable(rows, columns=("id", "batch"))
    (row,) = readable_rows(db, "alias_changes", ("id", "batch", "change"), 1000, Recovery(tmp_path))
    assert row == {"id": 1, "batch": 1, "change": None}


def test_a_table_that_cannot_be_read_at_all_is_named(tmp_path):
    recovery = Recovery(tmp_path)
    assert readable_rows(DamagedTable({}, no_table=True), "batches", ("id",), 1000, recovery) == []
    assert recovery.unreadable == ["table batches"]
    assert journal_recovery.table_columns(DamagedTable({}, columns=()), "batches") is None


def test_ranges_come_out_in_order_and_bad_rows_alone():
    db = DamagedTable(alias_rows(range(1, 8)), bad={2, 6})
    ranges = [(low, high, None if found is None else [r[0] for r in found])
              for low, high, found in row_ranges(db, "SELECT id FROM t WHERE rowid BETWEEN ? AND ?", 1, 7)]
    assert ranges == [(1, 1, [1]), (2, 2, None), (3, 4, [3, 4]), (5, 5, [5]), (6, 6, None), (7, 7, [7])]


# -- the salvage as a whole -------------------------------------------------------------------------


def test_recover_brings_back_batches_entries_and_aliases_and_counts_orphans(tmp_path):
    damaged = small_journal(tmp_path / "damaged.sqlite3")
    # An entry whose batch is gone: counted as lost, not imported under another batch.
    db = sqlite3.connect(damaged)
    db.execute("INSERT INTO entries (batch, path, requested, state, updated) VALUES (99, ?, '[]', 'written', 0)",
               (b"/x",))
    db.execute("INSERT INTO alias_changes (batch, change) VALUES (99, '{}')")
    db.commit()
    db.close()
    before = damaged.read_bytes()
    into = Journal(tmp_path / "new.sqlite3")
    existing = into.start("earlier", "replace")
    recovery = recover(damaged, into)
    assert recovery.source == damaged
    assert damaged.read_bytes() == before  # the source is never written
    assert recovery.found_anything and recovery.unreadable == []
    assert recovery.entries == 6 and recovery.lost_entries == 1
    assert list(recovery.batches) == [1, 2, 3]
    assert sorted(recovery.batches.values()) == [existing + 1, existing + 2, existing + 3]
    for old, new in recovery.batches.items():
        assert [str(e.path) for e in into.entries(new)] == [f"/music/{old - 1}/{i}.flac" for i in range(2)]
        assert into.alias_changes(new) == [{"old": f"a{old - 1}", "new": f"b{old - 1}"}]
    into.close()


def test_recover_reads_what_is_still_in_the_rollback_side_file(tmp_path):
    """A hot rollback journal beside the damaged file is copied with it: SQLite rolls the
    interrupted transaction back on the copy, which gives back the rows it overwrote."""
    damaged = small_journal(tmp_path / "damaged.sqlite3", batches=2)
    saved = damaged.read_bytes()
    db = sqlite3.connect(damaged, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("BEGIN IMMEDIATE")
    db.execute("DELETE FROM batches")
    db.execute("DELETE FROM entries")
    # Spill the change to the file while the transaction is open, as a kill mid-commit leaves it.
    db.execute("PRAGMA cache_spill=ON")
    db.execute("PRAGMA cache_size=1")
    db.execute("CREATE TABLE filler (x)")
    db.execute("INSERT INTO filler VALUES (zeroblob(200000))")
    side = damaged.with_name(damaged.name + "-journal")
    assert side.exists()
    kept_file, kept_side = damaged.read_bytes(), side.read_bytes()
    db.execute("ROLLBACK")
    db.close()
    assert damaged.read_bytes() == saved
    damaged.write_bytes(kept_file)
    side.write_bytes(kept_side)
    into = Journal(tmp_path / "new.sqlite3")
    recovery = recover(damaged, into)
    assert len(recovery.batches) == 2 and recovery.entries == 4
    into.close()


def test_recover_puts_the_highest_row_id_past_the_default_ceiling(tmp_path, monkeypatch):
    """The ceiling is one row per SMALLEST_ROW_BYTES of the file, and never under 1000."""
    damaged = small_journal(tmp_path / "damaged.sqlite3", batches=1)
    ceilings = []
    real = journal_recovery.readable_rows

    tables = []

    def spy(db, table, columns, ceiling, recovery):
        ceilings.append(ceiling)
        tables.append(table)  # as the unreadable list names them
        return real(db, table, columns, ceiling, recovery)

    monkeypatch.setattr(journal_recovery, "readable_rows", spy)
    into = Journal(tmp_path / "new.sqlite3")
    recover(damaged, into)
    assert ceilings == [1000] * 3
    assert tables == ["batches", "entries", "alias_changes"]
    damaged.write_bytes(damaged.read_bytes() + b"\0" * (4096 * 20))  # 24 pages and more
    ceilings.clear()
    recover(damaged, into)
    assert ceilings == [damaged.stat().st_size // 32] * 3
    assert all(type(c) is int for c in ceilings)  # a row id: "rows 3.0-5.0" is no way to name rows
    into.close()

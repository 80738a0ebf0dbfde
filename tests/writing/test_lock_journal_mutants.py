"""Tests from the mutation run over the folder lock, /proc's writers, the damaged-journal
handling and the journal's salvage (the changes from b157a2b on): each pins behaviour
that a surviving mutant changed and no other fast test noticed.

Mutants left alive on purpose (they change nothing a caller can observe) are listed in
README's mutation section.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from platformdirs import user_data_path
from support import tagfiles

from tagger.files import atomic as safewrite
from tagger.files.atomic import WriteRefused, rewrite_atomically
from tagger.files.locks import (
    OpenForWriting,
    _opened_for_writing,
    _process_name,
    _stand_in_lock_file,
    file_lock,
    processes_writing,
)
from tagger.files.state import explain, is_damage
from tagger.tags import read_tags
from tagger.writing import journal as journal_module
from tagger.writing import recovery as journal_recovery
from tagger.writing.journal import (
    Journal,
    JournalError,
    damaged_journals,
    default_path,
    journal_errors,
    opening_lock,
    set_aside,
)
from tagger.writing.recovery import (
    MAGIC,
    Recovery,
    readable_rows,
    recover,
    repair_header,
    row_ranges,
)
from tagger.writing.writer import (
    GenreWriter,
    WriteRequest,
    WriteStatus,
    planned_entry,
    wait_for_writes,
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


def small_journal(path: Path, batches: int = 3, entries_per_batch: int = 2) -> Path:
    journal = Journal(path)
    for number in range(batches):
        batch = journal.start(f"set {number}", "replace")
        journal.plan(batch, [{"path": f"/music/{number}/{i}.flac", "requested": [f"G{number}"]}
                             for i in range(entries_per_batch)])
        journal.record_alias_change(batch, {"old": f"a{number}", "new": f"b{number}"})
        journal.complete(batch)
    journal.close()
    return path


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
    db.execute("INSERT INTO entries (batch, path, requested, state, updated) VALUES (99, ?, '[]', 'written', 0)", (b"/x",))
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


# -- the journal: damage, and where a damaged one goes ---------------------------------------------


class CodedError(sqlite3.DatabaseError):
    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        if code is not None:
            self.sqlite_errorcode = code


@pytest.mark.parametrize("code, damaged", [(11, True), (26, True), (11 | (1 << 8), True), (267 + 256, True),
                                           (5, False), (10, False), (12, False), (25, False), (27, False),
                                           (1 << 8, False)])
def test_damage_is_told_by_sqlites_primary_result_code(code, damaged):
    # The text says nothing either way, so only the code can decide.
    assert is_damage(CodedError("some error", code)) is damaged
    assert is_damage(CodedError("database disk image is malformed", code)) is damaged


@pytest.mark.parametrize("text, damaged", [("database disk image is malformed", True),
                                           ("file is not a database", True), ("database is locked", False),
                                           ("Malformed", False)])
def test_without_a_code_damage_is_told_by_sqlites_words(text, damaged):
    assert is_damage(CodedError(text, None)) is damaged


def test_a_real_damaged_file_is_damage(tmp_path):
    path = tmp_path / "j"
    path.write_bytes(b"not a database at all" * 500)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(path).execute("PRAGMA quick_check").fetchall()
    assert is_damage(caught.value)


@pytest.mark.parametrize("error, says", [
    (OSError(28, "No space left on device"), "the disk is full"),
    (OSError(13, "Permission denied"), "permission denied"),
    (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "it is read-only"),
    (sqlite3.OperationalError("the file is read-only"), "it is read-only"),
    (CodedError("database disk image is malformed", 11),
     "it is damaged (database disk image is malformed); the next command sets it aside and starts a new one"),
    (sqlite3.OperationalError("database is locked"), "database is locked"),
    # SQLite's code for damage decides before any words in the message.
    (CodedError("full of nothing", 11),
     "it is damaged (full of nothing); the next command sets it aside and starts a new one"),
])
def test_explain_gives_one_sentence(tmp_path, error, says):
    assert explain(error, "the undo journal", tmp_path / "j") == f"the undo journal {tmp_path / 'j'} could not be used: {says}"


def test_journal_errors_turns_sqlite_and_os_errors_into_one_sentence(tmp_path):
    for error in (sqlite3.OperationalError("database or disk is full"), OSError(28, "No space left on device")):
        with pytest.raises(JournalError) as caught, journal_errors(tmp_path / "j"):
            raise error
        assert str(caught.value) == f"the undo journal {tmp_path / 'j'} could not be used: the disk is full"
        assert caught.value.__cause__ is error
    with pytest.raises(ValueError), journal_errors(tmp_path / "j"):
        raise ValueError("not the journal's")


def test_set_aside_numbers_a_second_damaged_journal_of_the_same_second(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module.time, "strftime", lambda fmt: "STAMP")
    path = tmp_path / "journal.sqlite3"
    for number, content in enumerate((b"first", b"second", b"third")):
        path.write_bytes(content)
        path.with_name(path.name + "-journal").write_bytes(content + b" side")
        aside = set_aside(path)
        assert aside.name == ["journal.sqlite3.damaged-STAMP", "journal.sqlite3.damaged-STAMP-2",
                              "journal.sqlite3.damaged-STAMP-3"][number]
        assert aside.read_bytes() == content and not path.exists()
        assert aside.with_name(aside.name + "-journal").read_bytes() == content + b" side"
    assert not path.with_name(path.name + "-journal").exists()


def test_set_aside_takes_every_side_file_along(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"main")
    for suffix in ("-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).write_bytes(suffix.encode())
    aside = set_aside(path)
    # A stamp to the second that sorts as time does, which damaged_journals relies on.
    assert __import__("re").fullmatch(r"journal\.sqlite3\.damaged-20\d{6}-\d{6}", aside.name), aside.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [aside.name] + [aside.name + s for s in ("-journal", "-wal", "-shm")])
    for suffix in ("-journal", "-wal", "-shm"):
        assert aside.with_name(aside.name + suffix).read_bytes() == suffix.encode()


def test_damaged_journals_are_the_set_aside_files_oldest_first(tmp_path):
    path = tmp_path / "journal.sqlite3"
    for name in ("journal.sqlite3.damaged-20240102-000000", "journal.sqlite3.damaged-20240101-000000",
                 "journal.sqlite3.damaged-20240101-000000-wal", "journal.sqlite3.damaged-20240101-000000-journal",
                 "journal.sqlite3.damaged-20240101-000000-shm", "other.sqlite3.damaged-20240101-000000"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "journal.sqlite3.damaged-20230101-000000").mkdir()
    expected = [tmp_path / "journal.sqlite3.damaged-20240101-000000", tmp_path / "journal.sqlite3.damaged-20240102-000000"]
    assert damaged_journals(path) == expected
    default = default_path()
    default.parent.mkdir(parents=True, exist_ok=True)
    (default.parent / (default.name + ".damaged-1")).write_bytes(b"x")
    assert damaged_journals() == [default.parent / (default.name + ".damaged-1")]


@pytest.mark.parametrize("kind", ["empty", "folder", "garbage"])
def test_a_damaged_journal_is_set_aside_on_opening_and_said(tmp_path, kind):
    path = tmp_path / "data" / "journal.sqlite3"
    path.parent.mkdir()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"garbage" * 1000)
    journal = Journal(path)
    (aside,) = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert journal.set_aside == aside and aside.is_dir() == (kind == "folder")
    assert journal.set_aside_notice() == (
        f"the undo journal was damaged; it was moved to {aside} and a new one started. "
        "'genre-tagger journal recover' brings back the batches that can still be read.")
    assert journal.batches() == []
    journal.start("works", "replace")
    journal.close()


def test_a_sound_journal_is_opened_as_it_is(tmp_path):
    path = small_journal(tmp_path / "a" / "b" / "journal.sqlite3", batches=2)  # parents made
    journal = Journal(path)
    assert journal.set_aside is None and journal.set_aside_notice() is None
    assert damaged_journals(path) == []
    assert len(journal.batches()) == 2
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    journal.close()


@pytest.mark.parametrize("how", ["answers", "raises"])
def test_a_journal_whose_pages_fail_the_check_is_set_aside(tmp_path, how):
    path = small_journal(tmp_path / "journal.sqlite3", batches=40)
    data = bytearray(path.read_bytes())
    if how == "answers":  # a page no table uses: quick_check lists it
        data += bytes(4096)
        data[28:32] = (int.from_bytes(data[28:32], "big") + 1).to_bytes(4, "big")
    else:  # a table page's header garbled: quick_check itself fails
        data[2 * 4096 + 1: 2 * 4096 + 8] = b"\xff" * 7
    path.write_bytes(data)
    journal = Journal(path)
    assert journal.set_aside is not None and journal.set_aside.read_bytes() == bytes(data)
    assert journal.batches() == []
    journal.close()


def test_a_journal_that_cannot_be_made_is_one_sentence(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path / "file" / "journal.sqlite3")
    assert str(caught.value).startswith(f"the undo journal {tmp_path / 'file' / 'journal.sqlite3'} could not be used")


def test_an_error_that_is_not_damage_is_raised_and_nothing_set_aside(tmp_path, monkeypatch):
    path = small_journal(tmp_path / "journal.sqlite3", batches=1)
    closed = []

    class Locked:
        def __init__(self, db):
            self.db = db

        def execute(self, sql, *args):
            if sql.startswith("PRAGMA quick_check"):
                raise CodedError("database is locked", 5)
            return self.db.execute(sql, *args)

        def close(self):
            closed.append(True)
            self.db.close()

    real = Journal._connect
    monkeypatch.setattr(Journal, "_connect", lambda self: Locked(real(self)))
    with pytest.raises(JournalError, match="database is locked"):
        Journal(path)
    assert closed == [True]
    assert damaged_journals(path) == [] and path.exists()


def test_an_older_journal_gets_the_columns_it_lacks(tmp_path):
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, batch INTEGER)")
    db.commit()
    db.close()
    journal = Journal(path)
    present = [row[1] for row in journal._db.execute("PRAGMA table_info(entries)")]
    for column, _ in journal_module.MIGRATIONS["entries"]:
        assert column in present
    journal.close()


def test_imported_batches_keep_their_rows_with_new_ids_and_defaults_for_gaps(journal):
    existing = journal.start("earlier", "replace")
    batches = [{"id": 7, "created": 123.5, "command": "set x", "mode": "merge", "state": "planned"},
               {"id": 9, "created": None, "command": None, "mode": None, "state": None}]
    base = {c: None for c in journal_module.ENTRY_COLUMNS}
    entries = [base | {"id": 70, "batch": 7, "path": b"/m/a.flac", "requested": '["A"]', "state": "written",
                       "old_genres": '["Old"]', "new_genres": '["A"]', "updated": 1.0, "mode": "merge",
                       "message": "m", "identity": '{"x": 1}', "written_at": 2.0},
               base | {"id": 90, "batch": 9, "path": b"/m/a.flac", "requested": '["Old"]', "state": "written",
                       "undoes": 70, "updated": 3.0},
               base | {"id": 91, "batch": 9, "path": b"/m/b.flac", "requested": '["B"]', "state": "planned",
                       "undoes": 55, "updated": 4.0}]
    aliases = [{"id": 1, "batch": 9, "change": '{"old": "a"}'}]
    ids = journal.import_batches(batches, entries, aliases)
    assert ids == {7: existing + 1, 9: existing + 2}
    summaries = {b.id: b for b in journal.batches()}
    first, second = summaries[ids[7]], summaries[ids[9]]
    assert (first.created, first.command, first.mode, first.state) == (123.5, "[recovered] set x", "merge", "planned")
    assert (second.created, second.command, second.mode, second.state) == (0.0, "[recovered] ?", "replace", "done")
    (a,) = journal.entries(ids[7])
    assert (a.path, a.requested, a.state, a.old_genres, a.new_genres, a.mode, a.message, a.identity) == (
        Path("/m/a.flac"), ["A"], "written", ["Old"], ["A"], "merge", "m", {"x": 1})
    undo, other = journal.entries(ids[9])
    assert undo.undoes == a.id and other.undoes is None  # 55 was not salvaged
    assert journal.alias_changes(ids[9]) == [{"old": "a"}] and journal.alias_changes(ids[7]) == []
    assert journal.last_written_identity(Path("/m/a.flac")) == {"x": 1}


# -- the folder lock ----------------------------------------------------------------------------------


def descriptors_within(*folders: Path) -> int:
    """How many of this process's descriptors are open on ``folders`` or on files in them.
    Only these are counted: other tests' threads open and close descriptors at any time."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
        count += any(target == folder or folder in target.parents for folder in folders)
    return count


def test_the_lock_is_the_folders_and_is_let_go(tmp_path):
    """flock locks belong to an open file description, so two locks in one process exclude each other."""
    (tmp_path / "other").mkdir()
    a, b, elsewhere = tmp_path / "a.flac", tmp_path / "b.flac", tmp_path / "other" / "c.flac"
    with file_lock(a) as held:
        assert held is True
        with file_lock(b, wait=False) as second:  # another file of the same folder
            assert second is False
        with file_lock(elsewhere, wait=False) as third:
            assert third is True
    assert descriptors_within(tmp_path) == 0
    with file_lock(b, wait=False) as again:
        assert again is True
    assert descriptors_within(tmp_path) == 0


def test_a_missing_folder_needs_no_lock(tmp_path):
    with file_lock(tmp_path / "gone" / "a.flac", wait=False) as held:
        assert held is True


@pytest.fixture
def folders_cannot_be_locked(monkeypatch):
    """As on NFS: flock on a folder opened read-only fails with ENOLCK (or EBADF)."""
    real = fcntl.flock

    def flock(fd, operation):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)


def test_where_a_folder_cannot_be_locked_a_lock_file_stands_in(tmp_path, folders_cannot_be_locked):
    locks = user_data_path("genre-tagger", appauthor=False) / "locks"
    with file_lock(tmp_path / "a.flac") as held:
        assert held is True
        (lock,) = locks.iterdir()
        with file_lock(tmp_path / "b.flac", wait=False) as second:
            assert second is False
        (tmp_path / "other").mkdir()
        with file_lock(tmp_path / "other" / "c.flac", wait=False) as third:
            assert third is True
    assert descriptors_within(tmp_path, locks) == 0
    with file_lock(tmp_path / "b.flac", wait=False) as again:
        assert again is True
    assert descriptors_within(tmp_path, locks) == 0


def test_the_stand_in_lock_file_is_named_after_the_real_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    name = hashlib.sha256(os.fsencode(tmp_path / "real")).hexdigest()[:32] + ".lock"
    expected = user_data_path("genre-tagger", appauthor=False) / "locks" / name
    assert not expected.parent.exists()  # made, with its parents, by the first call
    fds = [_stand_in_lock_file(tmp_path / "real"), _stand_in_lock_file(tmp_path / "link")]
    try:
        for fd in fds:
            assert os.readlink(f"/proc/self/fd/{fd}") == os.fspath(expected)
        assert expected.stat().st_mode & 0o777 == 0o600
    finally:
        for fd in fds:
            os.close(fd)


# -- who has a file open for writing -------------------------------------------------------------------


def fdinfo(tmp_path: Path, text: str) -> str:
    path = tmp_path / "fdinfo"
    path.write_text(text)
    return os.fspath(path)


@pytest.mark.parametrize("flags, writing", [("0100000", False), ("0100001", True), ("0100002", True),
                                            ("02", True), ("010", False), ("0100003", False), ("03", False)])
def test_the_access_mode_is_read_from_the_octal_flags(tmp_path, flags, writing):
    assert _opened_for_writing(fdinfo(tmp_path, f"pos:\t0\nflags:\t{flags}\nmnt_id:\t20\n")) is writing


@pytest.mark.parametrize("text", ["pos:\t0\nmnt_id:\t20\n", "flags:\n", "flags:\t0x1\n", "pos: flags: 01\n"])
def test_fdinfo_without_readable_flags_is_no_writer(tmp_path, text):
    assert _opened_for_writing(fdinfo(tmp_path, text)) is False


def test_fdinfo_that_is_gone_is_no_writer(tmp_path):
    assert _opened_for_writing(os.fspath(tmp_path / "gone")) is False


def test_a_process_name_is_its_comm_or_a_stand_in():
    with open("/proc/self/comm") as f:
        assert _process_name(str(os.getpid())) == f.read().strip()
    assert _process_name("999999999") == "a process"


def test_a_process_without_a_name_is_a_process(tmp_path):
    (tmp_path / "comm").write_text("\n")  # read where /proc/PID/comm would be
    assert _process_name(os.path.relpath(tmp_path, "/proc")) == "a process"
    (tmp_path / "comm").write_text("player\n")
    assert _process_name(os.path.relpath(tmp_path, "/proc")) == "player"
    assert _process_name(str(os.getpid()))[-1:].strip()


def test_this_process_writing_a_file_is_found_once(tmp_path):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    (tmp_path / "a.flac.bak").write_bytes(b"x")
    me = OpenForWriting(os.getpid(), _process_name(str(os.getpid())))
    with open(path, "rb"):
        assert processes_writing(path) == []  # reading is no danger
    with open(tmp_path / "a.flac.bak", "ab"):
        assert processes_writing(path) == []  # another file
    with open(path, "ab"), open(path, "r+b"):
        assert processes_writing(path) == [me]
    assert str(me) == f"{me.name} (process {os.getpid()})"


def test_another_process_writing_a_file_is_found(tmp_path):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    holder = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'ab'); print('open', "
                               "flush=True); sys.stdin.readline()", os.fspath(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert processes_writing(path) == [OpenForWriting(holder.pid, _process_name(str(holder.pid)))]
    finally:
        holder.communicate("\n", timeout=30)
    assert processes_writing(path) == []


def test_processes_and_descriptors_that_cannot_be_read_are_passed_over(tmp_path, monkeypatch):
    """Another user's process (its fd folder unreadable), or a descriptor closed meanwhile."""
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    real_listdir, real_readlink = os.listdir, os.readlink
    mine = f"/proc/{os.getpid()}/fd/"

    def listdir(folder):
        if folder.startswith("/proc/") and folder.endswith("/fd/") and folder != mine:
            raise PermissionError(errno.EACCES, "Permission denied")
        names = real_listdir(folder)
        return ["999999", *names] if folder == mine else names

    def readlink(link):
        if link == mine + "999999":
            raise FileNotFoundError(errno.ENOENT, "gone")
        return real_readlink(link)

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(os, "readlink", readlink)
    with open(path, "ab"):
        assert [p.pid for p in processes_writing(path)] == [os.getpid()]


def test_without_proc_no_writer_is_known(tmp_path, monkeypatch):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    real = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: False if p == "/proc/self/fd" else real(p))
    with open(path, "ab"):
        assert processes_writing(path) == []


# -- the writer when the journal fails -----------------------------------------------------------------


def failing_finish(monkeypatch, *states: str) -> str:
    """The journal cannot record an outcome in ``states``; returns what it says then."""
    real = Journal.finish

    def finish(self, entry, state, *args, **kwargs):
        if state in states:
            with journal_errors(self.path):
                raise sqlite3.OperationalError("database or disk is full")
        return real(self, entry, state, *args, **kwargs)

    monkeypatch.setattr(Journal, "finish", finish)
    return "the journal could not record this: the undo journal {} could not be used: the disk is full"


def test_an_unchanged_file_the_journal_could_not_record_says_both(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    genres = read_tags(path).genres
    unrecorded = failing_finish(monkeypatch, "unchanged").format(journal.path)
    (result,) = GenreWriter(journal).write([WriteRequest(path, genres)], "t")
    assert result.status is WriteStatus.UNCHANGED and result.old_genres == result.new_genres == genres
    assert result.message == (f"{unrecorded}; 'genre-tagger finish {result.batch}' records it once the journal "
                              "can be written")


def test_a_skip_the_journal_could_not_record_keeps_its_reason_first(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    (written,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    list(GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "t"))
    unrecorded = failing_finish(monkeypatch, "skipped").format(journal.path)
    (result,) = GenreWriter(journal).undo(written.batch)
    assert result.status is WriteStatus.SKIPPED and result.old_genres == result.new_genres == ["Blues"]
    assert result.message == ("skipped: its genres changed since they were written (now Blues); "
                              f"{unrecorded}; 'genre-tagger finish {result.batch}' records it once the journal "
                              "can be written")


def test_a_skip_records_why(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    (written,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    list(GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "t"))
    (result,) = GenreWriter(journal).undo(written.batch)
    (entry,) = journal.entries(result.batch)
    assert entry.state == "skipped" and entry.message == result.message
    assert result.message == "skipped: its genres changed since they were written (now Blues)"


def test_finish_names_each_file_it_went_through(tmp_path, journal):
    """finish yields the writer's own results (write() puts the caller's path on them)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    done, gone = tagfiles.make(tmp_path / "a", "flac"), tagfiles.make(tmp_path / "b", "flac")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(p, ["Jazz"])) for p in (done, gone)])
    gone.unlink()
    written, refused = GenreWriter(journal).finish(batch)
    assert (written.path, written.status) == (done, WriteStatus.WRITTEN)
    assert (refused.path, refused.status) == (gone, WriteStatus.ERROR)


def test_a_write_that_is_recorded_says_nothing_more(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    assert result.status is WriteStatus.WRITTEN and result.message is None
    (entry,) = journal.entries(result.batch)
    assert entry.state == "written" and entry.identity is not None


def test_a_refusal_the_journal_could_not_record_says_both(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    path.unlink()
    unrecorded = failing_finish(monkeypatch, "error").format(journal.path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status is WriteStatus.ERROR and result.old_genres == result.new_genres == []
    assert result.message == f"no such file; {unrecorded}"
    assert result.batch == batch


def test_a_refusal_names_the_genres_the_file_keeps(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    genres = read_tags(path).genres
    batch = journal.start("set", "replace")
    entry = planned_entry(WriteRequest(path, ["Jazz"]))
    journal.plan(batch, [entry])
    os.utime(path, ns=(1, 1))  # not the file the batch recorded any more
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status is WriteStatus.ERROR and "not the file the batch recorded" in result.message
    assert result.old_genres == result.new_genres == genres
    (recorded,) = journal.entries(batch)
    assert recorded.state == "error" and recorded.message == result.message


def test_a_failure_inside_a_write_is_that_files_error_and_recorded(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    held_during_apply = []

    def boom(self, entry):
        with file_lock(entry.path, wait=False) as free:
            held_during_apply.append(not free)
        raise RuntimeError("boom")

    monkeypatch.setattr(GenreWriter, "_apply", boom)
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    assert held_during_apply == [True]  # the folder's lock is held around the whole of it
    message = "writing failed (RuntimeError: boom); the file is unchanged"
    assert result.status is WriteStatus.ERROR and result.message == message
    (entry,) = journal.entries(result.batch)
    assert entry.state == "error" and entry.message == message


def test_waiting_for_writes_waits_for_the_one_in_flight(journal):
    import threading

    from tagger.writing import writer
    wait_for_writes()  # nothing in flight, perhaps no pool yet: returns at once
    release, done = threading.Event(), []

    def slow():
        release.wait(5)
        done.append(True)

    writer.writer_pool().submit(slow)
    threading.Timer(0.3, release.set).start()
    wait_for_writes()
    assert done == [True]


# -- the journal's opening lock and its transactions -------------------------------------------------


def test_the_opening_lock_keeps_a_second_opener_waiting(tmp_path):
    path = tmp_path / "journal.sqlite3"
    entered = threading.Event()

    def second():
        with opening_lock(path):
            entered.set()

    with opening_lock(path):
        assert (tmp_path / "journal.sqlite3.lock").exists()
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.3)
    assert entered.wait(10)
    thread.join()
    assert descriptors_within(tmp_path) == 0


def test_without_a_lock_file_the_journal_opens_anyway(tmp_path, monkeypatch):
    """A read-only folder: the lock file cannot be made, and reading needs no lock."""
    path = small_journal(tmp_path / "journal.sqlite3", batches=1)
    real = os.open

    def no_lock_file(name, *args, **kwargs):
        if os.fspath(name).endswith(".lock"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_lock_file)
    with opening_lock(path):
        pass
    journal = Journal(path)
    assert len(journal.batches()) == 1
    journal.close()


def test_a_closed_journal_fails_in_one_sentence(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.close()
    with pytest.raises(JournalError, match="could not be used"):
        journal.start("t", "replace")
    with pytest.raises(JournalError, match="could not be used"):
        journal.batches()


def test_an_interrupted_transaction_is_rolled_back(journal):
    with pytest.raises(KeyboardInterrupt):
        with journal._transaction() as db:
            db.execute("INSERT INTO batches (created, command, mode, state) VALUES (0, 'x', 'replace', 'started')")
            raise KeyboardInterrupt
    assert journal.batches() == []
    journal.start("t", "replace")  # no transaction left open
    assert len(journal.batches()) == 1


class CommitFails:
    """A connection whose COMMIT reports a full disk, having ended the transaction (``ended``)
    or leaving it open."""

    def __init__(self, db, ended: bool):
        self.db, self.ended = db, ended

    def execute(self, sql, *args):
        if sql == "COMMIT":
            if self.ended:
                self.db.execute(sql)
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)


@pytest.mark.parametrize("ended", [True, False])
def test_a_failed_commit_is_said_as_itself_and_leaves_no_transaction_open(journal, ended):
    real = journal._db
    journal._db = CommitFails(real, ended)
    try:
        with pytest.raises(JournalError, match="the disk is full$"):
            journal.start("t", "replace")
    finally:
        journal._db = real
    assert len(journal.batches()) == (1 if ended else 0)  # rolled back where it was still open
    journal.start("t", "replace")  # the connection is usable again


def test_opening_a_journal_waits_for_another_opener(tmp_path):
    """Two first commands of a new profile: the second opens once the first has made the journal."""
    path = tmp_path / "journal.sqlite3"
    opened = []
    with opening_lock(path):
        thread = threading.Thread(target=lambda: opened.append(Journal(path)))
        thread.start()
        thread.join(0.3)
        assert opened == []
    thread.join(10)
    (journal,) = opened
    journal.close()


# -- the swap itself (rewrite_atomically) -------------------------------------------------------------


def plain_file(tmp_path: Path, data: bytes = b"old contents") -> Path:
    path = tmp_path / "a.flac"
    path.write_bytes(data)
    return path


def append(temp: str) -> None:
    with open(temp, "ab") as f:
        f.write(b" and new")


def test_the_modification_time_is_the_writes_unless_asked_to_keep_it(tmp_path):
    path = plain_file(tmp_path)
    os.utime(path, ns=(10**18, 10**18))
    rewrite_atomically(path, append, None)
    assert path.read_bytes() == b"old contents and new"
    assert path.stat().st_mtime_ns != 10**18


def test_a_file_that_grows_while_it_is_copied_is_copied_only_to_its_size_and_refused(tmp_path):
    path = plain_file(tmp_path)
    copied = []

    def grow(temp: Path) -> None:  # after the size was taken, before the copy is made
        with open(path, "ab") as f:
            f.write(b"+" * 100)

    with pytest.raises(WriteRefused, match="changed on disk"):
        rewrite_atomically(path, lambda temp: copied.append(Path(temp).read_bytes()), None, on_temporary=grow)
    assert copied == [b"old contents"]
    assert path.read_bytes() == b"old contents" + b"+" * 100
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


def test_only_root_gives_the_copy_the_originals_owner(tmp_path, monkeypatch):
    """A user's chown to a group it is not in would fail: only root, who can, gives the file away."""
    path = plain_file(tmp_path)
    chowned = []
    monkeypatch.setattr(os, "chown", lambda *args: chowned.append(args))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    rewrite_atomically(path, append, None)
    assert chowned == []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    rewrite_atomically(path, append, None)
    st = path.stat()
    assert len(chowned) == 1 and chowned[0][1:] == (st.st_uid, st.st_gid)
    assert path.read_bytes() == b"old contents and new and new"


def test_the_copy_is_flushed_through_a_descriptor_that_can_write(tmp_path, monkeypatch):
    """Windows flushes (FlushFileBuffers) only a handle open for writing; Linux would take either."""
    path = plain_file(tmp_path)
    modes = []
    real = os.fsync

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            modes.append(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    rewrite_atomically(path, append, None)
    assert modes == [os.O_RDWR]


def test_a_file_this_process_has_open_for_writing_is_refused_by_name(tmp_path):
    path = plain_file(tmp_path)
    me = OpenForWriting(os.getpid(), _process_name(str(os.getpid())))
    with open(path, "ab"), pytest.raises(WriteRefused) as refused:
        rewrite_atomically(path, append, None)
    assert str(refused.value) == (f"{me} has the file open for writing; replacing it now would lose what that "
                                  "program writes, so it is left untouched (close it and try again)")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


def test_every_writer_of_the_file_is_named(tmp_path, monkeypatch):
    path = plain_file(tmp_path)
    asked = []
    monkeypatch.setattr(safewrite, "processes_writing",
                        lambda p: asked.append(p) or [OpenForWriting(7, "player"), OpenForWriting(9, "editor")])
    with pytest.raises(WriteRefused, match=r"^player \(process 7\), editor \(process 9\) has the file open"):
        rewrite_atomically(path, append, None)
    assert asked == [path]


def test_a_failure_of_the_system_is_refused_in_words_and_leaves_no_copy(tmp_path):
    path = plain_file(tmp_path)

    def full(temp: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteRefused, match="^the disk is full$"):
        rewrite_atomically(path, full, None)
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


@pytest.mark.parametrize("error", [OSError(errno.EIO, "I/O error"), ValueError("a tag library's own")])
def test_a_copy_gone_already_when_the_edit_fails_leaves_the_edits_error(tmp_path, error):
    path = plain_file(tmp_path)

    def fail(temp: str) -> None:
        os.unlink(temp)
        raise error

    expected = WriteRefused if isinstance(error, OSError) else ValueError
    with pytest.raises(expected, match="I/O error" if expected is WriteRefused else "own"):
        rewrite_atomically(path, fail, None)
    assert path.read_bytes() == b"old contents"

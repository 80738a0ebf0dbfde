"""The undo journal: its batches and times, damaged journals set aside and said in one
sentence, the opening lock and its transactions.

Most of these pin behaviour that a surviving mutant of journal.py changed and no other fast
test noticed (issue 9, and the mutation run from b157a2b on); the mutants left alive on
purpose are listed in README's mutation section.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from support.descriptors import descriptors_within
from support.journals import CodedError, small_journal

from tagger.files.identity import FileIdentity, Fingerprint
from tagger.tags import WriteMode
from tagger.writing import journal as journal_module
from tagger.writing.journal import (
    BatchState,
    BatchSummary,
    Entry,
    EntryState,
    Journal,
    JournalError,
    PlannedEntry,
    damaged_journals,
    default_path,
    journal_errors,
    opening_lock,
    set_aside,
    when,
)
from tagger.writing.writer import WriteStatus

# -- batches, times, and what the journal cannot find -------------------------------------------------

def test_times_are_shown_as_local_date_and_time():
    import datetime

    stamp = datetime.datetime(2024, 3, 5, 7, 8, 9).timestamp()
    assert when(stamp) == "2024-03-05 07:08:09"


def test_the_default_journal_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    journal = Journal()
    try:
        assert journal.path == tmp_path / "data" / "genre-tagger" / "journal.sqlite3"
        assert journal.path.is_file()
    finally:
        journal.close()


def test_a_batch_started_with_no_files_counts_none(journal):
    batch = journal.start("set", "replace")
    summary = journal.batch(batch)
    assert (summary.files, summary.undoable, summary.counts) == (0, False, {})


def test_the_journal_says_what_it_cannot_find(journal):
    with pytest.raises(LookupError) as missing:
        journal.batch(7)
    assert missing.value.args == ("the journal has no batch 7",)
    with pytest.raises(LookupError) as nothing:
        journal.batch_to_undo()
    assert nothing.value.args == ("nothing to undo: the journal has no written batch",)


# -- damage, and where a damaged journal goes -----------------------------------------------------------

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
    expected = [tmp_path / "journal.sqlite3.damaged-20240101-000000",
                tmp_path / "journal.sqlite3.damaged-20240102-000000"]
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
    base = dict.fromkeys(journal.columns("entries"))
    identity = '{"device": 1, "inode": 2, "size": 3, "mtime_ns": 4}'
    entries = [base | {"id": 70, "batch": 7, "path": b"/m/a.flac", "requested": '["A"]', "state": "written",
                       "old_genres": '["Old"]', "new_genres": '["A"]', "updated": 1.0, "mode": "merge",
                       "message": "m", "identity": identity, "written_at": 2.0},
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
        Path("/m/a.flac"), ["A"], EntryState.WRITTEN, ["Old"], ["A"], WriteMode.MERGE, "m", FileIdentity(1, 2, 3, 4))
    undo, other = journal.entries(ids[9])
    assert undo.undoes == a.id and other.undoes is None  # 55 was not salvaged
    assert journal.alias_changes(ids[9]) == [{"old": "a"}] and journal.alias_changes(ids[7]) == []
    assert journal.last_written_identity(Path("/m/a.flac")) == FileIdentity(1, 2, 3, 4)


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
    with pytest.raises(KeyboardInterrupt), journal._transaction() as db:
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


def test_a_row_written_by_the_previous_version_reads_into_objects(tmp_path):
    """The SQL of the version that kept identities as dicts and read rows by position: its JSON
    is what this one writes, byte for byte, and reads back as objects."""
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    identity = {"device": 2049, "inode": 77, "size": 4096, "mtime_ns": 1_700_000_000_123_456_789}
    copy = identity | {"inode": 78, "mtime_ns": 1_700_000_001_000_000_000}
    expected = {"size": 4096, "mtime_ns": 1_699_000_000_000_000_000, "edges_sha256": "ab" * 32}
    db = sqlite3.connect(path)
    db.execute("INSERT INTO batches (created, command, mode, state) VALUES (?, ?, ?, ?)",
               (1.0, "set Jazz", "merge", "started"))
    db.execute("INSERT INTO entries (batch, path, requested, expected, provenance, require_current, undoes, "
               "state, updated, identity, restore_field, mode) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?)",
               (1, os.fsencode("/m/Ångström.flac"), json.dumps(["Jazz", "Blüs"], ensure_ascii=False),
                json.dumps(expected, ensure_ascii=False), "{}", None, None, 2.0,
                json.dumps(identity, ensure_ascii=False), "TXXX", "replace"))
    db.execute("UPDATE entries SET state='pending', old_genres=?, new_genres=?, old_provenance=?, old_field=?, "
               "updated=? WHERE id=?", ('["Rock"]', '["Jazz", "Blüs"]', None, "TCON", 3.0, 1))
    db.execute("UPDATE entries SET temp_identity=?, updated=? WHERE id=?", (json.dumps(copy), 4.0, 1))
    db.commit()
    db.close()
    journal = Journal(path)
    (entry,) = journal.entries(1)
    assert entry == Entry(
        id=1, batch=1, path=Path("/m/Ångström.flac"), requested=["Jazz", "Blüs"],
        expected=Fingerprint(4096, 1_699_000_000_000_000_000, "ab" * 32), provenance="{}", identity=FileIdentity(
            2049, 77, 4096, 1_700_000_000_123_456_789), restore_field="TXXX", mode=WriteMode.REPLACE,
        state=EntryState.PENDING, old_genres=["Rock"], new_genres=["Jazz", "Blüs"], old_field="TCON",
        temp_identity=FileIdentity(2049, 78, 4096, 1_700_000_001_000_000_000))
    # Planned again by this version, the row holds the same text.
    (again,) = journal.plan(journal.start("set Jazz", "merge"), [entry])
    planned = [f.name for f in dataclasses.fields(PlannedEntry)]
    rows = journal._db.execute(f"SELECT {', '.join(planned)} FROM entries WHERE id IN (1, ?) ORDER BY id", (again,))
    old_row, new_row = rows.fetchall()
    assert new_row == old_row
    journal.close()


def test_the_states_keep_the_words_older_journals_hold():
    assert [s.value for s in EntryState] == ["planned", "pending", "written", "unchanged", "skipped", "error",
                                             "undone"]
    assert [s.value for s in BatchState] == ["started", "planned", "done"]
    # Every outcome of a write is an entry state: the journal records it under the same word.
    assert all(status.entry_state.value == status.value for status in WriteStatus)
    assert f"{EntryState.WRITTEN} {BatchState.DONE}" == "written done"


def test_a_misspelt_state_never_reaches_the_journal(journal):
    batch = journal.start("set", "replace")
    (entry,) = journal.plan(batch, [PlannedEntry(path=Path("/m/a.flac"), requested=["Jazz"])])
    with pytest.raises(ValueError):
        journal.finish(entry, "writen")
    assert [e.state for e in journal.entries(batch)] == [EntryState.PLANNED]
    journal.finish(entry, EntryState.WRITTEN)
    summary = journal.batch(batch)
    assert summary.counts == {EntryState.WRITTEN: 1} and summary.undoable_files == 1
    with pytest.raises(ValueError):
        BatchSummary(1, 0.0, "set", "replace", {"writen": 1})
    with pytest.raises(ValueError):
        BatchSummary(1, 0.0, "set", "replace", {}, "finished")
    with pytest.raises(ValueError):
        Entry(id=1, batch=1, path=Path("/m/a.flac"), requested=["Jazz"], expected=None, provenance=None,
              require_current=None, undoes=None, state="writen", old_genres=None, new_genres=None,
              old_provenance=None, message=None)

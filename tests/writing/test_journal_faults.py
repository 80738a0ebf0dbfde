"""The journal tells the truth when it fails, and a damaged journal is set aside, not fatal."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support import tagfiles

from tagger import cli
from tagger.tags import read_tags
from tagger.writing.journal import (
    Journal,
    JournalError,
    damaged_journals,
    journal_errors,
)
from tagger.writing.writer import GenreWriter, WriteRequest, WriteStatus


def make(folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return tagfiles.make(folder, kind)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FillingDisk:
    """The journal's disk fills up at its ``full_from``-th transaction and stays full until freed."""

    def __init__(self, full_from: int) -> None:
        self.full_from = full_from
        self.transactions = 0
        self.patch = pytest.MonkeyPatch()
        real = Journal._transaction

        def transaction(journal: Journal):
            self.transactions += 1
            if self.transactions >= self.full_from:
                with journal_errors(journal.path):
                    raise sqlite3.OperationalError("database or disk is full")
            return real(journal)

        self.patch.setattr(Journal, "_transaction", transaction)

    def free(self) -> None:
        self.patch.undo()


def transactions_of_one_write(tmp_path: Path) -> int:
    disk = FillingDisk(full_from=10**9)
    path = make(tmp_path / "count", "flac")
    journal = Journal(tmp_path / "count.sqlite3")
    try:
        (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    finally:
        disk.free()
    assert result.status is WriteStatus.WRITTEN
    journal.close()
    return disk.transactions


@pytest.mark.parametrize("kind", ["flac", "mp3-id3v24", "m4a-aac"])
def test_a_disk_that_fills_at_any_step_of_a_write_leaves_journal_and_file_agreeing(tmp_path, kind):
    steps = transactions_of_one_write(tmp_path)
    assert steps >= 5  # start, plan, pending, the copy's identity, the outcome, ...
    for full_from in range(1, steps + 1):
        folder = tmp_path / f"step-{full_from}"
        path = make(folder, kind)
        original = digest(path)
        journal = Journal(folder / "journal.sqlite3")
        disk = FillingDisk(full_from)
        writer = GenreWriter(journal)
        results = []
        try:
            for result in writer.write([WriteRequest(path, ["Jazz"])], "t"):
                results.append(result)
        except JournalError as e:
            # Full before the batch could be planned, or when it was to be marked done: says why.
            assert "disk is full" in str(e)
        finally:
            disk.free()
        changed = digest(path) != original
        for result in results:
            if result.status is WriteStatus.WRITTEN:
                assert changed, (full_from, result)
            else:
                assert not changed, (full_from, result)
                assert "the file is unchanged" in result.message or "journal could not record" in result.message
        if not results:
            assert not changed, full_from  # the batch could not even be planned
        # With room again, finish records what the full disk kept it from recording (or carries
        # out a write it stopped), and undo gives the file back byte for byte.
        for batch in journal.batches():
            if batch.state != "done":
                list(writer.finish(batch.id))
        if digest(path) != original:
            assert read_tags(path).genres == ["Jazz"]
            (undone,) = GenreWriter(journal).undo()
            assert undone.status is WriteStatus.WRITTEN, (full_from, undone)
        else:
            with pytest.raises(LookupError):
                list(GenreWriter(journal).undo())
        assert digest(path) == original, full_from
        journal.close()


def test_a_write_the_journal_could_not_record_is_not_called_unchanged(tmp_path, monkeypatch):
    """The case from the field: the swap happened, then recording it failed."""
    path = make(tmp_path, "mp3-id3v24")
    journal = Journal(tmp_path / "journal.sqlite3")
    real_finish = Journal.finish

    def finish(self, entry, state, *args, **kwargs):
        if state == "written":
            with journal_errors(self.path):
                raise sqlite3.OperationalError("database or disk is full")
        return real_finish(self, entry, state, *args, **kwargs)

    monkeypatch.setattr(Journal, "finish", finish)
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["J"])], "t")
    assert result.status is WriteStatus.WRITTEN
    assert "unchanged" not in result.message
    assert "journal could not record" in result.message and "genre-tagger finish" in result.message
    assert read_tags(path).genres == ["J"]
    monkeypatch.undo()
    (entry,) = journal.entries(result.batch)
    assert entry.state == "pending" and entry.old_genres == ["(17)Rock"]  # as stored
    # Undo finds the file by the identity recorded before the swap, even unfinished.
    (undone,) = GenreWriter(journal).undo(result.batch)
    assert undone.status is WriteStatus.WRITTEN
    assert read_tags(path).genres == ["Rock"]


@pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux", reason="mounting a tmpfs needs root on Linux")
def test_the_cli_on_a_really_full_disk_says_so_and_loses_nothing(tmp_path, make_audio):
    """A 1 MiB tmpfs under the journal, filled but for a few KB: the journal's own disk is full."""
    data = tmp_path / "data"
    data.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        env = dict(os.environ, XDG_DATA_HOME=str(data))
        paths = [make(tmp_path / f"f{i}", "mp3-id3v24") for i in range(12)]
        originals = {p: digest(p) for p in paths}

        def genre_tagger(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "tagger.cli", *args], env=env, capture_output=True,
                                  text=True, timeout=240)

        assert genre_tagger("history").returncode == 0  # creates the journal while there is room
        filler = data / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        os.truncate(filler, filler.stat().st_size - 12 * 1024)  # a few pages left, then full
        run = genre_tagger("set", "--json", "--genre", "Full", *map(str, paths))
        assert "Traceback" not in run.stderr, run.stderr
        for line in run.stdout.splitlines():
            record = __import__("json").loads(line)
            path = Path(record["path"])
            if record["status"] == "written":
                assert read_tags(path).genres == ["Full"]
            else:
                assert digest(path) == originals[path], record
        filler.unlink()
        genre_tagger("finish")
        undo = genre_tagger("undo")
        assert "Traceback" not in undo.stderr, undo.stderr
        assert {p: digest(p) for p in paths} == originals
    finally:
        subprocess.run(["umount", str(data)])


# -- damage ------------------------------------------------------------------------------------------

def journal_with_batches(tmp_path: Path, files: int = 6) -> tuple[Path, list[Path], list[int]]:
    journal = Journal()  # where the commands find it
    path = journal.path
    paths = [make(tmp_path / f"lib{i}", "flac") for i in range(files)]
    batches = []
    for round_number in range(3):
        results = list(GenreWriter(journal).write([WriteRequest(p, [f"Round {round_number}"]) for p in paths], "t"))
        batches.append(results[0].batch)
    journal.close()
    return path, paths, batches


def damage(path: Path, kind: str) -> None:
    data = bytearray(path.read_bytes())
    if kind == "truncated":
        path.write_bytes(data[:8192])
    elif kind == "header":
        data[:16] = b"garbage garbage!"
        path.write_bytes(data)
    elif kind == "page":
        data[4096:8192] = os.urandom(4096)  # the second page: the first table's root
        path.write_bytes(data)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.unlink()
        path.mkdir()


# What a salvage brings back of a journal of three batches of six files: the batches table's
# root is the second page and the entries' the third, so a journal cut to 8 KB keeps the
# batches without their files, and a garbled second page loses the batches themselves.
RECOVERED = {"truncated": 3, "header": 3, "page": 0, "empty": 0, "folder": 0}


@pytest.mark.parametrize("kind", RECOVERED)
def test_every_command_survives_a_damaged_journal_and_names_where_it_went(tmp_path, kind, capsys):
    path, paths, batches = journal_with_batches(tmp_path)
    damage(path, kind)
    assert cli.main(["history"]) == 0
    err = capsys.readouterr().err
    assert "genre-tagger journal recover" in err
    (aside,) = [p for p in path.parent.iterdir() if ".damaged-" in p.name and not p.name.endswith("-journal")]
    assert f"the undo journal was damaged; it was moved to {aside}" in err
    # The new journal works for every command, and the damaged one is not touched again.
    assert cli.main(["set", "--genre", "After", str(paths[0])]) == 0
    assert read_tags(paths[0]).genres == ["After"]
    assert cli.main(["undo"]) == 0
    assert read_tags(paths[0]).genres == ["Round 2"]
    assert cli.main(["finish"]) == 2  # nothing left to finish: a plain answer, no traceback
    err = capsys.readouterr().err
    assert "Traceback" not in err and "damaged" not in err
    assert aside.exists()

    code = cli.main(["journal", "recover"])
    out = capsys.readouterr().out
    recovered = [line for line in out.splitlines() if line.startswith("batch ")]
    assert len(recovered) == RECOVERED[kind], out
    if kind == "header":
        # Every batch is back: undoing the newest recovered one restores Round 1 everywhere.
        new_id = int(recovered[-1].split()[-1])
        assert cli.main(["undo", str(new_id)]) == 0
        assert [read_tags(p).genres for p in paths] == [["Round 1"]] * len(paths)
    if recovered:
        assert code == 0 and damaged_journals() == []  # recovered once, then kept under another name
    else:
        # Nothing readable, or (a folder) nothing that could be read: said, and a failure.
        assert code == (2 if kind == "folder" else 1)


def test_recovery_reads_around_a_damaged_page(tmp_path, capsys):
    """Enough batches to span many pages: one bad page costs the rows on it, not the rest."""
    path = tmp_path / "data" / "journal.sqlite3"
    journal = Journal(path)
    paths = [make(tmp_path / f"lib{i}", "flac") for i in range(3)]
    for round_number in range(60):
        list(GenreWriter(journal).write([WriteRequest(p, [f"Round {round_number}"]) for p in paths], "t"))
    journal.close()
    pages = path.stat().st_size // 4096
    assert pages > 8
    data = bytearray(path.read_bytes())
    data[4096 * (pages // 2): 4096 * (pages // 2 + 1)] = os.urandom(4096)
    path.write_bytes(data)

    from tagger.writing.recovery import recover

    fresh = Journal(tmp_path / "fresh.sqlite3")
    recovery = recover(path, fresh)
    assert recovery.unreadable, "the damaged page went unnoticed"
    assert 30 <= len(recovery.batches) <= 60
    # A recovered batch undoes like any other.
    newest = max(recovery.batches.values())
    (summary,) = [b for b in fresh.batches() if b.id == newest]
    if summary.undoable:
        results = list(GenreWriter(fresh).undo(newest))
        assert all(r.status is WriteStatus.WRITTEN for r in results)


def test_a_vanished_rollback_file_never_drops_a_batch(tmp_path):
    """WAL kept committed entries in a side file; deleting it lost a running batch. The
    journal now commits into its own file."""
    path, paths, batches = journal_with_batches(tmp_path, files=2)
    journal = Journal(path)
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"
    writer = GenreWriter(journal)
    results = writer.write([WriteRequest(p, ["Late"]) for p in paths], "t")
    next(results)
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    list(results)
    journal.close()
    reopened = Journal(path)
    assert len(reopened.batches()) == len(batches) + 1
    assert all(e.state == "written" for e in reopened.entries(reopened.last_batch()))


def test_the_app_says_where_a_damaged_journal_went(tmp_path, qtbot, analyzer):
    from PySide6.QtWidgets import QMessageBox

    from ui.main_window import MainWindow

    path, _, _ = journal_with_batches(tmp_path, files=1)
    damage(path, "header")
    window = MainWindow(make_analyzer=lambda device: analyzer, restore=False)
    qtbot.addWidget(window)
    window.show()
    (aside,) = damaged_journals()
    # A box that stays until the person closes it; the window works meanwhile.
    qtbot.waitUntil(lambda: any(box.isVisible() for box in window.findChildren(QMessageBox)))
    (box,) = window.findChildren(QMessageBox)
    assert f"moved to {aside}" in box.text() and "genre-tagger journal recover" in box.text()
    assert not box.isModal()
    box.close()
    window.journal.close()

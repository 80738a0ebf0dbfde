"""The History dialog (ui/history.py), on a real journal filled by writing genres into FLAC files made here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import soundfile as sf
from PySide6.QtWidgets import QDialog, QMessageBox
from support import tagfiles

from tagger.tags import WriteMode, WriteOptions, read_tags
from tagger.writing.journal import Journal, when
from tagger.writing.writer import GenreWriter, WriteRequest
from ui.history import HistoryDialog, action_text, genres_summary


@pytest.fixture
def writer(journal):
    return GenreWriter(journal)


@pytest.fixture
def make_flac(tmp_path):
    """A short FLAC file tagged "Rock" (plus display tags and cover art), named as asked."""

    def make(name: str) -> Path:
        path = tmp_path / "music" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(os.fsencode(path), tagfiles.audio_data(seconds=0.5), tagfiles.RATE)
        tagfiles.add_vorbis(path)
        return path

    return make


def write(writer: GenreWriter, command: str, changes: list[tuple[Path, list[str]]]) -> int:
    results = list(writer.write([WriteRequest(path, genres) for path, genres in changes], command))
    assert results, "nothing was written"
    return results[0].batch


def dialog_for(qtbot, journal: Journal) -> HistoryDialog:
    dialog = HistoryDialog(journal)
    qtbot.addWidget(dialog)
    return dialog


def cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def column(dialog: HistoryDialog, name: str) -> list[str]:
    index = dialog.BATCH_COLUMNS.index(name)
    return [row[index] for row in cells(dialog.batches)]


def test_batches_are_listed_newest_first_with_time_files_and_genres(qtbot, journal, writer, make_flac):
    a, b, c = make_flac("a.flac"), make_flac("b.flac"), make_flac("c.flac")
    first = write(writer, "set --genre Jazz --genre Bebop", [(a, ["Jazz", "Bebop"]), (b, ["Jazz", "Bebop"])])
    second = write(writer, "set --genre Blues", [(c, ["Blues"])])
    third = write(writer, "apply", [(a, ["Ambient", "Drone"]), (b, ["Techno", "Ambient"]), (c, ["Dub", "Polka"])])
    dialog = dialog_for(qtbot, journal)
    created = {s.id: s.created for s in journal.batches()}
    assert column(dialog, "Batch") == [str(third), str(second), str(first)]
    assert column(dialog, "Time") == [when(created[third]), when(created[second]), when(created[first])]
    assert column(dialog, "What you did") == ["Ran genre-tagger apply", "Ran genre-tagger set --genre Blues",
                                              "Ran genre-tagger set --genre Jazz --genre Bebop"]
    assert column(dialog, "Mode") == ["replace"] * 3
    assert column(dialog, "Files") == ["3 files", "1 file", "2 files"]
    assert column(dialog, "Genres written") == ["Ambient, Drone, Techno +2 more", "Blues", "Jazz, Bebop"]
    assert column(dialog, "State") == ["done"] * 3
    genres_cell = dialog.batches.item(0, dialog.BATCH_COLUMNS.index("Genres written"))
    assert genres_cell.toolTip() == "Ambient, Drone, Techno, Dub, Polka"  # the whole list, where the cell is short
    # A shorter limit counts the rest.
    assert genres_summary(journal.entries(third), limit=1) == "Ambient +4 more"
    assert dialog.empty.isHidden()


def test_each_batch_says_what_the_person_did_and_the_tooltip_keeps_the_command(qtbot, journal, writer, make_flac):
    a = make_flac("a.flac")
    applied = write(writer, "gui apply", [(a, ["Jazz"])])
    undo = list(writer.undo(applied))[0].batch
    dialog = dialog_for(qtbot, journal)
    assert column(dialog, "What you did") == [f"Undid batch {applied}", "Applied in the app"]
    assert dialog.batches.item(1, dialog.BATCH_COLUMNS.index("What you did")).toolTip().endswith(": gui apply")
    assert dialog.confirm_text(undo).startswith(f"Undo batch {undo} (Undid batch {applied}, ")
    assert action_text("[recovered] gui apply") == "Applied in the app (recovered)"


def test_the_selected_batch_shows_its_files(qtbot, journal, writer, make_flac):
    a, b = make_flac("a.flac"), make_flac("b.flac")
    first = write(writer, "set", [(a, ["Jazz", "Bebop"]), (b, ["Jazz", "Bebop"])])
    second = write(writer, "set", [(a, ["Blues"])])
    dialog = dialog_for(qtbot, journal)
    # The newest batch is selected to begin with.
    assert dialog.selected_batch().id == second
    assert cells(dialog.files) == [["a.flac", "Jazz, Bebop → Blues", "written", ""]]
    assert dialog.files_box.title() == f"Files of batch {second}: 1 file"
    dialog.batches.selectRow(1)
    assert dialog.selected_batch().id == first
    assert cells(dialog.files) == [["a.flac", "Rock → Jazz, Bebop", "written", ""],
                                   ["b.flac", "Rock → Jazz, Bebop", "written", ""]]
    assert dialog.files.item(1, 0).toolTip() == str(b.resolve())
    assert dialog.files_box.title() == f"Files of batch {first}: 2 files"


def test_undo_is_disabled_for_a_batch_that_wrote_nothing(qtbot, journal, writer, make_flac, tmp_path):
    a = make_flac("a.flac")
    written = write(writer, "set", [(a, ["Jazz"])])
    broken = tmp_path / "music" / "broken.flac"
    broken.write_bytes(b"not audio at all")
    nothing = write(writer, "set", [(a, ["Jazz"]), (broken, ["Jazz"])])  # already Jazz, and unreadable
    dialog = dialog_for(qtbot, journal)
    assert dialog.selected_batch().id == nothing
    assert column(dialog, "State") == ["nothing written", "done"]
    assert column(dialog, "Genres written") == ["–", "Jazz"]
    states = [row[2] for row in cells(dialog.files)]
    assert states == ["unchanged", "error"]
    assert dialog.files.item(1, 3).text()  # the error says why
    assert not dialog.undo_button.isEnabled()
    dialog.select_batch(written)
    assert dialog.undo_button.isEnabled()


def test_an_undone_batch_cannot_be_undone_again_and_says_what_undid_it(qtbot, journal, writer, make_flac):
    a, b = make_flac("a.flac"), make_flac("b.flac")
    first = write(writer, "set", [(a, ["Jazz"]), (b, ["Jazz"])])
    undo = list(writer.undo(first))[0].batch
    assert read_tags(a).genres == ["Rock"]
    dialog = dialog_for(qtbot, journal)
    assert column(dialog, "Batch") == [str(undo), str(first)]
    assert column(dialog, "What you did") == [f"Undid batch {first}", "Ran genre-tagger set"]
    assert column(dialog, "State") == ["done", f"undone by batch {undo}"]
    assert column(dialog, "Genres written") == ["Rock", "Jazz"]  # the undo wrote the old genres back
    dialog.select_batch(first)
    assert not dialog.undo_button.isEnabled()
    assert [row[2] for row in cells(dialog.files)] == [f"undone by batch {undo}"] * 2
    dialog.select_batch(undo)  # undoing the undo writes the batch's genres again
    assert dialog.undo_button.isEnabled()


def test_either_sign_in_the_journal_marks_a_batch_undone(qtbot, journal, writer, make_flac):
    # The journal records an undo twice: the undo's entry points at the entry it reverts, and
    # the reverted entry is marked "undone". Each alone must be enough (a journal edited by
    # another version, or a crash between the two, must not offer a second undo).
    a, b = make_flac("a.flac"), make_flac("b.flac")
    first = write(writer, "set", [(a, ["Jazz"])])
    second = write(writer, "set", [(b, ["Jazz"])])
    undo_first = list(writer.undo(first))[0].batch
    undo_second = list(writer.undo(second))[0].batch
    with journal._transaction() as db:
        db.execute("UPDATE entries SET state='written' WHERE batch=?", (first,))  # only the pointer left
        db.execute("UPDATE entries SET undoes=NULL WHERE batch=?", (undo_second,))  # only the mark left
    assert journal.batch(first).undoable  # the journal's own summary alone would offer it
    dialog = dialog_for(qtbot, journal)
    states = dict(zip(column(dialog, "Batch"), column(dialog, "State")))
    assert states[str(first)] == f"undone by batch {undo_first}"
    assert states[str(second)] == "undone"
    for batch in (first, second):
        dialog.select_batch(batch)
        assert not dialog.undo_button.isEnabled()
        assert dialog.selected_batch().to_undo == []


def test_a_partly_undone_batch_can_be_undone_for_the_files_left(qtbot, journal, writer, make_flac):
    a, b, c = make_flac("a.flac"), make_flac("b.flac"), make_flac("c.flac")
    first = write(writer, "set", [(a, ["Jazz"]), (b, ["Jazz"]), (c, ["Jazz"])])
    write(writer, "set", [(b, ["Polka"])])  # a later edit: the undo skips b
    undo = list(writer.undo(first))[0].batch
    assert read_tags(b).genres == ["Polka"]
    dialog = dialog_for(qtbot, journal)
    dialog.select_batch(first)
    view = dialog.selected_batch()
    assert view.status == f"partly undone by batch {undo}"
    assert [e.path.name for e in view.to_undo] == ["b.flac"]
    assert dialog.undo_button.isEnabled()
    text = dialog.confirm_text(first)
    assert "The genres of 1 file go back to what they were before it: b.flac." in text
    assert "a.flac" not in text and "c.flac" not in text


def test_an_unfinished_batch_is_marked_so(qtbot, journal, writer, make_flac):
    a = make_flac("a.flac")
    write(writer, "set", [(a, ["Jazz"])])
    started = writer.start("apply")  # killed while it analysed: no file planned
    dialog = dialog_for(qtbot, journal)
    assert column(dialog, "Batch")[0] == str(started)
    assert column(dialog, "State")[0] == "unfinished"
    assert column(dialog, "Files")[0] == "0 files"
    assert not dialog.undo_button.isEnabled()


def test_the_confirmation_names_the_files_and_counts_them(qtbot, journal, writer, make_flac):
    paths = [make_flac(f"track {n:02}.flac") for n in range(1, 13)]
    many = write(writer, "set", [(p, ["Jazz"]) for p in paths])
    one = write(writer, "set", [(paths[0], ["Blues"])])
    created = {s.id: s.created for s in journal.batches()}
    dialog = dialog_for(qtbot, journal)
    text = dialog.confirm_text(many)
    assert text.startswith(f"Undo batch {many} (Ran genre-tagger set, {when(created[many])})?")
    named = ", ".join(f"track {n:02}.flac" for n in range(1, 11))
    assert f"The genres of 12 files go back to what they were before it: {named} and 2 more." in text
    assert "track 11.flac" not in text and "track 12.flac" not in text
    assert "The genres of 1 file go back to what they were before it: track 01.flac." in dialog.confirm_text(one)
    # The message box says the same, and lists every file in full behind "Show Details".
    box = dialog.confirmation_box(many)
    qtbot.addWidget(box)
    assert box.text() == text
    assert box.detailedText().splitlines() == [str(p.resolve()) for p in paths]
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)


def test_accepting_emits_the_chosen_batch_and_closes(qtbot, journal, writer, make_flac):
    a, b = make_flac("a.flac"), make_flac("b.flac")
    first = write(writer, "set", [(a, ["Jazz"]), (b, ["Jazz"])])
    write(writer, "set", [(a, ["Blues"])])
    dialog = dialog_for(qtbot, journal)
    dialog.show()
    dialog.select_batch(first)  # not the newest: the id must be the chosen batch's
    asked = []
    dialog.confirm = lambda view: asked.append(view.id) or True
    with qtbot.waitSignal(dialog.undo_requested, timeout=1000) as signal:
        dialog.undo_button.click()
    assert signal.args == [first]
    assert asked == [first]
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    # The window would run it; here the writer does, and the dialog then shows the batch undone.
    results = list(writer.undo(signal.args[0]))
    assert [r.status for r in results] == ["written", "skipped"]  # a changed since, so kept
    dialog.refresh()
    assert dialog.selected_batch().id == first  # refresh keeps the selection
    assert dialog.selected_batch().status == f"partly undone by batch {results[0].batch}"


def test_declining_emits_nothing(qtbot, journal, writer, make_flac, monkeypatch):
    a = make_flac("a.flac")
    batch = write(writer, "set", [(a, ["Jazz"])])
    dialog = dialog_for(qtbot, journal)
    dialog.show()
    emitted = []
    dialog.undo_requested.connect(emitted.append)
    dialog.confirm = lambda view: False
    dialog.undo_button.click()
    assert emitted == [] and dialog.isVisible()
    # Through the real message box too: No does nothing, Yes emits.
    dialog.confirm = dialog._ask
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "exec", lambda box: answers.pop(0))
    dialog.undo_button.click()
    assert emitted == [] and dialog.isVisible()
    dialog.undo_button.click()
    assert emitted == [batch]
    assert read_tags(a).genres == ["Jazz"]  # the dialog itself writes nothing


def test_refresh_shows_new_batches_and_an_empty_journal_says_so(qtbot, journal, make_flac):
    dialog = dialog_for(qtbot, journal)
    assert dialog.batches.rowCount() == 0 and dialog.files.rowCount() == 0
    assert not dialog.empty.isHidden() and dialog.batches.isHidden()
    assert not dialog.undo_button.isEnabled()
    merge = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE))
    batch = write(merge, "set --mode merge", [(make_flac("a.flac"), ["Jazz"])])
    dialog.refresh()
    assert column(dialog, "Batch") == [str(batch)]
    assert column(dialog, "Mode") == ["merge"]
    assert cells(dialog.files) == [["a.flac", "Rock → Rock, Jazz", "written", ""]]
    assert dialog.empty.isHidden() and not dialog.batches.isHidden()
    assert dialog.undo_button.isEnabled()

"""The window over its review session: work is never lost, undo stays in its lane, and
what the window says is what the rows hold."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from support.review import other_process_claims
from support.window import WAIT_MS, analysed, tagged_audio, written

from tagger.analysis.analyzer import FileResult
from tagger.genres.suggestion import GenreSuggestion
from tagger.review.items import ReviewItem, ReviewState
from tagger.review.saved import default_saved_path
from tagger.tags import read_tags
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest
from ui.actions import Act
from ui.dialogs import GenreEditor
from ui.library import Column
from ui.main_window import MainWindow
from ui.status_bar import counts_text, elide_words, finished_text

Keep, Discard, Cancel = (QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard,
                         QMessageBox.StandardButton.Cancel)


def rows_with_analyses(window: MainWindow, analyzer, tmp_path: Path, n: int = 3) -> list[ReviewItem]:
    """Real files, really analysed, given known suggestions: Rock at 0.9, 0.6, 0.3 … and Jazz below it.
    The files share a folder and a genre, so their album's evidence would add Pop to each: the
    suggestions are the audio's alone here."""
    window.session.settings.evidence = "audio"
    paths = [tagged_audio(tmp_path / f"{i}.flac", genre="Pop", title=f"Song {i}", seconds=2.0) for i in range(n)]
    items = window.session.add(ReviewItem(p, ["Pop"], title=f"Song {i}") for i, p in enumerate(paths))
    tops = [0.9, 0.6, 0.3, 0.2][:n]
    window.session.take_analyses([
        FileResult(p, replace(analyzer.analyse(p), genres=[GenreSuggestion("Rock", "Rock", t),
                                                          GenreSuggestion("Jazz", "Jazz", t / 3)]))
        for p, t in zip(paths, tops)])
    return items


def new_window(qtbot, analyzer) -> MainWindow:
    window = MainWindow(make_analyzer=lambda device: analyzer)
    window.confirm = lambda question: True  # work still running at the test's end stops
    qtbot.addWidget(window)
    return window


def close_window(window: MainWindow, answer: QMessageBox.StandardButton | None) -> tuple[bool, list[int]]:
    """Close, answering the keep-the-review question with ``answer``; (closed, questions asked)."""
    asked: list[int] = []
    window.ask_keep_review = lambda undecided: asked.append(undecided) or answer
    return window.close(), asked


def test_quitting_with_unwritten_decisions_asks_and_the_review_comes_back(qtbot, analyzer, tmp_path):
    first = new_window(qtbot, analyzer)
    items = rows_with_analyses(first, analyzer, tmp_path)
    first.session.accept([items[0]])
    first.session.edit([items[2]], ["Shoegaze", "Dream Pop"])
    first.session.reject([items[1]])
    closed, asked = close_window(first, Cancel)
    assert not closed and asked == [2]  # cancel keeps the window open
    closed, asked = close_window(first, Keep)
    assert closed and default_saved_path().exists()

    second = new_window(qtbot, analyzer)
    back = {i.path: i for i in second.session.items}
    assert [back[i.path].state for i in items] == [ReviewState.ACCEPTED, ReviewState.REJECTED,
                                                   ReviewState.ACCEPTED]
    assert back[items[2].path].proposed == ["Shoegaze", "Dream Pop"] and back[items[2].path].edited
    assert second.kept.bar.isVisibleTo(second) and "2 decisions not written yet" in second.kept.bar.text.text()
    # The analyses the decisions rest on come back from the cache before anything can be written.
    analysed(qtbot, second)
    assert back[items[0].path].can_write and back[items[0].path].analysis is not None
    second.kept.discard()
    assert second.session.items == [] and not default_saved_path().exists()
    assert second.model.rowCount() == 0
    assert close_window(second, Keep) == (True, [])  # nothing left to lose: no question


def test_discarding_at_quit_forgets_the_review(qtbot, analyzer, tmp_path):
    first = new_window(qtbot, analyzer)
    items = rows_with_analyses(first, analyzer, tmp_path, 2)
    first.session.accept([items[0]])
    assert close_window(first, Discard) == (True, [1])
    assert not default_saved_path().exists()
    second = new_window(qtbot, analyzer)
    assert second.session.items == [] and not second.kept.bar.isVisibleTo(second)


def test_a_window_whose_review_another_process_owns_leaves_it_alone_and_says_so(qtbot, analyzer, tmp_path):
    """The issue's second window: it neither restores the first's unsaved review nor deletes it."""
    first = new_window(qtbot, analyzer)
    items = rows_with_analyses(first, analyzer, tmp_path / "first", 2)
    first.session.accept([items[0]])
    assert close_window(first, Keep)[0]
    kept = default_saved_path().read_bytes()
    other = other_process_claims()  # the first window, open in another process
    try:
        assert other.stdout.readline().strip() == "owner"
        second = new_window(qtbot, analyzer)
        assert second.session.items == [] and second.kept.bar.isVisibleTo(second)
        assert second.kept.bar.text.text() == ("<b>This window's review is not kept for next time:</b> another "
                                               "Genre Tagger window keeps the last review.")
        assert not second.kept.bar.discard_button.isVisibleTo(second)
        mine = rows_with_analyses(second, analyzer, tmp_path / "second", 2)
        second.session.edit([mine[0]], ["Krautrock"])
        second.kept.save()  # what the autosave would do
        questions: list[str] = []
        second.confirm = lambda question: questions.append(question) or True
        # Quitting asks whether to lose the decisions, never Keep or Discard.
        assert close_window(second, Discard) == (True, [])
        assert len(questions) == 1 and "another Genre Tagger window keeps the last review" in questions[0]
        assert default_saved_path().read_bytes() == kept
    finally:
        other.communicate("", timeout=60)
    third = new_window(qtbot, analyzer)  # the owner has gone: the review comes back
    assert [i.path for i in third.session.items] == [i.path for i in items]
    assert close_window(third, Keep) == (True, [1])  # it holds the accepted row again: quitting asks about it


def test_discarding_the_last_review_keeps_the_folder_opened_at_this_start(qtbot, analyzer, tmp_path):
    first = new_window(qtbot, analyzer)
    items = rows_with_analyses(first, analyzer, tmp_path / "album", 2)
    first.session.accept([items[0]])
    assert close_window(first, Keep)[0]
    second = new_window(qtbot, analyzer)
    second.add_paths([tmp_path / "album"])  # as `genre-tagger gui FOLDER` does, after the review came back
    qtbot.waitUntil(lambda: not second.scans.running, timeout=WAIT_MS)
    second.kept.discard()
    qtbot.waitUntil(lambda: not second.scans.running and len(second.session.items) == 2, timeout=WAIT_MS)
    assert {i.path for i in second.session.items} == {i.path for i in items}
    assert {i.state for i in second.session.items} == {ReviewState.NEW}


def test_an_edit_is_written_by_apply_without_a_separate_accept(qtbot, window, analyzer, tmp_path):
    items = rows_with_analyses(window, analyzer, tmp_path, 2)
    window.session.edit([items[1]], ["Krautrock"])
    assert window.model.index(window.model.row_of(items[1].path), Column.STATUS).data() == "accepted (edited)"
    window.actions.update_now()
    assert window.actions[Act.APPLY].isEnabled()
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert read_tags(items[1].path).genres == ["Krautrock"]
    assert read_tags(items[0].path).genres == ["Pop"]  # suggested, never accepted: untouched


def test_an_edit_over_a_failed_row_leaves_it_failed_and_says_so(qtbot, window, analyzer, tmp_path, monkeypatch):
    items = rows_with_analyses(window, analyzer, tmp_path, 2)
    window.session.take_analyses([FileResult(items[1].path, error="decoding failed at 0:01 of 0:02 (FFmpeg: Invalid "
                                                                 "data); the file may be truncated or corrupt")])
    window.select_paths([i.path for i in items])
    monkeypatch.setattr(GenreEditor, "exec", lambda editor: editor.add("Krautrock") or True)
    window.edit_selected()
    assert [i.state for i in items] == [ReviewState.ACCEPTED, ReviewState.ERROR]
    assert "Krautrock" in items[1].proposed
    assert window.model.index(window.model.row_of(items[1].path), Column.STATUS).data() == \
        "error: file is damaged (edited)"
    assert window.status.message_label.message().startswith("1 file that failed keeps your genres")
    assert window.session.write_requests() and [r.path for r in window.session.write_requests()] == [items[0].path]


def test_undo_reaches_only_this_windows_batches_and_only_once(qtbot, window, analyzer, tmp_path):
    elsewhere = tagged_audio(tmp_path / "other" / "elsewhere.flac", genre="Blues")
    journal = Journal(window.journal.path)
    list(GenreWriter(journal).write([WriteRequest(elsewhere, ["Folk"])], "set elsewhere"))
    journal.close()
    window.actions.update_now()
    assert not window.actions[Act.UNDO].isEnabled()  # the batch another run wrote is not this window's
    window.undo_last()
    assert read_tags(elsewhere).genres == ["Folk"]

    items = rows_with_analyses(window, analyzer, tmp_path, 1)
    window.session.accept(items)
    window.apply_accepted()
    written(qtbot, window)
    assert read_tags(items[0].path).genres == ["Rock"]
    assert window.status.message_label.message() == "Wrote genres to 1 file"  # what was written, not a batch id
    window.actions.update_now()
    assert window.actions[Act.UNDO].isEnabled()
    questions: list[str] = []
    window.confirm = lambda question: questions.append(question) or True
    window.actions[Act.UNDO].trigger()
    written(qtbot, window)
    assert read_tags(items[0].path).genres == ["Pop"]
    assert "restore the genres it replaced in the 1 file it wrote?" in questions[0]
    assert re.fullmatch(r"Put back the genres of 1 file as they were before batch \d+",
                        window.status.message_label.message())
    # The row shows what the file holds again, and a second undo has nothing of this window's left.
    assert items[0].current_genres == ["Pop"] and items[0].state is ReviewState.SUGGESTED
    window.actions.update_now()
    assert not window.actions[Act.UNDO].isEnabled()
    window.undo_last()
    qtbot.wait(200)
    assert read_tags(items[0].path).genres == ["Pop"] and read_tags(elsewhere).genres == ["Folk"]
    assert len(questions) == 1
    # A second Ctrl+Z, where the disabled action takes no shortcut, says so instead of nothing.
    window.notify("")
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.status.message_label.message().startswith("Nothing this window wrote is left to undo")
    assert len(questions) == 1


def test_status_bar_counts_and_messages_use_plurals():
    one, two = ReviewItem(Path("/a.flac"), state=ReviewState.ERROR), ReviewItem(Path("/b.flac"))
    assert counts_text([one]) == "1 file · 1 error"
    assert counts_text([one, two, replace(one, path=Path("/c.flac"))]) == "3 files · 1 new · 2 errors"


def test_the_status_bar_counts_every_row_once_whatever_its_state():
    items = [ReviewItem(Path(f"/{state}{n}.flac"), state=state) for n, state in enumerate(ReviewState) for _ in
             range(n + 1)]
    total, *parts = counts_text(items).split(" · ")
    assert total == f"{len(items)} files"
    assert len(parts) == len(ReviewState) and sum(int(p.split()[0]) for p in parts) == len(items)
    from tagger.analysis.pipeline import Progress

    assert finished_text(Progress(finished=1, failed=0, cached=0, total=1, elapsed_s=3.0)) == "Analysed 1 file in 0:03"


def test_the_end_of_a_write_says_what_became_of_the_files():
    from collections import Counter

    from tagger.writing.writer import WriteStatus
    from ui.write_control import applied_text, undone_text

    assert applied_text(Counter({WriteStatus.WRITTEN: 12, WriteStatus.UNCHANGED: 2})) == \
        "Wrote genres to 12 files; 2 already held theirs"
    assert applied_text(Counter({WriteStatus.UNCHANGED: 1})) == "Nothing to write: 1 file already held its genres"
    assert applied_text(Counter({WriteStatus.ERROR: 3})) is None  # the failures say it
    assert undone_text(4, Counter({WriteStatus.WRITTEN: 2, WriteStatus.SKIPPED: 1})) == \
        "Put back the genres of 2 files as they were before batch 4; 1 file changed since, left as it is"


def test_status_lines_start_with_a_capital(qtbot, window, analyzer, tmp_path):
    from ui.workers import BackgroundJob

    def broken() -> None:
        raise RuntimeError("no models")

    job = BackgroundJob()
    failures: list[str] = []
    job.failed.connect(failures.append)
    job.start("loading the models", broken)
    qtbot.waitUntil(lambda: not job.running, timeout=WAIT_MS)
    assert failures == ["Loading the models failed: no models"]
    items = rows_with_analyses(window, analyzer, tmp_path, 1)
    window.mark_cleanup([(items[0], ["Rock"])], "normalise all genres", [])  # as the Genres panel words it
    assert window.status.message_label.message().startswith("Normalise all genres: 1 row marked")


def test_a_long_message_is_cut_at_a_word_not_inside_one():
    fits = lambda text: len(text) <= 20  # noqa: E731
    assert elide_words("2 files could not be analysed; the last: x.flac", fits) == "2 files could not…"
    assert elide_words("short", fits) == "short"


def test_several_failures_in_one_run_are_counted_together(qtbot, window, make_audio, tmp_path):
    bad = [tmp_path / "bad1.flac", tmp_path / "bad2.flac"]
    for path in bad:
        path.write_bytes(b"not audio at all" * 100)
    good = make_audio("good.flac", seconds=3)
    window.add_paths([*bad, good])
    qtbot.waitUntil(lambda: not window.scans.running, timeout=WAIT_MS)
    window.analyse_all()
    analysed(qtbot, window)
    assert window.status.message_label.message().startswith("2 files could not be analysed")


def test_the_sort_is_restored_not_just_its_arrow(qtbot, analyzer, tmp_path):
    first = new_window(qtbot, analyzer)
    rows_with_analyses(first, analyzer, tmp_path, 3)
    first.table.sortByColumn(Column.TITLE, Qt.SortOrder.DescendingOrder)
    assert close_window(first, Keep)[0]
    second = new_window(qtbot, analyzer)
    titles = [second.model.index(r, Column.TITLE).data() for r in range(second.model.rowCount())]
    assert titles == ["Song 2", "Song 1", "Song 0"]


def test_the_detail_panel_follows_the_filter(qtbot, window, analyzer, tmp_path):
    items = rows_with_analyses(window, analyzer, tmp_path, 2)
    window.select_paths([items[1].path])
    window._show_current()
    assert window.detail.path == items[1].path
    window.search.setText("Song 0")
    window.apply_filter()
    assert window.model.rowCount() == 1
    assert window.detail.path is None  # not a track that is no longer shown


def test_search_finds_rows_by_their_genres(qtbot, window, analyzer, tmp_path):
    items = rows_with_analyses(window, analyzer, tmp_path, 3)
    window.session.edit([items[2]], ["Zeuhl"])
    # Zeuhl is only chosen, Pop only held by the files, Jazz only an unchosen candidate.
    for text, expected in (("zeuhl", [items[2]]), ("pop", items), ("jazz", items), ("krautrock", [])):
        window.search.setText(text)
        window.apply_filter()
        assert [window.model.item_at(r) for r in range(window.model.rowCount())] == expected, text
    assert window.table.placeholder_text() == "No matches"


def test_an_empty_window_disables_what_needs_rows(qtbot, window):
    window.actions.update_now()
    for act in (Act.ANALYSE_ALL, Act.ANALYSE_SELECTED, Act.ACCEPT, Act.ACCEPT_ABOVE, Act.REJECT, Act.EDIT,
                Act.APPLY, Act.UNDO, Act.LEARN):
        assert not window.actions[act].isEnabled(), act
    assert window.actions[Act.ADD_FOLDER].isEnabled()


def test_the_close_prompt_names_the_work_that_runs(qtbot, window):
    questions: list[str] = []
    window.confirm = lambda question: questions.append(question) or False
    window.busy = lambda: ["writing tags"]
    assert not window.close()
    assert questions == ["Stop writing tags and quit? The file being written is finished first; "
                         "nothing is left half-written."]
    window.busy = lambda: ["analysing"]
    assert not window.close()
    assert questions[-1] == "Stop analysing and quit?"
    window.busy = list


def test_the_side_panel_gives_way_in_a_narrow_window(qtbot, window):
    window.resize(1280, 760)
    qtbot.wait(50)
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.detail_dock.width() <= 0.36 * window.width() + 8, timeout=2000)
    assert window.views.width() > window.detail_dock.width()


def test_esc_in_the_search_box_clears_it_and_shows_every_row_again(qtbot, window, analyzer, tmp_path):
    rows_with_analyses(window, analyzer, tmp_path, 2)
    window.search.setText("Song 1")
    window.apply_filter()
    assert window.model.rowCount() == 1
    qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == "" and window.model.rowCount() == 2


def test_counts_follow_a_burst_of_results_once_it_is_over(qtbot, window, analyzer, tmp_path):
    window.busy = lambda: ["analysing"]  # results arriving: the counts wait for the burst's end
    rows_with_analyses(window, analyzer, tmp_path, 3)
    assert window.status.counts.text() == "0 files"
    qtbot.waitUntil(lambda: window.status.counts.text() == "3 files · 2 suggested · 1 unsure", timeout=2000)
    window.busy = list
    window.session.reject(window.session.items[:1])  # a person's decision shows at once
    assert window.status.counts.text() == "3 files · 1 suggested · 1 unsure · 1 rejected"

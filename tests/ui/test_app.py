"""The desktop app, driven offscreen with pytest-qt on real files made in the test."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from support import tagfiles
from support.window import WAIT_MS, analysed, scanned, shown_window, written

from tagger.analysis.analyzer import Analyzer
from tagger.audio.excerpt import Depth
from tagger.review.items import ReviewItem, ReviewState
from tagger.settings import Settings
from tagger.tags import read_tags
from ui.actions import Act
from ui.library import Column, Filter, LibraryModel
from ui.main_window import MainWindow


def test_scanning_fills_the_table_with_the_files_tags(qtbot, window, tmp_path):
    for folder in ("a", "b"):
        (tmp_path / "music" / folder).mkdir(parents=True)
    paths = [tagfiles.make(tmp_path / "music" / "a", "flac"), tagfiles.make(tmp_path / "music" / "b", "mp3-id3v24")]
    (tmp_path / "music" / "notes.txt").write_text("not music")
    scanned(qtbot, window, [tmp_path / "music"])
    assert window.model.rowCount() == 2
    items = {i.path: i for i in window.session.items}
    assert set(items) == set(paths)
    flac = items[paths[0]]
    assert flac.state is ReviewState.NEW
    assert (flac.artist, flac.title, flac.current_genres) == (read_tags(paths[0]).artist, read_tags(paths[0]).title,
                                                              read_tags(paths[0]).genres)
    row = window.model.row_of(paths[0])
    assert window.model.index(row, Column.TITLE).data() == flac.title
    scanned(qtbot, window, [tmp_path / "music"])  # scanning again adds nothing twice
    assert window.model.rowCount() == 2


def test_analysis_fills_rows_and_progress(qtbot, window, make_audio):
    paths = [make_audio(f"song{i}.flac", seconds=6.0) for i in range(3)]
    scanned(qtbot, window, paths)
    window.analyse_all()
    assert window.status.progress.isVisible() and window.status.cancel_button.isVisible()
    analysed(qtbot, window)
    # A generated chord is no genre: its rows are unsure, each still showing its best candidates.
    for item in map(window.session.item, paths):
        assert item.analysis.genres and len(item.candidates()) == 3
        reaches = item.top_confidence >= window.settings.min_confidence
        assert item.state is (ReviewState.SUGGESTED if reaches else ReviewState.UNSURE)
    assert window.status.progress.value() == window.status.progress.maximum() == 3
    assert window.status.progress_label.text().startswith("Analysed 3 files in ")
    row = window.model.row_of(paths[0])
    assert window.model.index(row, Column.CONFIDENCE).data().endswith("%")
    window.table.selectRow(row)
    assert "Analysed 2 of 2 segments (adaptive)" in window.detail.state.text()
    assert window.detail.view.timeline._analysis is window.session.item(paths[0]).analysis


def test_analyse_fully_deepens_the_selected_row_and_keeps_the_decision(qtbot, window, make_audio):
    long, other = make_audio("long.flac", seconds=40.0, rate=16000), make_audio("other.flac", seconds=40.0, rate=16000)
    scanned(qtbot, window, [long, other])
    window.analyse_all()
    analysed(qtbot, window)
    item = window.session.item(long)
    assert item.analysis.patches_analysed < item.analysis.total_patches
    window.table.selectRow(window.model.row_of(long))
    window.session.edit([item], ["Jazz"])
    assert item.state is ReviewState.ACCEPTED
    assert window.actions[Act.ANALYSE_FULLY].isEnabled()
    window.actions[Act.ANALYSE_FULLY].trigger()
    analysed(qtbot, window)
    assert item.analysis.depth is Depth.FULL and item.analysis.patches_analysed == item.analysis.total_patches == 13
    assert item.state is ReviewState.ACCEPTED and item.proposed == ["Jazz"]
    assert window.session.item(other).analysis.depth is Depth.ADAPTIVE  # only the selection
    assert "Analysed 13 of 13 segments (full)" in window.detail.state.text()


def test_progress_text_gives_count_rate_and_time_left():
    from tagger.analysis.pipeline import Progress
    from ui.status_bar import progress_text

    assert progress_text(Progress(1, 0, 0, 3, 2.0)) == "1 / 3 files · 0.5 files/s · 0:04 left"
    assert progress_text(Progress(10, 1, 0, None, 4.0)) == "10 / ? files · 2.5 files/s"


def test_cancel_stops_analysis_within_a_second(qtbot, window, make_audio):
    paths = [make_audio(f"long{i}.flac", seconds=60.0, rate=16000, channels=1) for i in range(12)]
    scanned(qtbot, window, paths)
    window.settings.depth = "full"
    window.analyse_all()
    qtbot.waitUntil(lambda: any(i.state is ReviewState.ANALYSING for i in window.session.items), timeout=WAIT_MS)
    started = time.perf_counter()
    window.actions[Act.CANCEL].trigger()
    qtbot.waitUntil(lambda: not window.analysis.running, timeout=5000)
    assert time.perf_counter() - started < 1.0
    qtbot.wait(50)
    states = [i.state for i in window.session.items]
    assert ReviewState.ANALYSING not in states  # interrupted rows go back to where they were
    assert states.count(ReviewState.SUGGESTED) < len(paths)
    assert window.status.progress_label.text() == "Analysis cancelled"


def test_edit_accept_apply_and_undo_round_trip(qtbot, window, tmp_path):
    mp3 = tagfiles.make(tmp_path, "mp3-id3v23")
    flac = tagfiles.make(tmp_path, "flac")
    before = {p: (read_tags(p).genres, tagfiles.other_tags(p), p.stat().st_size) for p in (mp3, flac)}
    scanned(qtbot, window, [tmp_path])
    window.analyse_all()
    analysed(qtbot, window)
    items = [window.session.item(mp3), window.session.item(flac)]
    window.session.edit(items, ["Jazz", "Bossa Nova"])
    assert all(i.state is ReviewState.ACCEPTED for i in items)  # an edit is a decision
    assert window.model.index(window.model.row_of(mp3), Column.STATUS).data() == "accepted (edited)"
    assert (tmp_path / mp3.name).stat().st_size == before[mp3][2]  # nothing written before Apply

    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    for path in (mp3, flac):
        assert read_tags(path).genres == ["Jazz", "Bossa Nova"]
        assert tagfiles.other_tags(path) == before[path][1]
        assert window.session.item(path).state is ReviewState.WRITTEN
        assert window.session.item(path).current_genres == ["Jazz", "Bossa Nova"]
    assert window.actions[Act.UNDO].isEnabled()

    questions = []
    window.confirm = lambda question: questions.append(question) or False
    window.actions[Act.UNDO].trigger()  # declined: nothing is reverted
    qtbot.wait(500)
    assert all(read_tags(path).genres == ["Jazz", "Bossa Nova"] for path in (mp3, flac))
    questions.clear()
    window.confirm = lambda question: questions.append(question) or True
    window.actions[Act.UNDO].trigger()
    written(qtbot, window)
    # The person is asked first, and told which batch is about to be reverted.
    assert len(questions) == 1
    assert questions[0].startswith("Undo batch 1 (") and "in the 2 files it wrote?" in questions[0]
    for path in (mp3, flac):
        assert read_tags(path).genres == before[path][0]
        assert tagfiles.other_tags(path) == before[path][1]
        assert window.session.item(path).current_genres == before[path][0]


def test_merge_mode_adds_to_the_files_genres(qtbot, window, tmp_path):
    flac = tagfiles.make(tmp_path, "flac")
    old = read_tags(flac).genres
    assert old
    scanned(qtbot, window, [flac])
    item = window.session.item(flac)
    window.session.edit([item], ["Ambient"])
    item.accept()
    window.mode.setCurrentText("merge")
    window.apply_accepted()
    written(qtbot, window)
    assert read_tags(flac).genres == [*old, "Ambient"]


def test_accept_above_a_confidence_and_reject(qtbot, window, demo_analysis):
    confident, unsure = ReviewItem(Path("/x/a.flac")), ReviewItem(Path("/x/b.flac"))
    window.session.add([confident, unsure])
    for item, confidence in ((confident, 0.9), (unsure, 0.3)):
        item.analysis = with_confidence(demo_analysis, confidence)
        item.suggestions = item.analysis.genres
        item.proposed, item.state = ["Rock"], ReviewState.SUGGESTED
    assert window.accept_above(0.7) == 1
    assert (confident.state, unsure.state) == (ReviewState.ACCEPTED, ReviewState.SUGGESTED)
    window.select_paths([unsure.path])
    window.actions[Act.REJECT].trigger()
    assert unsure.state is ReviewState.REJECTED


def test_dropping_one_file_checks_it_and_the_cards_button_writes_what_it_shows(qtbot, window, tmp_path):
    # A real music excerpt, tagged like any library file: generated tones score below
    # the confidence threshold, which left the card's Apply button disabled and its
    # write path untested. The threshold is lowered through the app's own settings
    # too, so that the card proposes several genres, not just the top one: to 0.15,
    # since the base model is rightly unsure of this game track (issue 10: Jazz 0.23,
    # Progressive Rock 0.18 and Alternative 0.16 with fp32; int8 on a CPU without VNNI moved
    # them by up to 0.12, and `auto` runs fp32 there).
    from dataclasses import replace

    from tagger.resources import samples_dir

    path = Path(shutil.copy(samples_dir() / "domina-hunting.opus", tmp_path / "dropped.opus"))
    tagfiles.add_vorbis(path)
    genres_before, others_before = read_tags(path).genres, tagfiles.other_tags(path)
    audio_before = tagfiles.decoded_audio(path)
    window.set_settings(replace(window.settings, min_confidence=0.15, max_genres=3))

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(QPoint(100, 100)), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: path in window.cards, timeout=WAIT_MS)
    card = window.cards[path]
    qtbot.waitUntil(lambda: window.session.item(path) is not None
                    and window.session.item(path).state is ReviewState.SUGGESTED, timeout=WAIT_MS)
    qtbot.wait(50)
    assert card.isVisible() and card.view.bars._genres

    assert card.summary.text().startswith("<b>Suggested:</b>")
    chips = card.chips.chips()
    shown = [c.genre for c in chips if c.chosen]
    assert 2 <= len(shown) <= 3 and shown == window.session.item(path).proposed
    # Each chip carries its confidence and its source: no model was learned, so the bundled vocabulary.
    assert [c.source for c in chips] == ["base"] * len(chips)
    assert [c.confidence for c in chips if c.chosen] == [window.session.item(path).confidence_of(g) for g in shown]
    assert "from the bundled genre vocabulary" in card.chips.toolTip()
    # A person unticks the last genre on the card before writing: only the rest is written.
    card.toggled_genre.emit(path, shown[-1])
    shown = shown[:-1]
    assert [c.genre for c in card.chips.chips() if c.chosen] == shown
    assert card.apply_button.text() == f"Write {len(shown)} genre" + ("s" if len(shown) > 1 else "")
    assert shown != genres_before  # so that a write that did not happen cannot pass
    assert card.apply_button.isEnabled()
    qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)
    written(qtbot, window)

    assert read_tags(path).genres == shown
    assert tagfiles.other_tags(path) == others_before
    assert np.array_equal(tagfiles.decoded_audio(path), audio_before)
    assert window.session.item(path).state is ReviewState.WRITTEN
    assert card.summary.text() == "Written: " + ", ".join(shown)
    assert not card.apply_button.isEnabled()


def test_dropping_a_folder_adds_it_to_the_library(qtbot, window, make_audio, tmp_path):
    make_audio("folder/one.flac", seconds=2.0)
    make_audio("folder/two.flac", seconds=2.0)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "folder"))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: window.model.rowCount() == 2 and not window.scans.running, timeout=WAIT_MS)
    assert not window.cards


def test_a_broken_file_shows_an_error_row_and_the_batch_goes_on(qtbot, window, make_audio, tmp_path):
    good = make_audio("good.flac", seconds=4.0)
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff" * 300)
    scanned(qtbot, window, [good, bad])
    window.analyse_all()
    analysed(qtbot, window)
    item = window.session.item(bad)
    assert item.state is ReviewState.ERROR and item.error
    row = window.model.row_of(bad)
    assert window.model.index(row, Column.STATUS).data().startswith("error: ")
    assert item.error in window.model.index(row, Column.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert window.session.item(good).analysis is not None and window.session.item(good).error is None
    assert window.status.message_label.message().startswith("1 file could not be analysed; the last: broken.mp3: ")
    window.filter_box.setCurrentText(Filter.ERRORS.value)
    assert [window.model.item_at(r).path for r in range(window.model.rowCount())] == [bad]


def test_settings_and_window_layout_persist(qtbot, analyzer):
    first = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(first)
    first.show()
    first.set_settings(Settings(device="cpu", depth="full", max_genres=5, min_confidence=0.65, write_mode="merge",
                                separator=" / ", provenance=False))
    first.resize(720, 560)  # inside the offscreen screen, which restoreGeometry clamps to
    first.close()
    second = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(second)
    restored = second.settings
    assert (restored.device, restored.depth, restored.max_genres, restored.min_confidence, restored.write_mode,
            restored.separator, restored.provenance) == ("cpu", "full", 5, 0.65, "merge", " / ", False)
    assert second.mode.currentText() == "merge"
    assert (second.width(), second.height()) == (720, 560)


def test_new_thresholds_re_pick_suggestions_without_analysing_again(qtbot, window, demo_analysis):
    from dataclasses import replace

    from tagger.genres.suggestion import GenreSuggestion

    analysis = replace(demo_analysis, genres=[GenreSuggestion(g, g, c)
                                              for g, c in [("Rock", 0.8), ("Jazz", 0.6), ("Folk", 0.3)]])
    item = ReviewItem(Path("/x/song.flac"))
    window.session.add([item])
    item.analysed(analysis, window.settings.min_confidence, window.settings.max_genres)
    assert item.proposed == ["Rock", "Jazz"]
    window.set_settings(replace(window.settings, min_confidence=0.25))
    assert item.proposed == ["Rock", "Jazz", "Folk"]
    window.set_settings(replace(window.settings, max_genres=1))
    assert item.proposed == ["Rock"]
    assert window.analysis.job is None  # no inference ran


def test_a_damaged_settings_file_falls_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"max_genres": 99, "device": "cpu", "write_mode": [1]')
    assert Settings.load(path) == Settings()
    for not_an_object in ("null", "1", "[]"):
        path.write_text(not_an_object)
        assert Settings.load(path) == Settings()
    path.write_text('{"max_genres": 99, "device": "cpu"}')
    assert (Settings.load(path).device, Settings.load(path).max_genres) == ("cpu", Settings().max_genres)


def test_closing_during_analysis_asks_then_stops(qtbot, analyzer, make_audio):
    w = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(w)
    w.show()
    paths = [make_audio(f"long{i}.flac", seconds=60.0, rate=16000, channels=1) for i in range(6)]
    scanned(qtbot, w, paths)
    w.settings.depth = "full"
    w.analyse_all()
    questions = []
    w.confirm = lambda question: questions.append(question) or False
    assert not w.close() and w.analysis.running
    w.confirm = lambda question: questions.append(question) or True
    started = time.perf_counter()
    assert w.close()
    assert time.perf_counter() - started < 2.0 and not w.analysis.running
    assert questions == ["Stop analysing and quit?"] * 2


def with_confidence(analysis, confidence: float):
    """A real analysis whose top genre is Rock at ``confidence``."""
    from dataclasses import replace

    from tagger.genres.suggestion import GenreSuggestion

    return replace(analysis, genres=[GenreSuggestion("Rock", "Rock", confidence)])


def test_sorting_and_filtering_the_model(qtbot, demo_analysis, tmp_path):
    from tagger.review.session import ReviewSession
    from tagger.writing.journal import Journal

    session = ReviewSession(Settings(min_confidence=0.5), Journal(tmp_path / "journal.sqlite3"))
    model = LibraryModel(session)
    items = [ReviewItem(Path(f"/m/{n}.flac"), current_genres=g, artist=a, title=n)
             for n, a, g in [("b", "Zed", []), ("a", "amy", ["Rock"]), ("c", "Bob", ["Jazz"])]]
    session.add(items)
    items[0].analysis, items[0].proposed = with_confidence(demo_analysis, 0.9), ["Rock"]
    items[0].suggestions = items[0].analysis.genres
    items[1].analysis, items[1].proposed = with_confidence(demo_analysis, 0.2), ["rock"]
    items[1].suggestions = items[1].analysis.genres
    items[2].state, items[2].error = ReviewState.ERROR, "broken"

    def shown() -> list[str]:
        return [model.item_at(r).title for r in range(model.rowCount())]

    model.sort(Column.ARTIST, Qt.SortOrder.AscendingOrder)
    assert shown() == ["a", "c", "b"]  # case-insensitive
    model.sort(Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    assert shown() == ["b", "a", "c"]
    model.set_filter(Filter.NO_GENRES)
    assert shown() == ["b"]
    model.set_filter(Filter.DIFFERS)
    assert shown() == ["b"]  # "rock" against "Rock" is no difference
    model.set_filter(Filter.LOW_CONFIDENCE)
    assert shown() == ["a"]
    model.set_filter(Filter.ERRORS)
    assert shown() == ["c"]
    model.set_filter(Filter.ALL, "ZED")
    assert shown() == ["b"]
    model.sort(-1)
    model.set_filter(Filter.ALL, "")
    assert shown() == ["b", "a", "c"]


def test_unicode_paths_and_read_only_files(qtbot, window, tmp_path):
    folder = tmp_path / "Sigur Rós — Ágætis byrjun"
    folder.mkdir()
    path = shutil.copy(tagfiles.make(tmp_path, "ogg-vorbis"), folder / "Svefn-g-englar ♫.ogg")
    Path(path).chmod(0o444)
    scanned(qtbot, window, [folder])
    item = window.session.item(Path(path))
    assert item is not None
    size_before = Path(path).stat().st_size
    window.session.edit([item], ["Post-Rock"])
    item.accept()
    window.apply_accepted()
    written(qtbot, window)
    assert item.state is ReviewState.ERROR and item.error == "the file is read-only"
    assert Path(path).stat().st_size == size_before and read_tags(path).genres == item.current_genres
    assert window.status.message_label.message() == (  # nothing written: no "Writing stopped" before it
        f"1 file not written, the last: {Path(path).name}: the file is read-only")


def test_a_job_ends_for_the_gui_when_its_finished_signal_is_handled(qtbot):
    # A check between the thread's end and the handling of ``finished`` saw a job ended
    # whose results were not taken yet (a learned model not installed, under load).
    import threading

    from ui.workers import BackgroundJob

    job = BackgroundJob()
    ended = threading.Event()
    seen = []
    job.finished.connect(lambda cancelled: seen.append(job.running))
    job.start("test", ended.set)
    ended.wait(5)
    job._thread.join(5)
    assert job.running  # the thread is over, but the GUI has not handled ``finished``
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [False] and not job.running
    assert job.wait(1)


def test_emitting_signals_keeps_python_objects_alive(qtbot):
    # PySide6 6.12.0 dropped a reference to True on every emit(); under Python < 3.12
    # the app aborted after a few thousand signals. The workers emit one per batch.
    import sys

    from ui.workers import ScanJob

    job = ScanJob()
    received = []
    job.found.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(500):
        job.found.emit([])
    # Other threads move the count a little; the bug took one per emit.
    assert sys.getrefcount(True) > before - 100
    assert len(received) == 500


def test_a_file_dropped_during_a_batch_is_analysed_ahead_of_it(qtbot, analyzer, make_audio):
    # Two decoders, whatever the machine's cores: only files already started may finish before
    # the dropped one, and with a decoder per core a CI runner with 4 cores started half the batch.
    window = shown_window(qtbot, Analyzer(device="cpu", threads=2, models=analyzer.models))
    batch = [make_audio(f"long{i}.flac", seconds=30.0, rate=16000, channels=1) for i in range(8)]
    dropped = make_audio("dropped.flac", seconds=4.0)
    scanned(qtbot, window, batch)
    window.settings.depth = "full"
    window.analyse_all()
    order = []
    window.analysis.arrived.connect(order.extend)
    qtbot.waitUntil(lambda: any(i.state is ReviewState.ANALYSING for i in window.session.items), timeout=WAIT_MS)
    window.check_file(dropped)
    analysed(qtbot, window)
    assert window.session.item(dropped).analysis is not None
    assert order.count(dropped) == 1
    assert order.index(dropped) < len(batch) // 2
    assert window.cards[dropped].apply_button.isEnabled() == bool(window.session.item(dropped).proposed)
    window.close()


def test_genre_editor_completes_from_the_taxonomy_and_the_library(qtbot):
    from ui.dialogs import GenreEditor

    editor = GenreEditor([ReviewItem(Path("/m/a.flac"), proposed=["Rock"])],
                         ["Rock", "Post-Rock", "Shoegaze", "Bossa Nova"])
    qtbot.addWidget(editor)
    completer = editor.entry.completer()
    completer.setCompletionPrefix("rock")
    matches = [completer.completionModel().index(i, 0).data() for i in range(completer.completionCount())]
    assert matches == ["Post-Rock", "Rock"]  # case-insensitive, anywhere in the name
    for text in ("  shoegaze ", "ROCK", ""):
        editor.entry.setText(text)
        editor.add_entry()
    assert editor.genres() == ["Rock", "shoegaze"]  # a repeat in other case is not added twice
    editor.list.setCurrentRow(0)
    editor.list.takeItem(0)
    assert editor.genres() == ["shoegaze"]


def test_settings_dialog_round_trips_every_setting(qtbot):
    from ui.dialogs import SettingsDialog

    chosen = Settings(device="cpu", depth="full", max_genres=4, min_confidence=0.35, write_mode="merge",
                      separator=" / ", provenance=False, learn_min_files=3, offer_learning=False,
                      window={"geometry": "abc"})
    dialog = SettingsDialog(chosen)
    qtbot.addWidget(dialog)
    assert dialog.settings() == chosen
    dialog.max_genres.setValue(2)
    dialog.provenance.setChecked(True)
    assert (dialog.settings().max_genres, dialog.settings().provenance) == (2, True)
    dialog.learn_min_files.setValue(7)
    dialog.offer_learning.setChecked(True)
    assert (dialog.settings().learn_min_files, dialog.settings().offer_learning) == (7, True)

"""The dialogs: the genre editor over one row or several, the settings, Accept
Confident Rows, and the card for one dropped file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QLabel

from tagger.genres.suggestion import GenreSuggestion
from tagger.review.items import ReviewItem, ReviewState
from tagger.review.session import ReviewSession
from tagger.settings import Settings
from tagger.tags import MULTI_VALUE_NOTES, MultiValue
from tagger.writing.journal import Journal
from tagger.writing.writer import WriteResult, WriteStatus
from ui.dialogs import AcceptAboveDialog, CheckCard, GenreEditor, SettingsDialog, Spread
from ui.playback import ExcerptPlayer


def analysed(analysis, name: str, genres: list[tuple[str, float]], min_confidence: float = 0.5,
             **tags) -> ReviewItem:
    """A row with a real analysis whose suggestions are ``genres`` (name, confidence)."""
    item = ReviewItem(Path(f"/m/{name}.flac"), **tags)
    item.analysed(replace(analysis, path=item.path, genres=[GenreSuggestion(g, g, c) for g, c in genres]),
                  min_confidence, 3)
    return item


def labels(widget) -> list[str]:
    return [label.text() for label in widget.findChildren(QLabel) if not label.isHidden()]


# The genre editor.


def test_the_editor_names_the_one_track_it_edits(qtbot):
    item = ReviewItem(Path("/m/a.flac"), ["Jazz"], artist="Boards of Canada", title="Roygbiv", proposed=["Rock"])
    editor = GenreEditor([item], ["Rock", "Post-Rock"])
    qtbot.addWidget(editor)
    assert "Boards of Canada – Roygbiv" in editor.heading.text()
    assert editor.summary.isHidden()  # one row needs no account of what goes where
    editor.entry.setText("Shoegaze")
    editor.add_entry()
    editor.list.insertItem(0, editor.list.takeItem(1))  # a drag: the first genre is the one players show
    assert editor.edits() == [(item, ["Shoegaze", "Rock"])]


def test_the_editor_over_six_tracks_says_what_ok_does(qtbot):
    # Every row has Rock and Jazz (one only in the file, since it has no proposal); two have Ambient too.
    items = [ReviewItem(Path("/m/1.flac"), proposed=["Ambient", "Rock", "Jazz"]),
             ReviewItem(Path("/m/2.flac"), proposed=["Jazz", "Rock"]),
             ReviewItem(Path("/m/3.flac"), ["Rock", "Jazz"]),
             ReviewItem(Path("/m/4.flac"), ["Pop"], proposed=["Rock", "Jazz", "ambient"]),
             ReviewItem(Path("/m/5.flac"), proposed=["Rock", "Jazz"]),
             ReviewItem(Path("/m/6.flac"), proposed=["Rock", "Jazz"])]
    editor = GenreEditor(items, ["Rock", "Jazz", "Ambient"])
    qtbot.addWidget(editor)
    assert editor.heading.text() == "<b>6 tracks</b>"
    assert editor.genres() == ["Rock", "Jazz"]
    assert "Ambient — on 2 of 6 tracks" in labels(editor)
    assert editor.summary.text() == "OK gives all 6 tracks Rock, Jazz; Ambient stays on the 2 that have it"
    # Each row keeps its own genres in its own order.
    assert [genres for _, genres in editor.edits()] == [
        ["Ambient", "Rock", "Jazz"], ["Jazz", "Rock"], ["Rock", "Jazz"], ["Rock", "Jazz", "ambient"],
        ["Rock", "Jazz"], ["Rock", "Jazz"]]
    assert [item for item, _ in editor.edits()] == items

    editor.add("AMBIENT")  # a genre some have, added again, goes to all
    assert editor.spread("Ambient") is Spread.ALL and editor.genres() == ["Rock", "Jazz"]
    assert editor.summary.text() == "OK gives all 6 tracks Rock, Jazz, Ambient"
    assert [genres for _, genres in editor.edits()][:3] == [
        ["Ambient", "Rock", "Jazz"], ["Jazz", "Rock", "Ambient"], ["Rock", "Jazz", "Ambient"]]

    editor.partial["Ambient"].setCurrentIndex(editor.partial["Ambient"].findData(Spread.NONE))
    editor.list.takeItem(1)  # Jazz
    editor.entry.setText("Shoegaze")
    editor.add_entry()
    assert editor.summary.text() == ("OK gives all 6 tracks Rock, Shoegaze; Jazz comes off all 6; "
                                     "Ambient comes off the 2 that have it")
    assert [genres for _, genres in editor.edits()] == [["Rock", "Shoegaze"]] * 6


def test_the_editor_over_tracks_without_a_shared_genre(qtbot):
    items = [ReviewItem(Path("/m/1.flac"), proposed=["Ambient"]), ReviewItem(Path("/m/2.flac"))]
    editor = GenreEditor(items, [])
    qtbot.addWidget(editor)
    assert editor.heading.text() == "<b>2 tracks</b>" and editor.genres() == []
    assert editor.summary.text() == "OK adds no genre to all 2 tracks; Ambient stays on the 1 that has it"
    assert [genres for _, genres in editor.edits()] == [["Ambient"], []]
    assert editor.ok_button.isEnabled()
    editor.partial["Ambient"].setCurrentIndex(editor.partial["Ambient"].findData(Spread.NONE))
    # Nothing left to write anywhere: OK waits for a genre, and says so.
    assert editor.summary.text() == "Add or pick a genre to give the 2 tracks"
    assert not editor.ok_button.isEnabled()


def test_typing_in_the_editor_works_at_once_and_return_adds(qtbot):
    editor = GenreEditor([ReviewItem(Path("/m/a.flac"), proposed=["Rock"])], ["Rock", "Jazz"])
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    assert editor.focusWidget() is editor.entry
    qtbot.keyClicks(editor.focusWidget(), "Jazz")
    qtbot.keyClick(editor.entry, Qt.Key.Key_Return)
    assert editor.genres() == ["Rock", "Jazz"]
    assert editor.isVisible() and editor.entry.text() == ""  # Return with text adds; it is not OK
    qtbot.keyClick(editor.entry, Qt.Key.Key_Return)
    assert not editor.isVisible() and editor.result() == QDialog.DialogCode.Accepted


def test_quick_picks_offer_candidates_below_the_threshold(qtbot, demo_analysis):
    unsure = analysed(demo_analysis, "a", [("Ambient", 0.32), ("Drone", 0.2), ("Rock", 0.1)])
    assert unsure.state is ReviewState.UNSURE and unsure.proposed == []
    editor = GenreEditor([unsure], [])
    qtbot.addWidget(editor)
    assert [b.text() for b in editor.picks.values()] == ["+ Ambient 32%", "+ Drone 20%", "+ Rock 10%"]
    qtbot.mouseClick(editor.picks["Drone"], Qt.MouseButton.LeftButton)
    assert editor.genres() == ["Drone"] and not editor.picks["Drone"].isEnabled()
    assert editor.picks["Ambient"].isEnabled()
    assert editor.edits() == [(unsure, ["Drone"])]


def test_quick_picks_over_several_rows_rank_by_their_mean(qtbot, demo_analysis):
    rows = [analysed(demo_analysis, "a", [("Ambient", 0.4), ("Rock", 0.3)]),
            analysed(demo_analysis, "b", [("Rock", 0.6), ("Ambient", 0.2)])]
    editor = GenreEditor(rows, [])
    qtbot.addWidget(editor)
    # Rock is chosen on b only, so it is a partial genre; a pick gives it to both.
    assert [b.text() for b in editor.picks.values()] == ["+ Rock 45%", "+ Ambient 30%"]
    editor.picks["Rock"].click()
    assert editor.spread("Rock") is Spread.ALL and not editor.picks["Rock"].isEnabled()
    assert [genres for _, genres in editor.edits()] == [["Rock"], ["Rock"]]


def test_an_edit_over_failed_rows_says_they_stay_marked_until_analysed_again(qtbot, demo_analysis):
    failed = ReviewItem(Path("/m/fake.flac"))
    failed.failed("not a decodable audio file (libsndfile: Format not recognised; FFmpeg: Invalid data)")
    rows = [analysed(demo_analysis, "a", [("Rock", 0.8)]), failed]
    editor = GenreEditor(rows, [])
    qtbot.addWidget(editor)
    assert not editor.failed_note.isHidden()
    assert editor.failed_note.text().startswith("1 of the 2 tracks failed (the first: not a FLAC file): they keep "
                                                "these genres, but stay marked, and Apply leaves them alone")
    alone = GenreEditor([failed], [])
    qtbot.addWidget(alone)
    assert alone.failed_note.text().startswith("This file failed (not a FLAC file): it keeps these genres")
    fine = GenreEditor(rows[:1], [])
    qtbot.addWidget(fine)
    assert fine.failed_note.isHidden()


# Settings and Accept Confident Rows.


def test_settings_show_the_confidence_in_percent(qtbot):
    dialog = SettingsDialog(Settings(min_confidence=0.55))
    qtbot.addWidget(dialog)
    assert dialog.min_confidence.value() == 55 and dialog.min_confidence.text() == "55 %"
    assert dialog.settings().min_confidence == 0.55
    dialog.min_confidence.setValue(40)
    assert dialog.settings().min_confidence == 0.4


@pytest.fixture
def session(tmp_path, demo_analysis):
    session = ReviewSession(Settings(min_confidence=0.5), Journal(tmp_path / "j.sqlite3"))
    session.add([analysed(demo_analysis, name, [("Rock", top)]) for name, top in
                 [("a", 0.9), ("b", 0.75), ("c", 0.6), ("d", 0.3)]])
    decided = analysed(demo_analysis, "e", [("Rock", 0.95)])
    decided.accept()
    broken = ReviewItem(Path("/m/f.flac"))
    broken.failed("not audio")
    session.add([decided, broken])
    return session


def test_accept_above_previews_what_it_accepts(qtbot, session, demo_analysis):
    dialog = AcceptAboveDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.confidence.value() == 50 and dialog.threshold() == 0.5  # where suggestions are proposed
    assert dialog.preview.text() == "Accepts 3 of 4 undecided rows"  # every suggested row
    dialog.confidence.setValue(70)
    assert dialog.threshold() == 0.7 and dialog.preview.text() == "Accepts 2 of 4 undecided rows"
    dialog.confidence.setValue(50)
    assert [i.path.stem for i in session.above(dialog.threshold())] == ["a", "b", "c"]
    dialog.confidence.setValue(95)
    assert dialog.preview.text() == "Accepts 0 of 4 undecided rows" and not dialog.ok_button.isEnabled()

    dialog.confidence.setValue(50)
    dialog.show()
    session.add([analysed(demo_analysis, "g", [("Jazz", 0.8)])])  # an analysis that came in meanwhile
    assert dialog.preview.text() == "Accepts 4 of 5 undecided rows"
    dialog.reject()
    session.add([analysed(demo_analysis, "h", [("Jazz", 0.8)])])  # a closed dialog no longer listens
    assert dialog.preview.text() == "Accepts 4 of 5 undecided rows"


@pytest.mark.parametrize(("least", "accepts"), [(0.8, 1), (0.35, 3)])
def test_accept_above_starts_at_the_least_confidence_to_propose(qtbot, session, least, accepts):
    session.settings = Settings(min_confidence=least)
    dialog = AcceptAboveDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.confidence.value() == round(100 * least)
    assert dialog.preview.text() == f"Accepts {accepts} of 4 undecided rows"


# The card for one dropped file.


@pytest.fixture
def card(qtbot):
    card = CheckCard(Path("/m/a.flac"), ExcerptPlayer())
    qtbot.addWidget(card)
    return card


def test_the_card_lets_a_person_untick_genres_before_writing(qtbot, card, demo_analysis):
    item = analysed(demo_analysis, "a", [("Rock", 0.9), ("Jazz", 0.6), ("Ambient", 0.3)])
    card.show_item(item)
    assert card.summary.text().startswith("<b>Suggested:</b>")
    assert [(c.genre, c.chosen) for c in card.chips.chips()] == [("Rock", True), ("Jazz", True), ("Ambient", False)]
    assert card.apply_button.text() == "Write 2 genres" and card.apply_button.isEnabled()

    card.show()
    card.chips.resize(400, card.chips.height())
    with qtbot.waitSignal(card.toggled_genre) as clicked:  # the first chip, Rock, clicked
        qtbot.mouseClick(card.chips, Qt.MouseButton.LeftButton, pos=QPoint(12, card.chips.height() // 2))
    assert clicked.args == [item.path, "Rock"]
    item.toggle("Jazz")
    card.show_item(item)
    assert card.apply_button.text() == "Write 1 genre" and card.apply_button.isEnabled()
    item.toggle("Rock")
    card.show_item(item)
    assert card.apply_button.text() == "Nothing to write" and not card.apply_button.isEnabled()
    assert all(not c.chosen for c in card.chips.chips())

    with qtbot.waitSignal(card.edit_requested) as edit:
        qtbot.mouseClick(card.edit_button, Qt.MouseButton.LeftButton)
    assert edit.args == [item.path]
    item.toggle("Ambient")
    card.show_item(item)
    with qtbot.waitSignal(card.apply_requested) as apply:
        qtbot.mouseClick(card.apply_button, Qt.MouseButton.LeftButton)
    assert apply.args == [item.path]


def test_an_unsure_card_shows_its_candidates_unchosen(card, demo_analysis):
    item = analysed(demo_analysis, "a", [("Ambient", 0.32), ("Drone", 0.2)])
    card.show_item(item)
    assert [(c.genre, c.chosen) for c in card.chips.chips()] == [("Ambient", False), ("Drone", False)]
    assert "no genre reached the threshold" in card.summary.text()
    assert not card.chips.isHidden() and not card.apply_button.isEnabled()
    assert card.edit_button.isEnabled()


def test_a_failed_card_shows_the_error_not_empty_charts(card):
    item = ReviewItem(Path("/m/a.flac"))
    item.failed("cannot decode <stream>")
    card.show_item(item)
    assert card.summary.text() == "<b>Cannot use this file:</b> cannot decode &lt;stream&gt;"
    assert card.view.isHidden() and card.chips.isHidden()
    assert not card.apply_button.isEnabled() and not card.edit_button.isEnabled()


def test_settings_choose_how_several_genres_are_stored(qtbot):
    dialog = SettingsDialog(Settings(multi_value="joined"))
    qtbot.addWidget(dialog)
    assert dialog.settings().multi_value == "joined"
    dialog.multi_value.setCurrentIndex(dialog.multi_value.findData("separate"))
    assert dialog.settings().multi_value == "separate"
    assert dialog.settings().write_options().multi_value.value == "separate"


def test_settings_say_what_players_show_of_the_storage_chosen(qtbot):
    dialog = SettingsDialog(Settings(multi_value="separate"))
    qtbot.addWidget(dialog)
    assert dialog.multi_value_note.text() == MULTI_VALUE_NOTES[MultiValue.SEPARATE]
    assert "many players show only one" in dialog.multi_value_note.text()
    dialog.multi_value.setCurrentIndex(dialog.multi_value.findData("joined"))
    assert dialog.multi_value_note.text() == MULTI_VALUE_NOTES[MultiValue.JOINED]
    opened_joined = SettingsDialog(Settings(multi_value="joined"))
    qtbot.addWidget(opened_joined)
    assert opened_joined.multi_value_note.text() == MULTI_VALUE_NOTES[MultiValue.JOINED]


def test_settings_choose_what_suggestions_rest_on_and_keep_it(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert dialog.evidence.currentText() == "audio with album, artist and folders"
    assert dialog.settings().evidence == "context"
    dialog.evidence.setCurrentIndex(dialog.evidence.findData("audio"))
    assert dialog.evidence.currentText() == "audio alone" and dialog.settings().evidence == "audio"
    # A choice made before survives an OK that changes something else.
    kept = SettingsDialog(Settings(evidence="audio"))
    qtbot.addWidget(kept)
    kept.max_genres.setValue(2)
    assert kept.settings().evidence == "audio" and kept.settings().max_genres == 2


def test_a_genre_is_learned_from_two_files_at_least(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert dialog.learn_min_files.value() == 2 and dialog.learn_min_files.minimum() == 2
    dialog.learn_min_files.setValue(1)  # one file cannot be tested against anything
    assert dialog.settings().learn_min_files == 2


def test_another_choice_of_evidence_ranks_the_undecided_rows_again(qtbot, window, demo_analysis):
    from tagger.analysis.analyzer import FileResult

    album = [ReviewItem(Path(f"/m/Album/{n}.flac"), ["Jazz"], artist="Someone", album="Album") for n in (1, 2, 3)]
    open_row = ReviewItem(Path("/m/Album/4.flac"), artist="Someone", album="Album")
    decided = ReviewItem(Path("/m/Album/5.flac"), artist="Someone", album="Album")
    window.session.add([*album, open_row, decided])
    audio = [GenreSuggestion("Rock", "Rock", 0.6), GenreSuggestion("Jazz", "Jazz", 0.2)]
    window.session.take_analyses([FileResult(i.path, replace(demo_analysis, path=i.path, genres=audio))
                                  for i in (open_row, decided)])
    assert open_row.proposed[0] == "Jazz"  # the album mates' tags lead
    window.session.accept([decided])

    dialog = SettingsDialog(window.settings)
    qtbot.addWidget(dialog)
    dialog.evidence.setCurrentIndex(dialog.evidence.findData("audio"))
    window.set_settings(dialog.settings())
    assert window.session.settings.evidence == "audio"
    assert open_row.suggestions == audio and open_row.proposed == ["Rock"]
    assert decided.proposed[0] == "Jazz" and decided.state is ReviewState.ACCEPTED  # a decision stands
    # Later analyses rest on the audio alone too.
    later = ReviewItem(Path("/m/Album/6.flac"), artist="Someone", album="Album")
    window.session.add([later])
    window.session.take_analyses([FileResult(later.path, replace(demo_analysis, path=later.path, genres=audio))])
    assert later.suggestions == audio
    window.set_settings(replace(window.settings, evidence="context"))
    assert open_row.proposed[0] == "Jazz"


@pytest.mark.parametrize("state", ["failed", "written"])
def test_a_card_with_little_to_show_has_no_blank_areas(qtbot, card, demo_analysis, state):
    if state == "failed":
        item = ReviewItem(Path("/m/a.flac"))
        item.failed("not a decodable audio file (libsndfile: no audio stream found; FFmpeg: Invalid data found)")
    else:
        item = analysed(demo_analysis, "a", [("Rock", 0.9)])
        item.accept()
        item.written(WriteResult(item.path, WriteStatus.WRITTEN, [], ["Rock"]))
    card.show()
    qtbot.waitExposed(card)
    card.show_item(item)
    spacing = card.content.layout().spacing()

    def on_card(widget):
        return widget.geometry().translated(widget.parentWidget().mapTo(card, widget.parentWidget().rect().topLeft()))

    parts = [w for w in (card.heading, card.summary, card.chips, card.legend, card.now, card.view) if not w.isHidden()]
    for above, below in zip(parts, parts[1:]):
        assert on_card(below).top() - on_card(above).bottom() <= spacing + 1, (above, below)
    assert on_card(card.apply_button).top() - on_card(parts[-1]).bottom() <= 2 * spacing + 12


def test_a_card_taller_than_its_screen_scrolls_and_keeps_its_buttons_in_view(qtbot, card, demo_analysis):
    """At QT_SCALE_FACTOR=2 on a 1280x800 screen a full card wanted 517 of 400 points: its
    buttons were off the screen. It shrinks to the screen and what it shows scrolls."""
    item = analysed(demo_analysis, "a", [("Rock", 0.9), ("Jazz", 0.4)])
    card.show()
    qtbot.waitExposed(card)
    card.show_item(item)
    wanted = card.height()
    assert card.minimumSizeHint().height() < wanted / 2  # nothing stops it from being shorter
    card.resize(card.width(), wanted // 2)
    qtbot.waitUntil(lambda: card.scroll.verticalScrollBar().maximum() > 0, timeout=2000)
    assert card.rect().contains(card.apply_button.geometry().translated(
        card.apply_button.parentWidget().mapTo(card, card.apply_button.parentWidget().rect().topLeft())))
    available = card.screen().availableGeometry()
    assert card.frameGeometry().height() <= available.height()

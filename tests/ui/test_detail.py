"""The detail panel beside the table: one track, why it got its genres, and clicks
that choose or unchoose them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from tagger.genres.suggestion import Descriptor, GenreSuggestion, Source
from tagger.review.items import ReviewItem
from ui.detail import DetailPanel
from ui.playback import NO_SOUND_OUTPUT, ExcerptPlayer


@pytest.fixture
def panel(qtbot):
    panel = DetailPanel(ExcerptPlayer())
    qtbot.addWidget(panel)
    return panel


def analysed(analysis, path: Path, descriptors: list[Descriptor] | None = None, **tags) -> ReviewItem:
    item = ReviewItem(path, **tags)
    item.analysed(replace(analysis, path=path, genres=[GenreSuggestion("Rock", "Rock", 0.9),
                                                       GenreSuggestion("Jazz", "Jazz", 0.3)],
                          descriptors=analysis.descriptors if descriptors is None else descriptors), 0.5, 3)
    return item


def test_a_failed_file_shows_its_error_not_empty_charts(panel):
    item = ReviewItem(Path("/m/a.flac"), title="A")
    item.failed("cannot decode: not an audio file")
    panel.show_item(item)
    assert panel.state.text().splitlines()[0] == "Error: cannot decode: not an audio file"
    assert "not analysed" not in panel.state.text().casefold()
    assert panel.view.isHidden() and panel.chips.isHidden()


def test_the_genres_of_an_edited_failed_file_are_shown_as_waiting_not_as_what_apply_writes(panel, demo_analysis):
    item = analysed(demo_analysis, Path("/m/a.flac"))
    panel.show_item(item)
    assert panel.proposal_label.text().startswith("<b>Would write</b>")
    item.failed("the file is read-only")
    item.edit(["Chiptune"])
    panel.show_item(item)
    assert not panel.proposal_label.isHidden()
    assert "Will write once the file is analysed" in panel.proposal_label.text()
    assert "Would write" not in panel.proposal_label.text()


def test_a_file_not_analysed_yet_says_so_without_charts(panel):
    panel.show_item(ReviewItem(Path("/m/a.flac")))
    assert panel.state.text().splitlines()[0] == "Not analysed yet" and panel.view.isHidden()


def test_descriptors_show_those_that_stand_out_or_say_none_do(panel, demo_analysis):
    faint = [Descriptor("calm", "mood", 0.4), Descriptor("piano", "instrument", 0.2)]
    panel.show_item(analysed(demo_analysis, Path("/m/a.flac"), faint))
    assert not panel.view.isHidden()
    assert panel.view.descriptors.text() == "none stand out"
    clear = [Descriptor("calm", "mood", 0.8), Descriptor("dark", "mood", 0.62), Descriptor("piano", "instrument", 0.4)]
    panel.show_item(analysed(demo_analysis, Path("/m/a.flac"), clear))
    assert panel.view.descriptors.text() == "mood: calm (80%), dark (62%)"


def test_chips_clicked_in_the_panel_name_the_row_and_genre(qtbot, panel, demo_analysis):
    item = analysed(demo_analysis, Path("/m/a.flac"))
    panel.show_item(item)
    assert [(c.genre, c.chosen) for c in panel.chips.chips()] == [("Rock", True), ("Jazz", False)]
    panel.show()
    with qtbot.waitSignal(panel.toggled_genre) as clicked:  # the first chip, Rock
        qtbot.mouseClick(panel.chips, Qt.MouseButton.LeftButton, pos=QPoint(12, panel.chips.height() // 2))
    assert clicked.args == [item.path, "Rock"]


def test_a_screen_reader_hears_the_panels_chips_bars_and_timeline(qtbot, panel, demo_analysis):
    from PySide6.QtGui import QAccessible

    panel.show_item(analysed(demo_analysis, Path("/m/a.flac")))
    panel.show()

    def heard(widget) -> tuple[str, str]:
        face = QAccessible.queryAccessibleInterface(widget)
        return face.text(QAccessible.Text.Name), face.text(QAccessible.Text.Description)

    name, description = heard(panel.chips)
    assert name == "Genres: Rock, 90%, from bundled vocabulary, chosen"
    assert description.startswith("Rock, 90%, from bundled vocabulary, chosen; "
                                  "Jazz, 30%, from bundled vocabulary, not chosen. Arrow keys")
    qtbot.keyClick(panel.chips, Qt.Key.Key_Right)
    assert heard(panel.chips)[0] == "Genres: Jazz, 30%, from bundled vocabulary, not chosen"
    assert heard(panel.view.bars) == ("Top genres", "Rock, 90%, from bundled vocabulary; "
                                                    "Jazz, 30%, from bundled vocabulary")
    name, description = heard(panel.view.timeline)
    segments = demo_analysis.segments
    leader = segments[0].genres[0].genre
    assert name == "Timeline" and f"{len(segments)} analysed segments" in description and leader in description
    with qtbot.waitSignal(panel.view.timeline.segment_selected) as picked:
        qtbot.keyClick(panel.view.timeline, Qt.Key.Key_Right)  # the keys pick a segment, which Play then plays
    assert picked.args == [segments[0]] and panel.view.segment is segments[0]
    assert heard(panel.view.timeline)[0].startswith(f"Timeline: {segments[0].start_s:.0f}–")
    with qtbot.waitSignal(panel.view.timeline.segment_clicked) as played:
        qtbot.keyClick(panel.view.timeline, Qt.Key.Key_Space)
    assert played.args == [segments[0]]


def test_tab_goes_from_the_table_to_the_chips_then_the_timeline(qtbot, demo_analysis):
    from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget

    window = QWidget()
    before = QLineEdit()  # where the table is in the window
    panel = DetailPanel(ExcerptPlayer())
    layout = QHBoxLayout(window)
    layout.addWidget(before)
    layout.addWidget(panel)
    qtbot.addWidget(window)
    panel.show_item(analysed(demo_analysis, Path("/m/a.flac")))
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    before.setFocus()
    qtbot.keyClick(before, Qt.Key.Key_Tab)
    assert panel.chips.hasFocus()  # no stop at the scroll area around them, which shows nothing of its own
    qtbot.keyClick(panel.chips, Qt.Key.Key_Tab)
    assert panel.view.timeline.hasFocus()


def test_show_item_none_clears_the_panel(qtbot, panel, demo_analysis):
    panel.show_item(analysed(demo_analysis, Path("/m/a.flac"), artist="Someone", title="Something"))
    assert "Someone – Something" in panel.heading.text()
    panel.show_item(None)
    assert "Select a track" in panel.heading.text() and panel.state.text() == ""
    assert panel.chips.chips() == [] and panel.chips.isHidden() and panel.view.isHidden()
    with qtbot.assertNotEmitted(panel.toggled_genre):  # a click left over names no row
        panel.chips.toggled.emit("Rock")


def test_the_panel_can_be_narrow(panel, demo_analysis):
    deep = Path("/music", *(f"a_rather_long_folder_name_{i}" for i in range(6)), "track.flac")
    panel.show_item(analysed(demo_analysis, deep, artist="An Artist With A Long Name", title="And A Long Title"))
    assert panel.content.minimumSizeHint().width() <= 240
    panel.show_item(ReviewItem(deep))
    assert panel.content.minimumSizeHint().width() <= 240


def test_the_panel_says_what_each_source_gave_each_genre(panel, demo_analysis, tmp_path):
    """An untagged track on an album whose other tracks are tagged Jazz: the album's
    evidence joins the audio's, and the panel says what each gave."""
    from tagger.analysis.analyzer import FileResult
    from tagger.review.session import ReviewSession
    from tagger.settings import Settings
    from tagger.writing.journal import Journal

    session = ReviewSession(Settings(), Journal(tmp_path / "journal.sqlite3"))
    album = [ReviewItem(Path(f"/m/Album/{n}.flac"), ["Jazz"], artist="Someone", album="Album", album_artist="Someone")
             for n in (1, 2, 3)]
    untagged = ReviewItem(Path("/m/Album/4.flac"), artist="Someone", album="Album", album_artist="Someone")
    session.add([*album, untagged])
    audio = [GenreSuggestion("Rock", "Rock", 0.5), GenreSuggestion("Jazz", "Jazz", 0.4)]
    session.take_analyses([FileResult(untagged.path, replace(demo_analysis, path=untagged.path, genres=audio))])
    jazz = untagged.suggestions[0]
    assert jazz.genre == "Jazz" and jazz.source == "album"
    album_share = dict(jazz.evidence)["album"]

    panel.show_item(untagged)
    assert not panel.evidence.isHidden()
    lines = panel.evidence.text().splitlines()
    assert lines[0] == f"◆ Jazz {jazz.confidence:.0%} — album mates' tags {album_share:.0%}, bundled vocabulary 40%"
    assert lines[1] == f"○ Rock {untagged.suggestions[1].confidence:.0%} — bundled vocabulary 50%"
    # The bars rank as the row does, not as the audio alone did; the legend names the sources shown.
    assert [g.genre for g in panel.view.bars._genres][:2] == ["Jazz", "Rock"]
    assert panel.legend.sources == ["base", "album"]
    # The timeline's segments are the bundled vocabulary's, and it says so.
    assert panel.view.timeline_label.text().startswith("<b>Timeline (bundled vocabulary)</b>")
    assert "the album, artist and folders speak only for the whole track" in panel.view.timeline_label.text()


def test_the_audio_alone_keeps_the_plain_timeline_and_names_its_one_source(panel, demo_analysis):
    item = analysed(demo_analysis, Path("/m/a.flac"))
    panel.show_item(item)
    assert panel.evidence.text().splitlines() == ["○ Rock 90% — bundled vocabulary 90%",
                                                  "○ Jazz 30% — bundled vocabulary 30%"]
    assert panel.view.timeline_label.text() == "<b>Timeline</b> (each analysed segment, coloured by its top genre)"
    assert panel.legend.sources == ["base"]


def test_a_file_unlike_the_library_says_so_and_the_timeline_names_its_vocabulary(panel, demo_analysis):
    path = Path("/m/odd.flac")
    item = ReviewItem(path)
    item.analysed(replace(demo_analysis, path=path, model=Source.LEARNED, genres=[
        GenreSuggestion("Jazz", "Jazz", 0.7, Source.BASE),
        GenreSuggestion("Soundtrack A", "Soundtrack A", 0.2, Source.LEARNED)]),
        0.5, 3)
    panel.show_item(item)
    lines = panel.evidence.text().splitlines()
    assert lines[0] == "Unlike anything you tagged: the bundled vocabulary's genres lead."
    assert lines[1:] == ["○ Jazz 70% — bundled vocabulary 70%", "● Soundtrack A 20% — your genres 20%"]
    assert panel.view.timeline_label.text().startswith("<b>Timeline (bundled vocabulary)</b>")
    assert "your learned genres speak only for the whole track" in panel.view.timeline_label.text()
    panel.show_item(ReviewItem(Path("/m/new.flac")))
    assert panel.evidence.isHidden() and panel.evidence_label.isHidden()


def test_artist_and_folder_evidence_have_names_and_markers_of_their_own(panel, demo_analysis):
    from ui.charts import MARKER_COLOURS
    from ui.chips import SOURCE_GLYPHS, SOURCE_NAMES

    assert SOURCE_NAMES["artist"] == "the artist's other albums" and SOURCE_NAMES["folder"] == "folder name"
    assert len(set(SOURCE_GLYPHS.values())) == len(SOURCE_GLYPHS)
    assert len({c.name() for c in MARKER_COLOURS.values()}) == len(MARKER_COLOURS) == 5
    path = Path("/m/Jazz/x.flac")
    item = ReviewItem(path)
    item.analysed(replace(demo_analysis, path=path, genres=[GenreSuggestion("Rock", "Rock", 0.3)]), 0.5, 3, [
        GenreSuggestion("Jazz", "Jazz", 0.76, "folder", (("folder", 0.6), ("artist", 0.4))),
        GenreSuggestion("Swing", "Jazz", 0.48, "artist", (("artist", 0.48),)),
        GenreSuggestion("Rock", "Rock", 0.3, "base")])
    panel.show_item(item)
    assert panel.evidence.text().splitlines() == [
        "■ Jazz 76% — folder name 60%, the artist's other albums 40%",
        "▲ Swing 48% — the artist's other albums 48%",
        "○ Rock 30% — bundled vocabulary 30%"]
    assert panel.legend.sources == ["base", "artist", "folder"]
    assert "■ folder name: the name of a folder it sits in vouches for it most" in panel.legend.toolTip()


def test_a_short_panel_scrolls_rather_than_squeezing_its_parts_together(qtbot, panel, demo_analysis):
    path = Path("/m/Album/4.flac")
    item = ReviewItem(path)
    item.analysed(replace(demo_analysis, path=path), 0.5, 3, [
        GenreSuggestion(g, g, c, "album", ((Source.ALBUM, c), (Source.LEARNED, c / 2)))
        for g, c in (("Jazz", 0.9), ("Swing", 0.6), ("Bebop", 0.4))])
    panel.show_item(item)
    panel.resize(300, 400)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # wrapped lines settle their heights
    assert panel.height() == 400  # it does not insist on being as tall as all it shows
    assert panel.scroll.verticalScrollBar().maximum() > 0
    shown = [w for w in (panel.heading, panel.state, panel.proposal_label, panel.chips, panel.legend,
                         panel.evidence_label, panel.evidence, panel.view) if not w.isHidden()]
    for above, below in zip(shown, shown[1:]):
        assert above.geometry().bottom() < below.geometry().top(), (above, below)
    parts = [panel.view.bars, panel.view.timeline_label, panel.view.timeline]
    for above, below in zip(parts, parts[1:]):
        assert above.geometry().bottom() < below.geometry().top(), (above, below)


def test_a_top_genre_that_leads_no_segment_is_not_painted_as_other(panel, demo_analysis):
    from tagger.analysis.analyzer import Segment
    from ui.charts import OTHER_COLOUR, PALETTE

    leaders = ["Rock", "Jazz", "Folk", "Pop", "Soul", "Punk", "Blues", "Metal", "Funk", "Disco"]  # more than colours
    segments = [Segment(3.0 * i, 3.0 * i + 3, [GenreSuggestion(g, g, 0.5)]) for i, g in enumerate(leaders)]
    path = Path("/m/a.flac")
    item = ReviewItem(path)
    item.analysed(replace(demo_analysis, path=path, segments=segments, duration_s=30.0), 0.5, 3,
                  [GenreSuggestion("Battle for Wesnoth", "Battle for Wesnoth", 0.95, "folder"),
                   GenreSuggestion("Disco", "Disco", 0.1)])
    panel.show_item(item)
    bars = panel.view.bars
    assert bars.colour_of("Battle for Wesnoth") not in [OTHER_COLOUR, *PALETTE]
    # A ranked genre that leads a segment has its timeline colour.
    assert bars.colour_of("Disco") == panel.view.timeline.colour_of(segments[-1]) != OTHER_COLOUR


def test_a_narrow_panel_leaves_the_bars_room_beside_long_genre_names(qtbot, demo_analysis):
    from ui.charts import ConfidenceBars

    bars = ConfidenceBars()
    qtbot.addWidget(bars)
    long_name = GenreSuggestion("Advanced Strategic Command Original Soundtrack", "x", 0.9, Source.LEARNED)
    bars.set_analysis(demo_analysis, [long_name, GenreSuggestion("Rock", "Rock", 0.3)])
    bars.resize(240, bars.minimumHeight())
    assert bars.label_width() <= 120  # at most half: the bars and their values keep the rest
    bars.resize(900, bars.minimumHeight())
    natural = bars.fontMetrics().horizontalAdvance(long_name.genre)
    assert bars.label_width() > natural  # with room enough, the whole name shows


# Playback: enabled only where it can play, and why not beside the button.

def test_without_a_sound_output_play_is_disabled_and_says_why(qtbot, panel, demo_analysis, monkeypatch):
    from PySide6.QtMultimedia import QMediaDevices

    monkeypatch.setattr(QMediaDevices, "audioOutputs", staticmethod(list))  # a sound library, no server
    panel.show_item(analysed(demo_analysis, Path("/m/a.ogg")))
    view = panel.view
    assert not view.play_button.isEnabled()
    assert view.play_button.toolTip() == view.playback_note.text() == NO_SOUND_OUTPUT
    assert not view.playback_note.isHidden()
    qtbot.mouseClick(view.timeline, Qt.MouseButton.LeftButton,
                     pos=view.timeline.segment_rects()[0][1].center().toPoint())  # asks to play too
    assert not view.player.playing  # and nothing was set to play, nowhere
    monkeypatch.setattr(QMediaDevices, "audioOutputs", staticmethod(lambda: ["speakers"]))
    panel.show_item(analysed(demo_analysis, Path("/m/b.ogg")))
    assert view.play_button.isEnabled() and view.playback_note.isHidden()


def test_without_qtmultimedia_the_panel_gives_the_install_hint_the_terminal_prints(qtbot, monkeypatch):
    import sys

    from ui import setup_check
    from ui.detail import AnalysisView

    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # as where libpulse.so.0 is missing
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(setup_check, "read_os_release", lambda: 'ID=debian\nVERSION_ID="12"\n')
    monkeypatch.setattr(setup_check, "multimedia_needs", lambda: ["libpulse.so.0"])
    monkeypatch.setattr(setup_check, "library_loads", lambda name: name != "libpulse.so.0")
    monkeypatch.setattr(setup_check, "xcb_use", lambda env: None)
    [printed] = setup_check.startup_notes()
    view = AnalysisView(ExcerptPlayer())
    qtbot.addWidget(view)
    assert view.play_button.toolTip() == view.playback_note.text() == printed[:1].upper() + printed[1:]
    assert "apt install libpulse0" in view.playback_note.text() and not view.play_button.isEnabled()


def test_qtmultimedia_start_up_talk_stays_off_the_terminal(capsys):
    from PySide6.QtCore import QLoggingCategory, qCWarning, qInstallMessageHandler, qWarning

    from ui.app import forward_qt_message

    resolver = QLoggingCategory("qt.multimedia.symbolsresolver")
    previous = qInstallMessageHandler(forward_qt_message)
    try:
        qCWarning(resolver, "Couldn't load va library")
        qWarning("PulseAudioService: pa_context_connect() failed")
        qWarning("No QtMultimedia backends found. Only QMediaDevices, QAudioDevice, QSoundEffect, QAudioSink, "
                 "and QAudioSource are available.")
        qWarning("QFile: cannot open song.ogg")
    finally:
        qInstallMessageHandler(previous)
    assert capsys.readouterr().err == "QFile: cannot open song.ogg\n"

"""The detail panel beside the table: one track, why it got its genres, and clicks
that choose or unchoose them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from tagger.genres import Descriptor, GenreSuggestion
from tagger.review import ReviewItem
from ui.detail import DetailPanel, ExcerptPlayer


@pytest.fixture(scope="module")
def demo_analysis(analyzer):
    """A real analysis of a bundled sample, which the tests give the genres they need."""
    from tagger.resources import samples_dir

    return analyzer.analyse(next(p for p in samples_dir().iterdir() if p.suffix == ".ogg"))


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
    assert panel.minimumSizeHint().width() <= 240
    panel.show_item(ReviewItem(deep))
    assert panel.minimumSizeHint().width() <= 240

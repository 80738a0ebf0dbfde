"""Source chips: every suggested genre shows where it came from, the same way everywhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from tagger.analysis.analyzer import FileResult
from tagger.genres.suggestion import GenreSuggestion
from tagger.review.items import ReviewItem
from tagger.review.session import ReviewSession
from tagger.settings import Settings
from tagger.writing.journal import Journal
from ui.charts import MARKER_COLOURS, ChipStrip
from ui.chips import Chip
from ui.detail import DetailPanel
from ui.library import Column, LibraryModel
from ui.playback import ExcerptPlayer
from ui.roles import ChipsRole


def learned(demo_analysis):
    return replace(demo_analysis, model="learned", genres=[
        GenreSuggestion("Soundtrack A", "Soundtrack A", 0.82, "learned"),
        GenreSuggestion("Rock", "Rock", 0.51, "base"),
        GenreSuggestion("Soundtrack B", "Soundtrack B", 0.1, "learned"),
    ])


def test_the_suggested_column_gives_each_genre_its_source(qtbot, demo_analysis, tmp_path):
    session = ReviewSession(Settings(min_confidence=0.5), Journal(tmp_path / "journal.sqlite3"))
    model = LibraryModel(session)
    item, edited = ReviewItem(Path("/m/a.flac")), ReviewItem(Path("/m/b.flac"))
    session.add([item, edited])
    session.take_analyses([FileResult(i.path, learned(demo_analysis)) for i in (item, edited)])
    session.edit([edited], ["Soundtrack A", "Vaporwave"])
    cell = model.index(model.row_of(item.path), Column.SUGGESTED)
    assert cell.data(ChipsRole) == [Chip("Soundtrack A", 0.82, "learned"), Chip("Rock", 0.51, "base"),
                                    Chip("Soundtrack B", 0.1, "learned", chosen=False)]
    tip = cell.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines()[:3] == [
        "● Soundtrack A 82%: learned from the genres you already tagged; Accept writes it",
        "○ Rock 51%: from the bundled genre vocabulary; Accept writes it",
        "● Soundtrack B 10%: learned from the genres you already tagged; not chosen: Accept leaves it out"]
    # A genre a person typed has no source; one the analysis knows keeps its own.
    assert model.index(model.row_of(edited.path), Column.SUGGESTED).data(ChipsRole) == [
        Chip("Soundtrack A", 0.82, "learned"), Chip("Vaporwave", None, None),
        Chip("Rock", 0.51, "base", chosen=False), Chip("Soundtrack B", 0.1, "learned", chosen=False)]
    assert "✎ Vaporwave: your own choice; Accept writes it" in model.index(
        model.row_of(edited.path), Column.SUGGESTED).data(Qt.ItemDataRole.ToolTipRole)


def colour_count(image, colour: QColor, tolerance: int = 24) -> int:
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if (abs(pixel.red() - colour.red()) <= tolerance and abs(pixel.green() - colour.green()) <= tolerance
                    and abs(pixel.blue() - colour.blue()) <= tolerance):
                count += 1
    return count


def test_each_source_has_its_own_marker_shape(qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter

    from ui.charts import paint_marker

    def painted(source):
        image = QImage(40, 40, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        paint_marker(painter, QPointF(20, 20), 20, source)
        painter.end()
        return image

    white = QColor("white")
    library, base, album, artist, folder, own = (
        painted(s) for s in ("learned", "base", "album", "artist", "folder", None))
    # A filled circle, a ring, a diamond, a triangle, a square; a person's own pick has none.
    assert library.pixelColor(20, 20) == MARKER_COLOURS["learned"] and library.pixelColor(26, 26) != white
    assert base.pixelColor(20, 20) == white and colour_count(base, MARKER_COLOURS["base"]) > 20
    assert album.pixelColor(20, 20) == MARKER_COLOURS["album"] and album.pixelColor(26, 26) == white
    # The triangle points up: its top corners are empty, its bottom ones filled.
    assert artist.pixelColor(20, 20) == MARKER_COLOURS["artist"]
    assert artist.pixelColor(13, 13) == white and artist.pixelColor(13, 27) == MARKER_COLOURS["artist"]
    # The square fills its corners, where a circle or a diamond leaves them empty.
    assert all(folder.pixelColor(x, y) == MARKER_COLOURS["folder"] for x in (13, 27) for y in (13, 27))
    assert colour_count(own, white, 0) == 40 * 40


def test_chips_carry_their_marker(qtbot):
    painted = {}
    for source in ("learned", "album", "artist", "folder", None):
        strip = ChipStrip()
        qtbot.addWidget(strip)
        strip.resize(220, strip.sizeHint().height())
        strip.set_chips([Chip("Soundtrack A", 0.8 if source else None, source)])
        painted[source] = strip.grab().toImage()
    for source, image in painted.items():
        for other in ("learned", "album", "artist", "folder"):  # colours that text and chips never take
            count = colour_count(image, MARKER_COLOURS[other])
            assert (count > 6) if other == source else (count == 0), (source, other, count)


def test_the_detail_panel_shows_the_proposal_with_its_sources(qtbot, demo_analysis):
    panel = DetailPanel(ExcerptPlayer())
    qtbot.addWidget(panel)
    item = ReviewItem(Path("/m/a.flac"), title="A")
    item.analysed(learned(demo_analysis), 0.5, 3)
    panel.show_item(item)
    assert panel.chips.chips() == [Chip("Soundtrack A", 0.82, "learned"), Chip("Rock", 0.51, "base"),
                                   Chip("Soundtrack B", 0.1, "learned", chosen=False)]
    assert not panel.chips.isHidden() and not panel.legend.isHidden()
    # The confidence bars mark the same sources, and say so when hovered.
    assert panel.view.bars.toolTip().splitlines()[:2] == [
        "● Soundtrack A 82%: learned from the genres you already tagged",
        "○ Rock 51%: from the bundled genre vocabulary"]
    panel.show_item(ReviewItem(Path("/m/new.flac")))
    assert panel.chips.isHidden() and panel.chips.chips() == []

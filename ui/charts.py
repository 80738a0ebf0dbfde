"""Painted views of an analysis: genre chips, confidence bars, and the segment timeline.

They paint with the palette's colours, so they follow the system's light or dark
theme; within a track, a genre has the same colour in every view.

Every suggested genre carries a marker for its source, the same everywhere (chips,
bars, legend): a filled circle for a genre learned from the person's own tags, a
ring for the bundled vocabulary, a diamond for one that only the album's tags vouch
for. A genre a person chose has none. Shape tells them apart; colour helps.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush, QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from tagger.albums import ALBUM_SOURCE
from tagger.analysis import Analysis, Segment
from tagger.genres import BASE, LIBRARY, GenreSuggestion
from ui.library import Chip, ChipsRole


# A qualitative palette (Paul Tol's "bright" and "muted" schemes) whose colours stay
# distinct from each other on light and dark backgrounds.
PALETTE = [QColor(c) for c in ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377",
                               "#332288", "#DDCC77", "#117733", "#CC6677", "#88CCEE", "#882255")]


def genre_colours(analysis: Analysis) -> dict[str, QColor]:
    """A colour per genre by its rank in the track's ranking, so the bars and the
    timeline of one track agree and its leading genres never share a colour."""
    return {g.genre: PALETTE[i % len(PALETTE)] for i, g in enumerate(analysis.genres)}


def confidence_fill(base: QColor, confidence: float | None) -> QColor:
    """``base`` stronger for a more confident genre; a person's own pick is plain."""
    colour = QColor(base)
    colour.setAlphaF(0.25 if confidence is None else 0.2 + 0.8 * confidence)
    return colour


def chip_label(genre: str, confidence: float | None) -> str:
    return genre if confidence is None else f"{genre} {confidence:.0%}"


# What each source means, for tooltips and the legend.
SOURCE_NAMES = {LIBRARY: "your genres", BASE: "bundled vocabulary", ALBUM_SOURCE: "album's tags"}
SOURCE_MEANINGS = {
    LIBRARY: "learned from the genres you already tagged",
    BASE: "from the bundled genre vocabulary",
    ALBUM_SOURCE: "only the tags of this album's other tracks vouch for it",
    None: "your own choice",
}
SOURCE_GLYPHS = {LIBRARY: "●", BASE: "○", ALBUM_SOURCE: "◆", None: "✎"}  # the markers' shapes, as text
MARKER_COLOURS = {LIBRARY: QColor("#228833"), BASE: QColor("#7a7a7a"), ALBUM_SOURCE: QColor("#AA3377")}


def source_line(chip: Chip) -> str:
    """A chip with its marker and what it means, for a tooltip."""
    return f"{SOURCE_GLYPHS.get(chip.source, '')} {chip_label(chip.genre, chip.confidence)}: " \
           f"{SOURCE_MEANINGS.get(chip.source, chip.source or '')}"


def paint_marker(painter: QPainter, centre: QPointF, size: float, source: str | None,
                 colour: QColor | None = None, halo: QColor | None = None) -> None:
    """The source marker, ``size`` across, centred on ``centre``, on a disc of ``halo``
    where given (so it reads on any chip); nothing for a person's pick."""
    if source not in MARKER_COLOURS:
        return
    colour = colour or MARKER_COLOURS[source]
    r = size / 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if halo is not None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(halo)
        painter.drawEllipse(centre, r + 2, r + 2)
    if source == BASE:
        painter.setPen(QPen(colour, max(1.5, size / 4.5)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, r - 0.8, r - 0.8)
    elif source == LIBRARY:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(centre, r, r)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        x, y = centre.x(), centre.y()
        painter.drawPolygon(QPolygonF([QPointF(x, y - r - 0.5), QPointF(x + r + 0.5, y), QPointF(x, y + r + 0.5),
                                       QPointF(x - r - 0.5, y)]))
    painter.restore()


def marker_size(metrics: QFontMetrics) -> float:
    return max(8.0, round(metrics.height() * 0.6))


PAD = 6
GAP = 4


def chip_width(metrics: QFontMetrics, chip: Chip) -> float:
    marker = marker_size(metrics) + 6 if chip.source in MARKER_COLOURS else 0
    return metrics.horizontalAdvance(chip_label(chip.genre, chip.confidence)) + 2 * PAD + marker


def paint_chips(painter: QPainter, rect: QRectF, chips: Sequence[Chip], palette: QPalette, metrics: QFontMetrics,
                selected: bool = False) -> None:
    """Chips left to right in ``rect``, each with its source marker and confidence,
    and "…" where the rest do not fit."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    x = rect.left()
    # On a selected row the chips are drawn in the selection's text colour, so they
    # stand out from the highlight behind them.
    text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
    chip_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight)
    outline = QColor(chip_colour)
    outline.setAlphaF(0.6)
    size = marker_size(metrics)
    for chip in chips:
        width = chip_width(metrics, chip)
        if x + width > rect.right():
            painter.setPen(text_colour)
            painter.drawText(QRectF(x, rect.top(), rect.right() - x, rect.height()), Qt.AlignmentFlag.AlignVCenter,
                             "…")
            break
        box = QRectF(x, rect.top(), width, rect.height())
        painter.setPen(outline)  # even a faint, unsure chip keeps its shape
        painter.setBrush(confidence_fill(chip_colour, chip.confidence) if not selected
                         else confidence_fill(chip_colour, 0.1 * (chip.confidence or 0.0)))
        painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), rect.height() / 2, rect.height() / 2)
        text_box = box
        if chip.source in MARKER_COLOURS:
            paint_marker(painter, QPointF(x + PAD - 1 + size / 2, box.center().y()), size, chip.source,
                         text_colour if selected else None,
                         None if selected else palette.color(QPalette.ColorRole.Base))
            text_box = box.adjusted(size + 6, 0, 0, 0)
        painter.setPen(text_colour)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter, chip_label(chip.genre, chip.confidence))
        x += width + GAP
    painter.restore()


class ChipDelegate(QStyledItemDelegate):
    """Paints the genres a row would write (its ChipsRole) as chips."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        chips = index.data(ChipsRole)
        style = option.widget.style() if option.widget else None
        if style:  # selection and row background as usual, then the chips on top
            bare = QStyleOptionViewItem(option)
            self.initStyleOption(bare, index)
            bare.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, bare, painter, option.widget)
        if chips:
            paint_chips(painter, QRectF(option.rect.adjusted(2, 3, -2, -3)), chips, option.palette,
                        QFontMetrics(option.font), bool(option.state & QStyle.StateFlag.State_Selected))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 220), hint.height() + 6)


class ChipStrip(QWidget):
    """A row of chips outside a table (the detail panel, the check card); its tooltip
    says what each chip's marker means."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips: list[Chip] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.fontMetrics().height() + 8)

    def set_chips(self, chips: Sequence[Chip]) -> None:
        self._chips = list(chips)
        self.setToolTip("\n".join(source_line(c) for c in self._chips))
        self.update()

    def chips(self) -> list[Chip]:
        return list(self._chips)

    def sizeHint(self) -> QSize:
        width = sum(chip_width(self.fontMetrics(), c) + GAP for c in self._chips)
        return QSize(int(width) + 4, self.fontMetrics().height() + 8)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if not self._chips:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter, "none confident enough")
            return
        paint_chips(painter, QRectF(self.rect().adjusted(1, 1, -1, -1)), self._chips, self.palette(),
                    self.fontMetrics())


class SourceLegend(QWidget):
    """What the markers mean, in one line: the sources in ``sources`` only."""

    def __init__(self, sources: Sequence[str] = (LIBRARY, BASE, ALBUM_SOURCE), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources = list(sources)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.fontMetrics().height() + 4)
        self.setToolTip("\n".join(f"{SOURCE_GLYPHS[s]} {SOURCE_MEANINGS[s]}" for s in self.sources))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        size = marker_size(metrics)
        x = 2.0
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        for source in self.sources:
            paint_marker(painter, QPointF(x + size / 2, self.height() / 2), size, source)
            label = SOURCE_NAMES[source]
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(x + size + 4, 0, metrics.horizontalAdvance(label) + 2, self.height()),
                             Qt.AlignmentFlag.AlignVCenter, label)
            x += size + 4 + metrics.horizontalAdvance(label) + 14


class ConfidenceBars(QWidget):
    """Horizontal bars for the top genre confidences."""

    ROWS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._genres: list[GenreSuggestion] = []
        self._colours: dict[str, QColor] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._row_height() * self.ROWS)

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def set_analysis(self, analysis: Analysis | None) -> None:
        self._genres = analysis.genres[: self.ROWS] if analysis else []
        self._colours = genre_colours(analysis) if analysis else {}
        self.setToolTip("\n".join(source_line(Chip(g.genre, g.confidence, g.source)) for g in self._genres))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        row = self._row_height()
        size = marker_size(self.fontMetrics())
        label_width = max([self.fontMetrics().horizontalAdvance(g.genre) for g in self._genres] + [60]) + 8
        label_width += size + 4  # the source marker before each name
        value_width = self.fontMetrics().horizontalAdvance("100%") + 8
        bar_space = max(10, self.width() - label_width - value_width)
        for i, g in enumerate(self._genres):
            y = i * row
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(0, y, label_width - 8, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             g.genre)
            text_width = self.fontMetrics().horizontalAdvance(g.genre)
            paint_marker(painter, QPointF(label_width - 8 - text_width - 4 - size / 2, y + row / 2), size, g.source)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._colours[g.genre])
            painter.drawRoundedRect(QRectF(label_width, y + 3, bar_space * g.confidence, row - 6), 3, 3)
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(label_width + bar_space * g.confidence + 4, y, value_width, row),
                             Qt.AlignmentFlag.AlignVCenter, f"{g.confidence:.0%}")


class Timeline(QWidget):
    """The track from start to end, each analysed segment coloured by its top genre,
    so a user sees which parts of the track point where; hatched parts were not
    analysed. Click a segment to pick it."""

    segment_clicked = Signal(object)  # Segment

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._selected: Segment | None = None
        self.setMinimumHeight(3 * self.fontMetrics().height() + 24)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def set_analysis(self, analysis: Analysis | None) -> None:
        self._analysis = analysis
        self._selected = None
        self.update()

    def _x(self, seconds: float) -> float:
        duration = max(self._analysis.duration_s, 1e-6) if self._analysis else 1.0
        return 4 + (self.width() - 8) * seconds / duration

    def _segment_at(self, x: float) -> Segment | None:
        if self._analysis is None:
            return None
        return next((s for s in self._analysis.segments if self._x(s.start_s) <= x <= self._x(s.end_s)), None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        segment = self._segment_at(event.position().x())
        self.setToolTip("" if segment is None else (
            f"{segment.start_s:.0f}–{segment.end_s:.0f} s: "
            + ", ".join(chip_label(g.genre, g.confidence) for g in segment.genres)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        segment = self._segment_at(event.position().x())
        if segment is not None:
            self._selected = segment
            self.update()
            self.segment_clicked.emit(segment)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        bar_top, bar_height = 4.0, float(self.fontMetrics().height() + 8)
        # Hatched: the parts of the track no analysed segment covers (intro, outro, skipped).
        painter.fillRect(QRectF(4, bar_top, self.width() - 8, bar_height), palette.color(QPalette.ColorRole.AlternateBase))
        painter.fillRect(QRectF(4, bar_top, self.width() - 8, bar_height),
                         QBrush(palette.color(QPalette.ColorRole.Mid), Qt.BrushStyle.BDiagPattern))
        if self._analysis is None or not self._analysis.segments:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "no music detected" if self._analysis else "not analysed yet")
            return
        colours = genre_colours(self._analysis)
        shown: dict[str, QColor] = {}
        for segment in self._analysis.segments:
            top = segment.genres[0].genre if segment.genres else ""
            colour = colours.get(top, palette.color(QPalette.ColorRole.Mid))
            shown.setdefault(top, colour)
            rect = QRectF(self._x(segment.start_s), bar_top, max(2.0, self._x(segment.end_s) - self._x(segment.start_s)),
                          bar_height)
            painter.fillRect(rect, colour)
            if segment is self._selected:
                painter.setPen(palette.color(QPalette.ColorRole.Highlight))
                painter.drawRect(rect.adjusted(0, 0, -1, -1))
        # A legend of the genres that lead a segment, and the time scale.
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        x, y = 4.0, bar_top + bar_height + 4
        line = float(self.fontMetrics().height())
        for genre, colour in shown.items():
            width = self.fontMetrics().horizontalAdvance(genre) + line + 12
            if x + width > self.width():
                break
            painter.fillRect(QRectF(x, y + 2, line - 4, line - 4), colour)
            painter.drawText(QRectF(x + line, y, width, line), Qt.AlignmentFlag.AlignVCenter, genre)
            x += width
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        scale = QRectF(4, y + line, self.width() - 8, line)
        painter.drawText(scale, Qt.AlignmentFlag.AlignLeft, "0:00")
        minutes, seconds = divmod(int(self._analysis.duration_s), 60)
        painter.drawText(scale, Qt.AlignmentFlag.AlignRight, f"{minutes}:{seconds:02d}")

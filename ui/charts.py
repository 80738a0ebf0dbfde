"""Painted views of an analysis: genre chips, confidence bars, and the segment timeline.

They paint with the palette's colours, so they follow the system's light or dark
theme; within a track, a genre has the same colour in every view.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from tagger.analysis import Analysis, Segment
from tagger.genres import GenreSuggestion
from ui.library import ItemRole


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


class ChipDelegate(QStyledItemDelegate):
    """Paints the genres a row would write as chips, each with its confidence."""

    PAD = 6
    GAP = 4

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        item = index.data(ItemRole)
        style = option.widget.style() if option.widget else None
        if style:  # selection and row background as usual, then the chips on top
            bare = QStyleOptionViewItem(option)
            self.initStyleOption(bare, index)
            bare.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, bare, painter, option.widget)
        if item is None or not item.proposed:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(option.font)
        rect = option.rect.adjusted(2, 3, -2, -3)
        x = rect.left()
        # On a selected row the chips are drawn in the selection's text colour, so they
        # stand out from the highlight behind them.
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_colour = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        chip_colour = option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight)
        outline = QColor(chip_colour)
        outline.setAlphaF(0.6)
        for genre in item.proposed:
            confidence = item.confidence_of(genre)
            label = chip_label(genre, confidence)
            width = metrics.horizontalAdvance(label) + 2 * self.PAD
            if x + width > rect.right():
                painter.setPen(text_colour)
                painter.drawText(QRectF(x, rect.top(), rect.right() - x, rect.height()),
                                 Qt.AlignmentFlag.AlignVCenter, "…")
                break
            chip = QRectF(x, rect.top(), width, rect.height())
            painter.setPen(outline)  # even a faint, unsure chip keeps its shape
            painter.setBrush(confidence_fill(chip_colour, confidence) if not selected
                             else confidence_fill(chip_colour, 0.1 * (confidence or 0.0)))
            painter.drawRoundedRect(chip.adjusted(0.5, 0.5, -0.5, -0.5), rect.height() / 2, rect.height() / 2)
            painter.setPen(text_colour)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
            x += width + self.GAP
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 220), hint.height() + 6)


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
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        row = self._row_height()
        label_width = max([self.fontMetrics().horizontalAdvance(g.genre) for g in self._genres] + [60]) + 8
        value_width = self.fontMetrics().horizontalAdvance("100%") + 8
        bar_space = max(10, self.width() - label_width - value_width)
        for i, g in enumerate(self._genres):
            y = i * row
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(0, y, label_width - 8, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             g.genre)
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

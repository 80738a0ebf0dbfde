"""Painted views of an analysis: genre chips, confidence bars, and the segment timeline.

They paint with the palette's colours, so they follow the system's light or dark
theme; within a track, a genre has the same colour in every view.

Every suggested genre carries a marker for what vouched for it most, the same
everywhere (chips, bars, legend): a filled circle for a genre learned from the
person's own tags, a ring for the bundled vocabulary, a diamond for the album mates'
tags, a triangle for the artist's other albums, a square for a folder's name. A genre
a person chose has none. Shape tells them apart; colour helps.

A chip that Accept writes is filled; a suggestion Accept leaves out is only outlined,
dashed, in fainter text, and a click on either chooses or unchooses it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTreeView,
    QWidget,
)

from tagger.analysis.analyzer import Analysis, Segment
from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.review.items import ReviewItem, ReviewState
from ui.chips import (
    SOURCE_NAMES,
    SOURCE_ORDER,
    Chip,
    candidates_tooltip,
    chip_label,
    legend_tooltip,
    source_tooltip,
    spoken_chip,
    spoken_chips,
    suggestion_chip,
)
from ui.roles import ChipsRole, ItemRole

# Paul Tol's "muted" qualitative scheme (P. Tol, "Colour Schemes", SRON technical note
# SRON/EPS/TN/09-002, https://personal.sron.nl/~pault/): nine colours that stay apart for
# people with any of the common colour-vision deficiencies, on light and dark backgrounds.
# tests/ui/test_library.py checks each pair in simulated protan, deutan and tritan vision.
PALETTE = [QColor(c) for c in ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
                               "#999933", "#AA4499")]
# The scheme's own pale grey, for genres the palette has no colour left for.
OTHER_COLOUR = QColor("#DDDDDD")


def genre_colours(analysis: Analysis, shown: int = 8, genres: Sequence[GenreSuggestion] | None = None
                  ) -> dict[str, QColor]:
    """A colour per genre that the views of one track show, so its bars and its timeline
    agree: first the genres that lead a segment (the timeline tells those apart by colour
    alone), in the track's ranking (``genres``, else its analysis's), then its ``shown``
    best genres. A genre left without a palette colour is painted OTHER_COLOUR."""
    ranked = analysis.genres if genres is None else genres
    rank = {g.genre: i for i, g in enumerate(ranked)}
    leading = Counter(s.genres[0].genre for s in analysis.segments if s.genres)
    # Segment genres come from the bundled vocabulary, so with a learned ranking some
    # are not ranked at all: those go after the ranked ones, the most frequent first.
    order = sorted(leading, key=lambda g: (rank.get(g, len(rank)), -leading[g], g))
    order += [g.genre for g in ranked[:shown] if g.genre not in leading]
    return dict(zip(order, PALETTE))


def confidence_fill(base: QColor, confidence: float | None) -> QColor:
    """``base`` stronger for a more confident genre; a person's own pick is plain."""
    colour = QColor(base)
    colour.setAlphaF(0.25 if confidence is None else 0.2 + 0.8 * confidence)
    return colour


# Each source's marker colour: Paul Tol's "bright" green and purple, his "vibrant" teal
# and his "high-contrast" ochre (a folder's colour), none of them near the chips'
# highlight; grey for the vocabulary. Its name, meaning and glyph are in ui.chips.
MARKER_COLOURS = {Source.LEARNED: QColor("#228833"), Source.BASE: QColor("#7a7a7a"), Source.ALBUM: QColor("#AA3377"),
                  Source.ARTIST: QColor("#009988"), Source.FOLDER: QColor("#DDAA33")}


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
    if source == Source.BASE:
        painter.setPen(QPen(colour, max(1.5, size / 4.5)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, r - 0.8, r - 0.8)
    elif source == Source.LEARNED:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawEllipse(centre, r, r)
    elif source == Source.ARTIST:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        x, y = centre.x(), centre.y()
        painter.drawPolygon(QPolygonF([QPointF(x, y - r - 0.5), QPointF(x + r + 0.5, y + r * 0.8),
                                       QPointF(x - r - 0.5, y + r * 0.8)]))
    elif source == Source.FOLDER:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        side = r * 0.85
        painter.drawRect(QRectF(centre.x() - side, centre.y() - side, 2 * side, 2 * side))
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
UNCHOSEN_OPACITY = 0.6


def chip_width(metrics: QFontMetrics, chip: Chip) -> float:
    marker = marker_size(metrics) + 6 if chip.source in MARKER_COLOURS else 0
    return metrics.horizontalAdvance(chip_label(chip.genre, chip.confidence)) + 2 * PAD + marker


def more_label(hidden: int) -> str:
    return f"+{hidden}"


def more_width(metrics: QFontMetrics, hidden: int) -> float:
    return metrics.horizontalAdvance(more_label(hidden)) + 2 * PAD


class Placed(NamedTuple):
    """Where a chip goes; ``chip`` None for the "+N" chip that stands for ``hidden`` unchosen chips."""

    box: QRectF
    chip: Chip | None
    hidden: int = 0


def place_chips(rect: QRectF, chips: Sequence[Chip], metrics: QFontMetrics, wrap: bool = False,
                line_height: float | None = None) -> list[Placed]:
    """Lay chips out left to right in ``rect``. Every chosen chip is placed, whatever the
    room, since Accept writes it and a person must be able to see what is written;
    unchosen chips follow where they fit, the rest folded into one "+N" chip. With
    ``wrap``, chips that do not fit go on the next line (of ``line_height``) instead."""
    height = line_height or rect.height()
    placed: list[Placed] = []
    x, y = rect.left(), rect.top()
    rest = [c for c in chips if not c.chosen]
    for chip in [c for c in chips if c.chosen] + rest:
        width = chip_width(metrics, chip)
        if wrap and x > rect.left() and x + width > rect.right():
            x, y = rect.left(), y + height + GAP
        if not wrap and not chip.chosen:
            hidden = len(rest) - rest.index(chip)
            reserve = more_width(metrics, hidden - 1) + GAP if hidden > 1 else 0.0
            if x + width + reserve > rect.right():
                placed.append(Placed(QRectF(x, y, more_width(metrics, hidden), height), None, hidden))
                break
        placed.append(Placed(QRectF(x, y, width, height), chip))
        x += width + GAP
    return placed


def cell_width(metrics: QFontMetrics, chips: Sequence[Chip]) -> int:
    """The width that shows every chosen chip of ``chips``, and room for a "+N" chip for
    the unchosen ones: the Suggested column is never narrower than its widest row's."""
    chosen = [chip_width(metrics, c) for c in chips if c.chosen]
    unchosen = sum(not c.chosen for c in chips)
    if unchosen:
        chosen.append(more_width(metrics, unchosen))
    return int(sum(chosen) + GAP * max(0, len(chosen) - 1) + 1)


def paint_chip(painter: QPainter, placed: Placed, palette: QPalette, metrics: QFontMetrics,
               selected: bool = False) -> None:
    """One chip: filled and outlined for a chosen genre, faint and dashed for a suggestion
    Accept leaves out, dotted for the "+N" that stands for those that do not fit."""
    box, chip = placed.box, placed.chip
    # On a selected row the chips are drawn in the selection's text colour, so they
    # stand out from the highlight behind them.
    text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
    chip_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight)
    radius = box.height() / 2
    outline = box.adjusted(0.5, 0.5, -0.5, -0.5)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if chip is None or not chip.chosen:
        painter.setOpacity(UNCHOSEN_OPACITY)
        pen = QPen(text_colour, 1, Qt.PenStyle.DotLine if chip is None else Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(outline, radius, radius)
    else:
        edge = QColor(chip_colour)
        edge.setAlphaF(0.6)
        painter.setPen(edge)  # even a faint, unsure chip keeps its shape
        painter.setBrush(confidence_fill(chip_colour, chip.confidence) if not selected
                         else confidence_fill(chip_colour, 0.1 * (chip.confidence or 0.0)))
        painter.drawRoundedRect(outline, radius, radius)
    text_box = box
    if chip is not None and chip.source in MARKER_COLOURS:
        size = marker_size(metrics)
        paint_marker(painter, QPointF(box.left() + PAD - 1 + size / 2, box.center().y()), size, chip.source,
                     text_colour if selected else None,
                     None if selected or not chip.chosen else palette.color(QPalette.ColorRole.Base))
        text_box = box.adjusted(size + 6, 0, 0, 0)
    painter.setPen(text_colour)
    painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter,
                     more_label(placed.hidden) if chip is None else chip_label(chip.genre, chip.confidence))
    painter.restore()


def chip_at(placed: Sequence[Placed], point: QPointF) -> Chip | None:
    """The chip under ``point``; None over a gap, or the "+N" chip."""
    return next((p.chip for p in placed if p.chip is not None and p.box.contains(point)), None)


def view_header(view: QWidget | None) -> QHeaderView | None:
    if isinstance(view, QTableView):
        return view.horizontalHeader()
    return view.header() if isinstance(view, QTreeView) else None


class ChipDelegate(QStyledItemDelegate):
    """Paints a row's candidates (its ChipsRole) as chips, and turns a click on a chip
    into ``chip_toggled(path, genre)``.

    The column is kept wide enough for the widest row's chosen chips painted so far, and
    a person cannot drag it narrower: a chosen genre never hides behind a "+N". One
    delegate serves one view."""

    chip_toggled = Signal(Path, str)

    def __init__(self, parent: QAbstractItemView | None = None) -> None:
        super().__init__(parent)
        self._pressed: tuple[QPersistentModelIndex, str] | None = None
        self._minimum: dict[int, int] = {}  # column -> the width its widest chosen chips need
        self._header: QHeaderView | None = None

    @staticmethod
    def _chip_rect(option: QStyleOptionViewItem) -> QRectF:
        return QRectF(option.rect.adjusted(2, 3, -2, -3))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        chips = index.data(ChipsRole)
        style = option.widget.style() if option.widget else None
        if style:  # selection and row background as usual, then the chips on top
            bare = QStyleOptionViewItem(option)
            self.initStyleOption(bare, index)
            bare.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, bare, painter, option.widget)
        if not chips:
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if text:  # a decision no chip shows, such as none at all
                painter.save()
                painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(option.rect.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
                painter.restore()
            return
        metrics = QFontMetrics(option.font)
        needed = cell_width(metrics, chips) + 4
        if needed > option.rect.width():
            self._widen(option.widget, index.column(), needed)
        item = index.data(ItemRole)
        painter.save()
        painter.setClipRect(option.rect)
        if isinstance(item, ReviewItem) and item.state is ReviewState.REJECTED:
            painter.setOpacity(0.45)  # set aside, like the rest of its row
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        for placed in place_chips(self._chip_rect(option), chips, metrics):
            paint_chip(painter, placed, option.palette, metrics, selected)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        chips = index.data(ChipsRole) or []
        width = cell_width(QFontMetrics(option.font), chips) + 4 if chips else 0
        return QSize(max(hint.width(), width, 220), hint.height() + 6)

    def editorEvent(self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem,
                    index: QModelIndex | QPersistentModelIndex) -> bool:
        """A press and a release on the same chip of a selected row toggle it. On a row not
        selected yet the click only selects it: a person looks at a row before changing it."""
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                        QEvent.Type.MouseButtonDblClick) or event.button() != Qt.MouseButton.LeftButton:
            return super().editorEvent(event, model, option, index)
        chips = index.data(ChipsRole) or []
        hit = chip_at(place_chips(self._chip_rect(option), chips, QFontMetrics(option.font)), event.position())
        if kind == QEvent.Type.MouseButtonPress:
            # The view selects the row after this press, so this asks whether it was selected before.
            view = option.widget
            selected = isinstance(view, QAbstractItemView) and view.selectionModel().isSelected(index)
            self._pressed = None if hit is None or not selected else (QPersistentModelIndex(index), hit.genre)
            return False
        pressed, self._pressed = self._pressed, None
        item = index.data(ItemRole)
        # A double click's second release is not a click of its own: it would undo the first.
        if kind == QEvent.Type.MouseButtonRelease and hit is not None and isinstance(item, ReviewItem) \
                and pressed == (QPersistentModelIndex(index), hit.genre):
            self.chip_toggled.emit(item.path, hit.genre)
            return True
        return False

    def _widen(self, view: QWidget | None, column: int, width: int) -> None:
        """Widen ``column`` to ``width`` once painting is over, and keep it at least that wide."""
        header = view_header(view)
        if header is None:
            return
        self._minimum[column] = max(width, self._minimum.get(column, 0))
        if self._header is not header:
            self._header = header
            header.sectionResized.connect(self._keep_minimum)
        QTimer.singleShot(0, header, lambda: self._keep_minimum(column, 0, header.sectionSize(column)))

    def _keep_minimum(self, column: int, _old: int, new: int) -> None:
        minimum = self._minimum.get(column, 0)
        if new < minimum and self._header is not None:
            self._header.resizeSection(column, minimum)

    def minimum_width(self, column: int) -> int:
        """The least width ``column`` may take: its widest chosen chips painted so far."""
        return self._minimum.get(column, 0)


class WrapsToWidth(QWidget):
    """A widget whose lines wrap, so its height follows its width (``heightForWidth``)."""

    def _fit_height(self) -> None:
        # Layouts that ignore height-for-width still give every line its room.
        self.setMinimumHeight(self.heightForWidth(max(self.width(), 1)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()


class ChipStrip(WrapsToWidth):
    """A row of chips outside a table (the detail panel, the check card), wrapped onto
    more lines where it is narrow; its tooltip says what each chip's marker means and
    whether Accept writes it. When toggleable, a click on a chip emits ``toggled(genre)``,
    and so does Space or Enter on the chip the arrow keys moved to."""

    toggled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips: list[Chip] = []
        self._toggleable = False
        self._current: str | None = None  # the genre of the chip the keys act on
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # as tall as its lines
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMouseTracking(True)
        self.setMinimumHeight(self._line_height() + 2)

    def _line_height(self) -> int:
        return self.fontMetrics().height() + 6

    def set_chips(self, chips: Sequence[Chip]) -> None:
        self._chips = list(chips)
        # A toggled chip moves between the chosen and the unchosen ones: the keys stay on its genre.
        if self._current not in (c.genre for c in self._chips):
            self._current = self._chips[0].genre if self._chips else None
        self._update_tooltip()
        self._fit_height()
        self.update()

    def chips(self) -> list[Chip]:
        return list(self._chips)

    def setToggleable(self, toggleable: bool) -> None:
        """Whether a click on a chip emits ``toggled``; only then does Tab stop at the strip."""
        self._toggleable = toggleable
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if toggleable else Qt.FocusPolicy.NoFocus)
        self._update_tooltip()
        if not toggleable:
            self.unsetCursor()

    def isToggleable(self) -> bool:
        return self._toggleable

    def _update_tooltip(self) -> None:
        self.setToolTip(candidates_tooltip(self._chips, self._toggleable) or "")
        self._update_accessible()

    def _update_accessible(self) -> None:
        """What a screen reader says: the chip the keys are on, and every chip; it cannot read paint."""
        current = self.current_chip()
        self.setAccessibleName("Genres: " + (spoken_chip(current) if current else "none suggested"))
        self.setAccessibleDescription(spoken_chips(self._chips) + (
            ". Arrow keys move between the genres; Space chooses or unchooses one." if self._toggleable else ""))

    def placed(self) -> list[Placed]:
        """Where each chip is painted."""
        return place_chips(QRectF(self.rect().adjusted(1, 1, -1, -1)), self._chips, self.fontMetrics(), wrap=True,
                           line_height=self._line_height())

    def chip_at(self, point: QPointF) -> Chip | None:
        return chip_at(self.placed(), point)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        boxes = place_chips(QRectF(1, 1, width - 2, self._line_height()), self._chips, self.fontMetrics(),
                            wrap=True, line_height=self._line_height())
        return int(max((p.box.bottom() for p in boxes), default=self._line_height()) + 2)

    def sizeHint(self) -> QSize:
        width = sum(chip_width(self.fontMetrics(), c) + GAP for c in self._chips)
        return QSize(int(width) + 4, self._line_height() + 2)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._toggleable and self.chip_at(event.position()) is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        chip = self.chip_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        if self._toggleable and chip is not None:
            self._current = chip.genre
            self._update_accessible()
            self.toggled.emit(chip.genre)
        else:
            super().mouseReleaseEvent(event)

    def current_chip(self) -> Chip | None:
        """The chip the arrow keys moved to, which Space or Enter toggles."""
        return next((c for c in self._chips if c.genre == self._current), None)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        order = [p.chip.genre for p in self.placed() if p.chip is not None]  # as painted, chosen ones first
        key = event.key()
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1}.get(key)
        if step is not None and order:
            at = order.index(self._current) if self._current in order else 0
            self._current = order[max(0, min(len(order) - 1, at + step))]
            self._update_accessible()
            self.update()
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._toggleable \
                and self._current is not None:
            self.toggled.emit(self._current)
        else:
            super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if not self._chips:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter, "no genres suggested")
            return
        for placed in self.placed():
            paint_chip(painter, placed, self.palette(), self.fontMetrics())
            if self.hasFocus() and placed.chip is not None and placed.chip.genre == self._current:
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(placed.box.adjusted(-1, -1, 1, 1), placed.box.height() / 2,
                                        placed.box.height() / 2)


class SourceLegend(WrapsToWidth):
    """What the markers mean: the sources in ``sources`` only, in SOURCE_ORDER, on as
    many lines as the width takes."""

    def __init__(self, sources: Sequence[str] = (Source.LEARNED, Source.BASE, Source.ALBUM),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # as tall as its lines
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.set_sources(sources)

    def set_sources(self, sources: Sequence[str | None]) -> None:
        """Explain these sources (a person's own pick, None, has no marker to explain)."""
        self.sources = [s for s in SOURCE_ORDER if s in set(sources)]
        self.setToolTip(legend_tooltip(self.sources))
        self._fit_height()
        self.update()

    def _entries(self, width: float) -> list[tuple[QRectF, str]]:
        """Where each source's marker and name go, wrapping onto new lines."""
        metrics = self.fontMetrics()
        size, line = marker_size(metrics), metrics.height() + 4
        x, y, placed = 2.0, 0.0, []
        for source in self.sources:
            entry = size + 4 + metrics.horizontalAdvance(SOURCE_NAMES[source]) + 2
            if x > 2.0 and x + entry > width:
                x, y = 2.0, y + line
            placed.append((QRectF(x, y, entry, line), source))
            x += entry + 12
        return placed

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        line = self.fontMetrics().height() + 4
        return int(max((rect.bottom() for rect, _ in self._entries(width)), default=line))

    def sizeHint(self) -> QSize:
        entries = self._entries(1e9)
        return QSize(int(max((r.right() for r, _ in entries), default=0)) + 2, self.fontMetrics().height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        size = marker_size(self.fontMetrics())
        for rect, source in self._entries(self.width()):
            paint_marker(painter, QPointF(rect.left() + size / 2, rect.center().y()), size, source)
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(rect.adjusted(size + 4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, SOURCE_NAMES[source])


class ConfidenceBars(QWidget):
    """Horizontal bars for the top genre confidences."""

    ROWS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._genres: list[GenreSuggestion] = []
        self._colours: dict[str, QColor] = {}
        self._leaders: set[str] = set()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._row_height() * self.ROWS)

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def label_width(self) -> int:
        """The room for the names and their markers: the longest name's, but never so much
        that a narrow panel has no room left for the bars and their values (long names
        are elided; the tooltip has them whole)."""
        size = marker_size(self.fontMetrics())
        natural = max([self.fontMetrics().horizontalAdvance(g.genre) for g in self._genres] + [60]) + 8 + size + 4
        return int(min(natural, max(60 + size + 12, 0.5 * self.width())))

    def colour_of(self, genre: str) -> QColor:
        """The timeline's colour for ``genre``, OTHER_COLOUR for one the timeline paints
        so; a genre that leads no segment and got no colour of its own (the timeline's
        leaders took them all) takes the highlight, so no bar that counts looks like "other"."""
        if genre in self._colours:
            return self._colours[genre]
        return OTHER_COLOUR if genre in self._leaders else self.palette().color(QPalette.ColorRole.Highlight)

    def set_analysis(self, analysis: Analysis | None, genres: Sequence[GenreSuggestion] | None = None) -> None:
        """Show the best of ``genres``, the track's ranked suggestions (its analysis's own where None)."""
        ranked = (analysis.genres if genres is None else genres) if analysis else []
        self._genres = list(ranked[: self.ROWS])
        self._colours = genre_colours(analysis, self.ROWS, ranked) if analysis else {}
        self._leaders = {s.genres[0].genre for s in analysis.segments if s.genres} if analysis else set()
        self.setToolTip(source_tooltip(map(suggestion_chip, self._genres)) or "")
        self.setAccessibleName("Top genres")
        self.setAccessibleDescription(spoken_chips(map(suggestion_chip, self._genres), choice=False))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        row = self._row_height()
        size = marker_size(self.fontMetrics())
        label_width = self.label_width()
        value_width = self.fontMetrics().horizontalAdvance("100%") + 8
        bar_space = max(10, self.width() - label_width - value_width)
        for i, g in enumerate(self._genres):
            y = i * row
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            name = self.fontMetrics().elidedText(g.genre, Qt.TextElideMode.ElideRight, label_width - size - 12)
            painter.drawText(QRectF(0, y, label_width - 8, row),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            text_width = self.fontMetrics().horizontalAdvance(name)
            paint_marker(painter, QPointF(label_width - 8 - text_width - 4 - size / 2, y + row / 2), size, g.source)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colour_of(g.genre))
            painter.drawRoundedRect(QRectF(label_width, y + 3, bar_space * g.confidence, row - 6), 3, 3)
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(label_width + bar_space * g.confidence + 4, y, value_width, row),
                             Qt.AlignmentFlag.AlignVCenter, f"{g.confidence:.0%}")


MIN_SEGMENT_PX = 6.0  # narrower, a 3 s segment of a long track cannot be hovered or clicked
UNANALYSED = "not analysed"


class LegendEntry(NamedTuple):
    """One entry of a chart's legend: its words and its colour."""

    label: str
    colour: QColor | None  # None: the hatching of the parts no segment covers


def segment_text(segment: Segment) -> str:
    """Where a segment lies and what it sounds like: "12–15 s: Jazz 80%, Blues 30%"."""
    return f"{segment.start_s:.0f}–{segment.end_s:.0f} s: " + ", ".join(
        chip_label(g.genre, g.confidence) for g in segment.genres)


def minutes(seconds: float) -> str:
    whole, rest = divmod(int(seconds), 60)
    return f"{whole}:{rest:02d}"


class Timeline(WrapsToWidth):
    """The track from start to end, each analysed segment coloured by its top genre,
    so a user sees which parts of the track point where; hatched parts were not
    analysed. Every segment is at least MIN_SEGMENT_PX wide, and the legend, on as
    many lines as it takes, names every colour drawn. Click a segment to pick it and
    hear it; or the arrow keys pick one (``segment_selected``) and Space plays it."""

    segment_clicked = Signal(object)  # Segment: pick it and play it
    segment_selected = Signal(object)  # Segment: picked with the keys, for the Play button

    MARGIN = 4.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._selected: Segment | None = None
        self._colours: dict[str, QColor] = {}
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # as tall as its lines
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_height()
        self._update_accessible()

    def set_analysis(self, analysis: Analysis | None, genres: Sequence[GenreSuggestion] | None = None) -> None:
        """Show ``analysis``'s segments, coloured as the bars colour ``genres`` (see genre_colours)."""
        self._analysis = analysis
        self._selected = None
        self._colours = genre_colours(analysis, ConfidenceBars.ROWS, genres) if analysis else {}
        self._fit_height()
        self._update_accessible()
        self.update()

    def _update_accessible(self) -> None:
        """In words what the bar paints: the picked segment, and which genre leads how much of the track."""
        self.setAccessibleName("Timeline" + (f": {segment_text(self._selected)}" if self._selected else ""))
        if self._analysis is None or not self._analysis.segments:
            self.setAccessibleDescription("no music detected" if self._analysis else "not analysed yet")
            return
        segments = self._analysis.segments
        leading = Counter(s.genres[0].genre if s.genres else "no genre" for s in segments)
        covered = sum(s.end_s - s.start_s for s in segments) / max(self._analysis.duration_s, 1e-6)
        self.setAccessibleDescription(
            f"{len(segments)} analysed segments, {min(covered, 1.0):.0%} of {minutes(self._analysis.duration_s)}, "
            "led by " + ", ".join(f"{genre} in {n}" for genre, n in leading.most_common())
            + ". Arrow keys pick a segment; Space plays it.")

    # Geometry.

    def _bar(self) -> QRectF:
        return QRectF(self.MARGIN, self.MARGIN, self.width() - 2 * self.MARGIN, self.fontMetrics().height() + 8)

    def _x(self, seconds: float) -> float:
        duration = max(self._analysis.duration_s, 1e-6) if self._analysis else 1.0
        return self.MARGIN + (self.width() - 2 * self.MARGIN) * seconds / duration

    def segment_rects(self) -> list[tuple[Segment, QRectF]]:
        """Where each segment is painted, and hovered: at least MIN_SEGMENT_PX wide, centred
        on the segment, but never over its neighbours' halves of the gap between them."""
        if self._analysis is None:
            return []
        bar = self._bar()
        segments = self._analysis.segments
        centres = [(self._x(s.start_s) + self._x(s.end_s)) / 2 for s in segments]
        rects = []
        for k, segment in enumerate(segments):
            half = max(MIN_SEGMENT_PX, self._x(segment.end_s) - self._x(segment.start_s)) / 2
            left = max(centres[k] - half, bar.left(), (centres[k - 1] + centres[k]) / 2 if k else bar.left())
            right = min(centres[k] + half, bar.right(),
                        (centres[k] + centres[k + 1]) / 2 if k + 1 < len(segments) else bar.right())
            rects.append((segment, QRectF(left, bar.top(), right - left, bar.height())))
        return rects

    def _segment_at(self, x: float) -> Segment | None:
        return next((s for s, rect in self.segment_rects() if rect.left() <= x <= rect.right()), None)

    def colour_of(self, segment: Segment) -> QColor:
        return self._colours.get(segment.genres[0].genre, OTHER_COLOUR) if segment.genres else OTHER_COLOUR

    def legend_entries(self) -> list[LegendEntry]:
        """One entry per colour the bar shows, in the order the genres lead the track."""
        if self._analysis is None or not self._analysis.segments:
            return []
        leaders = [s.genres[0].genre if s.genres else "" for s in self._analysis.segments]
        coloured = [g for g in self._colours if g in leaders]
        others = sorted({g for g in leaders if g not in self._colours}, key=lambda g: (g == "", g))
        entries = [LegendEntry(g, self._colours[g]) for g in coloured]
        if others:  # more leading genres than the palette has colours: they share one, and say so
            names = [g or "no genre" for g in others]
            entries.append(LegendEntry(names[0] if len(names) == 1 else "other: " + ", ".join(names), OTHER_COLOUR))
        if self._uncovered():
            entries.append(LegendEntry(UNANALYSED, None))
        return entries

    def _uncovered(self) -> bool:
        """Whether some of the track lies outside every segment (its hatching shows)."""
        bar = self._bar()
        rects = [r for _, r in self.segment_rects()]
        edges = [bar.left()] + [x for r in rects for x in (r.left(), r.right())] + [bar.right()]
        return any(b - a >= 1 for a, b in zip(edges[::2], edges[1::2]))

    def _legend_layout(self, width: float) -> list[tuple[QRectF, LegendEntry]]:
        """Legend entries left to right, wrapping onto new lines, below the bar."""
        metrics = self.fontMetrics()
        line = float(metrics.height())
        x, y = self.MARGIN, self.MARGIN + metrics.height() + 8 + 4
        placed = []
        for entry in self.legend_entries():
            entry_width = line + metrics.horizontalAdvance(entry.label) + 12
            if x > self.MARGIN and x + entry_width > width - self.MARGIN:
                x, y = self.MARGIN, y + line
            placed.append((QRectF(x, y, entry_width, line), entry))
            x += entry_width
        return placed

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        line = self.fontMetrics().height()
        legend = self._legend_layout(width)
        lines = len({rect.top() for rect, _ in legend}) or 1
        return int(self.MARGIN + line + 8 + 4 + (lines + 1) * line + self.MARGIN)

    # Interaction.

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        segment = self._segment_at(event.position().x())
        self.setToolTip("" if segment is None else segment_text(segment))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        segment = self._segment_at(event.position().x())
        if segment is not None:
            self._selected = segment
            self._update_accessible()
            self.update()
            self.segment_clicked.emit(segment)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        segments = self._analysis.segments if self._analysis is not None else []
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()))
        if step is not None and segments:
            at = segments.index(self._selected) if self._selected in segments else (-1 if step > 0 else 0)
            self._selected = segments[max(0, min(len(segments) - 1, at + step))]
            self._update_accessible()
            self.update()
            self.segment_selected.emit(self._selected)
        elif event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and segments:
            self._selected = self._selected or segments[0]
            self._update_accessible()
            self.update()
            self.segment_clicked.emit(self._selected)
        else:
            super().keyPressEvent(event)

    # Painting.

    def _hatch(self, painter: QPainter, rect: QRectF) -> None:
        palette = self.palette()
        painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        painter.fillRect(rect, QBrush(palette.color(QPalette.ColorRole.Mid), Qt.BrushStyle.BDiagPattern))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        bar = self._bar()
        self._hatch(painter, bar)  # the parts of the track no analysed segment covers (intro, outro, skipped)
        if self._analysis is None or not self._analysis.segments:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "no music detected" if self._analysis else "not analysed yet")
            return
        for segment, rect in self.segment_rects():
            painter.fillRect(rect, self.colour_of(segment))
            if segment is self._selected:  # two pixels wide, around it: it is the one Play excerpt plays
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
                painter.drawRect(rect.adjusted(-1, -1, 1, 1))
        if self.hasFocus():  # where the arrow keys act
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DashLine))
            painter.drawRect(bar.adjusted(-2, -2, 1, 1))
        legend = self._legend_layout(self.width())
        line = float(self.fontMetrics().height())
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        for rect, entry in legend:
            swatch = QRectF(rect.left(), rect.top() + 2, line - 4, line - 4)
            if entry.colour is None:
                self._hatch(painter, swatch)
            else:
                painter.fillRect(swatch, entry.colour)
            painter.drawText(rect.adjusted(line, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, entry.label)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        bottom = max((rect.bottom() for rect, _ in legend), default=bar.bottom() + 4 + line)
        scale = QRectF(self.MARGIN, bottom, self.width() - 2 * self.MARGIN, line)
        painter.drawText(scale, Qt.AlignmentFlag.AlignLeft, "0:00")
        painter.drawText(scale, Qt.AlignmentFlag.AlignRight, minutes(self._analysis.duration_s))

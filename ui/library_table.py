"""The library table: the session's rows, their genres as chips a click chooses, and a
word for the empty table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from ui.charts import ChipDelegate
from ui.library import Column, LibraryModel

EMPTY_TEXT = "Drop music folders or files here, or press Ctrl+O to add a folder"
NO_MATCH_TEXT = "No matches"

# How the columns share the width left beside Status, Suggested and Confidence, which
# take what their content needs: every column stays in view in a 1280 px window with
# the side panel open, and the user's own widths win once they drag one.
SHARES = {Column.ARTIST: 1.0, Column.TITLE: 1.3, Column.CURRENT: 1.1, Column.ALBUM: 1.0, Column.PATH: 1.6}
MIN_TEXT_WIDTH = 60
MIN_SUGGESTED_WIDTH = 180
# The File column is wide enough for the longest of the first rows' file names: enough to
# see a library's naming, and cheap to measure at every resize.
NAMES_MEASURED = 200
PATH_PADDING = 8  # what PathDelegate leaves beside the text


def elide_path(path: str, fits: Callable[[str], bool]) -> str:
    """``path`` cut in the middle, in its folders, so that its file name stays whole: the
    name tells two tracks of the same title apart. Where even that is too wide, the
    name's end (its extension) stays."""
    if fits(path):
        return path
    head, _, name = path.rpartition("/")
    folders = head.split("/")
    for keep in range(len(folders) - 1, 0, -1):
        shortened = "/".join(folders[:keep]) + "/…/" + name
        if fits(shortened):
            return shortened
    if fits("…/" + name):
        return "…/" + name
    for start in range(1, len(name)):
        if fits("…" + name[start:]):
            return "…" + name[start:]
    return "…"


def name_width(metrics: QFontMetrics, names: Iterable[str]) -> int:
    """The width the File column needs to show each of ``names`` whole, its folders cut."""
    return max((metrics.horizontalAdvance("…/" + name) for name in names), default=0) + PATH_PADDING


class PathDelegate(QStyledItemDelegate):
    """Paints a path with ``elide_path``."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        metrics, width = option.fontMetrics, option.rect.width() - PATH_PADDING
        option.text = elide_path(option.text, lambda text: metrics.horizontalAdvance(text) <= width)


class LibraryTable(QTableView):
    """The library table over a LibraryModel. ``chip_toggled(path, genre)``: a click on a
    genre chip, to choose or unchoose it (ReviewSession.toggle)."""

    chip_toggled = Signal(Path, str)

    def __init__(self, model: LibraryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library_model = model
        self.setModel(model)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order files were found in, until asked
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)  # the arrow keys move within; Tab goes on to the side panel
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.chips = ChipDelegate(self)
        self.chips.chip_toggled.connect(self.chip_toggled)
        self.setItemDelegateForColumn(Column.SUGGESTED, self.chips)
        self.setItemDelegateForColumn(Column.PATH, PathDelegate(self))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._fitted: dict[Column, int] | None = {}  # the widths fit_columns set; None once the user set their own
        self._fitting = False
        self._fitted_names = 0  # the file names' width fit_columns made room for
        header.sectionResized.connect(self._section_resized)
        model.session_changed.connect(self._session_changed)
        self.fit_columns()

    # The placeholder.

    def placeholder_text(self) -> str:
        """What the empty viewport says: how to add files, or that the search matches none."""
        if self.library_model.rowCount():
            return ""
        return NO_MATCH_TEXT if self.library_model.session.items else EMPTY_TEXT

    def _session_changed(self) -> None:
        if not self.library_model.rowCount():  # rows arrived that the filter hides: "no matches" now
            self.viewport().update()
        elif self._fitted is not None and self._names_width() != self._fitted_names:
            self.fit_columns()  # the first rows arrived, or longer names among them

    def _names_width(self) -> int:
        model = self.library_model
        grid = 1 if self.showGrid() else 0  # a cell is its column less the grid line
        return grid + name_width(self.fontMetrics(), (model.item_at(row).path.name
                                                      for row in range(min(model.rowCount(), NAMES_MEASURED))))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        text = self.placeholder_text()
        if text:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(self.palette().ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)

    # Column widths.

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if column == Column.SUGGESTED and not self._fitting:  # the chips delegate may have widened it
            self.fit_columns()

    def _own_widths(self) -> bool:
        """Whether widths other than fit_columns' were set since: a drag, or a restored layout."""
        header = self.horizontalHeader()
        for column, width in (self._fitted or {}).items():
            now = header.sectionSize(column)
            widened = column is Column.SUGGESTED and now == self.chips.minimum_width(column)
            if column is not Column.PATH and now != width and not widened:  # the last column takes what is left
                return True
        return False

    def fit_columns(self) -> None:
        """Share the viewport's width among the columns, as long as no one set their own widths."""
        if self._fitted is None:
            return
        if self._own_widths():
            self._fitted = None  # a person's own widths from now on
            return
        header, metrics = self.horizontalHeader(), self.fontMetrics()
        available = self.viewport().width()
        genres_least = max(self.chips.minimum_width(Column.SUGGESTED), MIN_SUGGESTED_WIDTH)
        widths = {
            Column.STATUS: metrics.horizontalAdvance("accepted (edited)") + 16,
            Column.CONFIDENCE: header.fontMetrics().horizontalAdvance(Column.CONFIDENCE.header) + 28,
            Column.SUGGESTED: max(genres_least, int(0.30 * available)),  # room for three short candidates
        }
        rest = available - sum(widths.values())
        # The file name shows whole where the other text columns keep their least width,
        # and the genres lend it what they have beyond theirs; in a narrower window the
        # File column gives way first, and the genres' chosen chips never do.
        others = {column: share for column, share in SHARES.items() if column is not Column.PATH}
        least = MIN_TEXT_WIDTH * len(others)
        self._fitted_names = self._names_width()
        lent = min(max(0, self._fitted_names - (rest - least)), widths[Column.SUGGESTED] - genres_least)
        widths[Column.SUGGESTED] -= lent
        rest += lent
        path = max(MIN_TEXT_WIDTH, int(rest * SHARES[Column.PATH] / sum(SHARES.values())),
                   min(self._fitted_names, rest - least))
        unit = max(0, rest - path - least) / sum(others.values())
        widths |= {column: MIN_TEXT_WIDTH + int(unit * share) for column, share in others.items()}
        widths[Column.PATH] = path
        self._fitting = True
        try:
            for column, width in widths.items():
                header.resizeSection(column, width)
        finally:
            self._fitting = False
        self._fitted = {column: header.sectionSize(column) for column in widths}

"""The library table's model: every file under review, with its own sorting and filtering.

Sorting and filtering run over plain Python lists in one pass each, not through
QSortFilterProxyModel, whose per-comparison calls back into Python would take
seconds at 100,000 rows. ``_order`` maps a visible row to an index in ``items``;
``_row_of`` maps back, so a result for one file repaints one row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from tagger.review import ReviewItem, ReviewState
from tagger.genres import normalise_name

ItemRole = Qt.ItemDataRole.UserRole + 1
ChipsRole = Qt.ItemDataRole.UserRole + 2  # list[Chip]: what the Suggested column paints


class Chip(NamedTuple):
    """One genre as the Suggested column shows it."""

    genre: str
    confidence: float | None  # None: a person's own pick
    source: str | None  # "library", "base" or "album" (GenreSuggestion.source); None: a person's own pick


def item_chips(item: ReviewItem) -> list[Chip]:
    """The genres ``item`` would write, each with what suggested it."""
    chips = []
    for genre in item.proposed:
        suggestion = item.suggestion_of(genre)
        chips.append(Chip(genre, None, None) if suggestion is None
                     else Chip(genre, suggestion.confidence, suggestion.source))
    return chips


def source_tooltip(chips: list[Chip]) -> str | None:
    """Each chip with what its marker means; imported late, since ui.charts paints them."""
    from ui.charts import source_line

    return "\n".join(source_line(c) for c in chips) or None


class Column(int, Enum):
    # What a reviewer compares sits together, left of what identifies the file further.
    STATUS = 0
    ARTIST = 1
    TITLE = 2
    CURRENT = 3
    SUGGESTED = 4
    CONFIDENCE = 5
    ALBUM = 6
    PATH = 7

    @property
    def header(self) -> str:
        return {Column.CURRENT: "Current genres", Column.SUGGESTED: "Suggested genres",
                Column.PATH: "File"}.get(self, self.name.title())


class Filter(str, Enum):
    ALL = "All files"
    NO_GENRES = "Without genres"
    DIFFERS = "Suggestion differs"
    LOW_CONFIDENCE = "Low confidence"
    ERRORS = "Errors"


# Shown in this order when sorting by status; errors first because they need a look.
STATE_ORDER = {s: i for i, s in enumerate([
    ReviewState.ERROR, ReviewState.SUGGESTED, ReviewState.EDITED, ReviewState.ACCEPTED, ReviewState.ANALYSING,
    ReviewState.NEW, ReviewState.REJECTED, ReviewState.WRITTEN,
])}
# Tints for rows a person has acted on, mixed into the palette so they suit light and dark themes.
STATE_TINTS = {
    ReviewState.ACCEPTED: QColor(46, 160, 67),
    ReviewState.EDITED: QColor(210, 153, 34),
    ReviewState.ERROR: QColor(218, 54, 51),
    ReviewState.WRITTEN: QColor(56, 139, 253),
}


@lru_cache(maxsize=65536)
def genre_set(genres: tuple[str, ...]) -> frozenset[str]:
    """Genres compared as a set, ignoring case and spacing; a library repeats few
    combinations, so the cache spares the "differs" filter most of its work."""
    return frozenset(normalise_name(g) for g in genres)


def tinted(state: ReviewState) -> QColor | None:
    if state not in STATE_TINTS:
        return None
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    tint = STATE_TINTS[state]
    return QColor.fromRgbF(*(0.82 * b + 0.18 * t for b, t in zip(base.getRgbF()[:3], tint.getRgbF()[:3])))


def item_text(item: ReviewItem, column: Column) -> str:
    if column is Column.STATUS:
        state = item.state.value
        if item.edited and item.state is ReviewState.ACCEPTED:
            state = "accepted (edited)"
        elif item.album_genres and item.state is ReviewState.ACCEPTED:
            state = "accepted (album)"
        return f"error: {item.error}" if item.state is ReviewState.ERROR else state
    if column is Column.CONFIDENCE:
        return "" if item.top_confidence is None else f"{item.top_confidence:.0%}"
    if column is Column.CURRENT:
        return ", ".join(item.current_genres)
    if column is Column.SUGGESTED:  # painted as chips; the text is for sorting, copying, screen readers
        return ", ".join(item.proposed)
    if column is Column.PATH:
        return str(item.path)
    return getattr(item, column.name.lower())


def item_data(item: ReviewItem, column: Column, role: int):
    """One file's cell, for the table and for the track rows of the album tree."""
    if role == Qt.ItemDataRole.DisplayRole:
        return item_text(item, column)
    if role == ItemRole:
        return item
    if role == ChipsRole:
        return item_chips(item)
    if role == Qt.ItemDataRole.ToolTipRole:
        if item.error:
            return f"{item.path}\n{item.error}"
        if column is Column.SUGGESTED:
            return source_tooltip(item_chips(item))
        return str(item.path) if column in (Column.PATH, Column.TITLE) else None
    if role == Qt.ItemDataRole.BackgroundRole:
        return tinted(item.state)
    if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.CONFIDENCE:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return None


def sort_key(column: Column) -> Callable[[ReviewItem], object]:
    text = {
        Column.ARTIST: lambda i: i.artist.casefold(),
        Column.TITLE: lambda i: i.title.casefold(),
        Column.ALBUM: lambda i: i.album.casefold(),
        Column.CURRENT: lambda i: ", ".join(i.current_genres).casefold(),
        Column.SUGGESTED: lambda i: ", ".join(i.proposed).casefold(),
        Column.PATH: lambda i: str(i.path),
    }
    if column in text:
        return text[column]
    if column is Column.CONFIDENCE:
        return lambda i: -1.0 if i.top_confidence is None else i.top_confidence
    return lambda i: STATE_ORDER[i.state]


class LibraryModel(QAbstractTableModel):
    def __init__(self, low_confidence: float = 0.5, parent=None) -> None:
        super().__init__(parent)
        self.items: list[ReviewItem] = []
        self._index_of: dict[Path, int] = {}
        self._filtered: list[int] = []  # item indices that pass the filter, in found order
        self._order: list[int] = []
        self._row_of: list[int] = []  # item index -> visible row, or -1
        self._filter = Filter.ALL
        self._search = ""
        self._sort: tuple[Column, Qt.SortOrder] | None = None
        self.low_confidence = low_confidence

    # Qt's model interface.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return Column(section).header
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        return item_data(self.items[self._order[index.row()]], Column(index.column()), role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``; -1 restores the order the files were found in."""
        self._sort = (Column(column), order) if column >= 0 else None
        self._relayout(refilter=False)

    # The app's interface.

    def add(self, items: Iterable[ReviewItem]) -> None:
        """Append new files (ones already listed are ignored) at the end of the view;
        a sort or filter change places them."""
        fresh = []
        for item in items:
            if item.path not in self._index_of:
                self.items.append(item)
                self._index_of[item.path] = len(self.items) - 1
                self._row_of.append(-1)
                fresh.append(len(self.items) - 1)
        visible = [i for i in fresh if self._passes(self.items[i])]
        if visible:
            first = len(self._order)
            self.beginInsertRows(QModelIndex(), first, first + len(visible) - 1)
            self._filtered.extend(visible)
            for row, i in enumerate(visible, first):
                self._order.append(i)
                self._row_of[i] = row
            self.endInsertRows()

    def known_paths(self) -> frozenset[Path]:
        return frozenset(self._index_of)

    def item(self, path: Path) -> ReviewItem | None:
        index = self._index_of.get(path)
        return None if index is None else self.items[index]

    def item_at(self, row: int) -> ReviewItem:
        return self.items[self._order[row]]

    def row_of(self, path: Path) -> int:
        index = self._index_of.get(path)
        return -1 if index is None else self._row_of[index]

    def changed(self, paths: Iterable[Path]) -> None:
        """Repaint the rows of ``paths``; rows stay where they are until the next sort or filter."""
        rows = [r for r in (self.row_of(p) for p in paths) if r >= 0]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(Column) - 1))

    def set_filter(self, kind: Filter, search: str | None = None) -> None:
        self._filter = kind
        if search is not None:
            self._search = search.casefold().strip()
        self._relayout()

    def library_genres(self) -> set[str]:
        return {g for item in self.items for g in item.current_genres}

    def _passes(self, item: ReviewItem) -> bool:
        kind = self._filter
        if kind is Filter.NO_GENRES and item.current_genres:
            return False
        if kind is Filter.DIFFERS and (not item.proposed or genre_set(tuple(item.proposed)) == genre_set(tuple(item.current_genres))):
            return False
        if kind is Filter.LOW_CONFIDENCE and (item.top_confidence is None or item.top_confidence >= self.low_confidence):
            return False
        if kind is Filter.ERRORS and item.state is not ReviewState.ERROR:
            return False
        if self._search:
            haystack = f"{item.artist}\0{item.title}\0{item.album}\0{item.path}".casefold()
            return self._search in haystack
        return True

    def _relayout(self, refilter: bool = True) -> None:
        """Filter (unless only the sort changed), sort, and move the rows in one layout change."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(p, self._order[p.row()]) for p in persistent]
        if refilter:
            self._filtered = [i for i, item in enumerate(self.items) if self._passes(item)]
        order = list(self._filtered)
        if self._sort is not None:
            column, direction = self._sort
            key = sort_key(column)
            order.sort(key=lambda i: key(self.items[i]), reverse=direction == Qt.SortOrder.DescendingOrder)
        self._order = order
        self._row_of = [-1] * len(self.items)
        for row, i in enumerate(order):
            self._row_of[i] = row
        # Keep the selection and current row on the same files where they are still shown.
        self.changePersistentIndexList(
            [p for p, _ in held],
            [self.index(self._row_of[i], p.column()) if self._row_of[i] >= 0 else QModelIndex() for p, i in held],
        )
        self.layoutChanged.emit()

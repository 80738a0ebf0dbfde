"""The library table's model: a view of the review session's rows, with its own sorting and filtering.

The session owns the rows and announces their changes; the model follows them
without anyone calling it: appended rows are appended, changed rows repainted,
and a reset lays every row out again.

Sorting and filtering run over plain Python lists in one pass each, not through
QSortFilterProxyModel, whose per-comparison calls back into Python would take
seconds at 100,000 rows. ``_order`` holds the visible rows; ``_row_of`` maps a
file back to its row, so a result for one file repaints one row. It is built when
first asked for after a sort or filter, which then need not wait for it, and a
search reads each row's text from ``_haystacks``, kept as rows arrive and change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from enum import Enum
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from tagger.genres.vocabulary import genre_key
from tagger.review.items import CANDIDATES_SHOWN, ReviewItem, ReviewState
from tagger.review.session import Change, ReviewSession
from tagger.text import TextEnum, plural
from ui.chips import candidates_tooltip, chip_label, item_chips, spoken_chips
from ui.roles import ChipsRole, ItemRole

# Past this many separate blocks of changed rows, one range over them all is cheaper
# than a signal per block (the view repaints at most its viewport either way).
MAX_REPAINT_RANGES = 64
# Up to this many rows are found after a sort by scanning (a few ms each at 100,000 rows);
# more build the map of every row (about 50 ms) once.
FEW_LOOKUPS = 8


class Column(int, Enum):
    """The library table's columns, in the order they are shown."""

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
        # Short where the column is narrow: a header clipped on both sides ("urrent genr") reads as nothing.
        return {Column.CURRENT: "Current", Column.SUGGESTED: "Suggested genres",
                Column.PATH: "File"}.get(self, self.name.title())


class Filter(TextEnum):
    """Which rows the table shows, as the Show box words it."""

    ALL = "All files"
    NO_GENRES = "Without genres"
    DIFFERS = "Suggestion differs"
    LOW_CONFIDENCE = "Low confidence"
    ERRORS = "Errors"


# Shown in this order when sorting by status; errors first because they need a look.
STATE_ORDER = {s: i for i, s in enumerate([
    ReviewState.ERROR, ReviewState.SUGGESTED, ReviewState.UNSURE, ReviewState.EDITED, ReviewState.ACCEPTED,
    ReviewState.ANALYSING, ReviewState.NEW, ReviewState.REJECTED, ReviewState.WRITTEN,
])}
def state_count(state: ReviewState, count: int) -> str:
    """Rows in one state, in the Status column's words: "1 error", "2 errors", "3 unsure"."""
    return plural(count, "error") if state is ReviewState.ERROR else f"{count} {state.value}"


# Tints for rows a person has acted on, mixed into the palette so they suit light and dark themes.
STATE_TINTS = {
    ReviewState.ACCEPTED: QColor(46, 160, 67),
    ReviewState.EDITED: QColor(210, 153, 34),
    ReviewState.ERROR: QColor(218, 54, 51),
    ReviewState.WRITTEN: QColor(56, 139, 253),
    ReviewState.REJECTED: QColor(128, 128, 128),
}


@lru_cache(maxsize=65536)
def genre_set(genres: tuple[str, ...]) -> frozenset[str]:
    """Genres compared as a set, ignoring case and spacing; a library repeats few
    combinations, so the cache spares the "differs" filter most of its work."""
    return frozenset(genre_key(g) for g in genres)


def tinted(state: ReviewState) -> QColor | None:
    if state not in STATE_TINTS:
        return None
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    tint = STATE_TINTS[state]
    return QColor.fromRgbF(*(0.82 * b + 0.18 * t for b, t in zip(base.getRgbF()[:3], tint.getRgbF()[:3])))


def struck_out() -> QFont:
    """A rejected row's font: struck out, so it reads as set aside even without colour."""
    font = QFont(QApplication.font())
    font.setStrikeOut(True)
    return font


def greyed() -> QColor:
    return QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)


# A genre cleanup's row that drops the file's only genre (junk): no chip can say it.
CLEARS_GENRES = "no genre: Apply removes the genre field"


def suggested_text(item: ReviewItem) -> str:
    """The Suggested column as text, for copying and screen readers: what Accept writes,
    then the suggestions it leaves out."""
    if item.replaces and not item.proposed:
        return CLEARS_GENRES if item.state is ReviewState.ACCEPTED else "no genre"
    chips = item_chips(item)
    text = ", ".join(c.genre for c in chips if c.chosen)
    rest = [c for c in chips if not c.chosen]
    if rest:
        text += (" " if text else "") + "(not chosen: " + ", ".join(chip_label(c.genre, c.confidence)
                                                                    for c in rest) + ")"
    return text


# An edited row's first genre that no analysis suggested: the person is the one sure of it.
OWN_PICK = "yours"
WAITS_FOR_ANALYSIS = ("Your genres are kept: Apply leaves this file alone until it is analysed again "
                      "without an error (Analyse All retries it), and then they are accepted.")


def confidence_text(item: ReviewItem) -> str:
    """The Confidence column: how sure the suggestion of what Accept writes is."""
    if item.own_pick:
        return OWN_PICK
    confidence = item.written_confidence
    return "" if confidence is None else f"{confidence:.0%}"


def error_tooltip(item: ReviewItem) -> str:
    """A failed row's tooltip: the file, the whole message, and what happens to an edit of it."""
    return "\n".join([str(item.path), item.error or "", *([WAITS_FOR_ANALYSIS] if item.waits_for_analysis else [])])


def item_text(item: ReviewItem, column: Column) -> str:
    if column is Column.STATUS:
        state = item.state.value
        if item.edited and item.state is ReviewState.ACCEPTED:
            state = "accepted (edited)"
        elif item.album_genres and item.state is ReviewState.ACCEPTED:
            state = "accepted (album)"
        if item.state is ReviewState.ERROR:  # the whole message is the tooltip's and the panel's
            return f"error: {item.error_summary}" + (" (edited)" if item.edited else "")
        return state
    if column is Column.ARTIST:
        return item.shown_artist
    if column is Column.CONFIDENCE:
        return confidence_text(item)
    if column is Column.CURRENT:
        return ", ".join(item.current_genres)
    if column is Column.SUGGESTED:  # painted as chips
        return suggested_text(item)
    if column is Column.PATH:
        return str(item.path)
    return getattr(item, column.name.lower())


def column_header(section: int, orientation: Qt.Orientation, role: int) -> str | None:
    """A column's header, for the table and the album tree alike."""
    if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
        return Column(section).header
    return None


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
            return error_tooltip(item)
        if column is Column.SUGGESTED:
            return candidates_tooltip(item_chips(item))
        return str(item.path) if column in (Column.PATH, Column.TITLE) else None
    if column is Column.SUGGESTED and role == Qt.ItemDataRole.AccessibleTextRole:
        return suggested_text(item) or "no genres suggested"
    if column is Column.SUGGESTED and role == Qt.ItemDataRole.AccessibleDescriptionRole:  # what the chips paint
        return spoken_chips(item_chips(item))
    if role == Qt.ItemDataRole.BackgroundRole:
        return tinted(item.state)
    if role == Qt.ItemDataRole.FontRole and item.state is ReviewState.REJECTED:
        return struck_out()
    if role == Qt.ItemDataRole.ForegroundRole and item.state is ReviewState.REJECTED:
        return greyed()
    if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.CONFIDENCE:
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return None


def sort_key(column: Column) -> Callable[[ReviewItem], object]:
    text = {
        Column.ARTIST: lambda i: i.shown_artist.casefold(),
        Column.TITLE: lambda i: i.title.casefold(),
        Column.ALBUM: lambda i: i.album.casefold(),
        Column.CURRENT: lambda i: ", ".join(i.current_genres).casefold(),
        Column.SUGGESTED: lambda i: ", ".join(i.proposed).casefold(),
        Column.PATH: lambda i: str(i.path),
    }
    if column in text:
        return text[column]
    if column is Column.CONFIDENCE:  # a person's own genre above every suggestion, rows with none below
        return lambda i: (2.0 if i.proposed else -1.0) if (c := i.written_confidence) is None else c
    return lambda i: STATE_ORDER[i.state]


def search_text(item: ReviewItem) -> str:
    """What a search looks through: the file's tags, its path, the genres it holds, and
    the genres suggested for it (chosen or not)."""
    suggested = [g.genre for g in item.ranked()[:CANDIDATES_SHOWN]]
    return "\0".join([item.artist, item.album_artist, item.title, item.album, str(item.path),
                      *item.current_genres, *item.proposed, *suggested]).casefold()


def blocks(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class Subscription:
    """A session subscription that ends once, however often it is ended (a detach, then
    the model's destruction)."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop: Callable[[], None] | None = stop

    def end(self, *_: object) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


class LibraryModel(QAbstractTableModel):
    """The session's rows as a table; it follows the session until ``detach()`` or its destruction."""

    # After the model took in a change of the session's, even one that leaves every row
    # filtered out: what shows where no row does may have changed too.
    session_changed = Signal()

    def __init__(self, session: ReviewSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._filter = Filter.ALL
        self._search = ""
        self._only: frozenset[Path] | None = None  # the Genres panel's choice of files
        self._sort: tuple[Column, Qt.SortOrder] | None = None
        self._filtered: list[ReviewItem] = list(session.items)  # the rows that pass the filter, in found order
        self._order: list[ReviewItem] = list(self._filtered)  # the visible rows
        self._row_of: dict[int, int] | None = None  # id(item) -> visible row; built on demand, see _rows()
        self._haystacks: dict[int, str] = {}  # id(item) -> search_text(item), for the rows unchanged since
        self._subscription = Subscription(session.subscribe(self._session_changed))
        # The session outlives the model; a destroyed model must not hear from it again.
        self.destroyed.connect(self._subscription.end)

    def detach(self) -> None:
        """Stop following the session; the rows stay as they are."""
        self._subscription.end()

    # Qt's model interface.

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        return column_header(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        return item_data(self._order[index.row()], Column(index.column()), role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``; -1 restores the order the files were found in."""
        self._sort = (Column(column), order) if column >= 0 else None
        self._relayout(refilter=False)

    # The app's interface.

    def item_at(self, row: int) -> ReviewItem:
        return self._order[row]

    def row_of(self, path: Path) -> int:
        """The row that shows ``path``; -1 where the filter hides it or the session lacks it."""
        item = self.session.item(path)
        return -1 if item is None else self._rows().get(id(item), -1)

    def set_filter(self, kind: Filter, search: str | None = None) -> None:
        self._filter = kind
        if search is not None:
            self._search = search.casefold().strip()
        self._relayout()

    def show_only(self, paths: frozenset[Path] | None) -> None:
        """Show only these files (a genre's, chosen in the Genres panel), or with None every file."""
        self._only = paths
        self._relayout()

    # Following the session.

    def _session_changed(self, change: Change) -> None:
        if change.reset:
            self._haystacks.clear()
            self._relayout()
        else:
            if change.added:
                self._index(change.added)
                self._append(change.added)
            if change.paths:
                self._index(filter(None, map(self.session.item, change.paths)))
                self._repaint(change.paths)
        self.session_changed.emit()

    def _append(self, items: Iterable[ReviewItem]) -> None:
        """New rows go at the end of the view; a sort or filter change places them."""
        visible = self._passing(list(items))
        if not visible:
            return
        first = len(self._order)
        self.beginInsertRows(QModelIndex(), first, first + len(visible) - 1)
        self._filtered.extend(visible)
        self._order.extend(visible)
        if self._row_of is not None:
            self._row_of.update(zip(map(id, visible), range(first, first + len(visible))))
        self.endInsertRows()

    def _repaint(self, paths: Iterable[Path]) -> None:
        """Repaint the rows of ``paths``; rows stay where they are until the next sort or filter."""
        rows = sorted({r for r in map(self.row_of, paths) if r >= 0})
        if not rows:
            return
        runs = blocks(rows)
        if len(runs) > MAX_REPAINT_RANGES:
            runs = [(rows[0], rows[-1])]
        last = len(Column) - 1
        for first_row, last_row in runs:
            self.dataChanged.emit(self.index(first_row, 0), self.index(last_row, last))

    def _check(self) -> Callable[[ReviewItem], bool] | None:
        """The filter's test of one row, built once per layout; None where every row passes."""
        kind = self._filter
        if kind is Filter.NO_GENRES:
            return lambda i: not i.current_genres
        if kind is Filter.DIFFERS:
            return lambda i: bool(i.proposed) and genre_set(tuple(i.proposed)) != genre_set(tuple(i.current_genres))
        if kind is Filter.LOW_CONFIDENCE:
            least = self.session.settings.min_confidence  # what the Confidence column shows, below it
            return lambda i: (c := i.written_confidence) is not None and c < least
        if kind is Filter.ERRORS:
            return lambda i: i.state is ReviewState.ERROR
        return None

    def _passing(self, items: list[ReviewItem]) -> list[ReviewItem]:
        """Those of ``items`` that the filter and the search let through, in their order."""
        if self._only is not None:
            items = [i for i in items if i.path in self._only]
        if self._search:
            haystacks, needle = self._haystacks, self._search
            self._index(i for i in items if id(i) not in haystacks)
            items = [i for i in items if needle in haystacks[id(i)]]
        check = self._check()
        return list(items) if check is None else [i for i in items if check(i)]

    def _index(self, items: Iterable[ReviewItem]) -> None:
        """Keep the search text of ``items``: as rows arrive and change, so that a search
        over 100,000 rows reads text instead of building it."""
        self._haystacks.update((id(i), search_text(i)) for i in items)

    def _rows(self) -> dict[int, int]:
        # Keyed by id(), which the items keep while the session holds them: a dict of
        # 100,000 ints builds in C, without a Python call per row as Path keys need.
        if self._row_of is None:
            self._row_of = dict(zip(map(id, self._order), range(len(self._order))))
        return self._row_of

    def _relayout(self, refilter: bool = True) -> None:
        """Filter (unless only the sort changed), sort, and move the rows in one layout change."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(p, self._order[p.row()]) for p in persistent]
        if refilter:
            self._filtered = self._passing(self.session.items)
        order = list(self._filtered)
        if self._sort is not None:
            column, direction = self._sort
            order.sort(key=sort_key(column), reverse=direction == Qt.SortOrder.DescendingOrder)
        self._order = order
        self._row_of = None
        # Keep the selection and current row on the same files where they are still shown.
        rows = self._rows_of({id(item) for _, item in held})
        self.changePersistentIndexList(
            [p for p, _ in held],
            [self.index(row, p.column()) if (row := rows.get(id(item), -1)) >= 0 else QModelIndex()
             for p, item in held],
        )
        self.layoutChanged.emit()

    def _rows_of(self, wanted: set[int]) -> dict[int, int]:
        """The rows of the items whose ids are ``wanted``. A few (a current row, a small
        selection) are looked up in C in a list of ids, so a sort with a row selected does
        not wait for the map of every row; ``_rows`` builds it when a change needs it."""
        if len(wanted) > FEW_LOOKUPS:
            return self._rows()
        ids, rows = list(map(id, self._order)), {}
        for wanted_id in wanted:
            with suppress(ValueError):  # a row the filter hides now
                rows[wanted_id] = ids.index(wanted_id)
        return rows

"""Group by Album: the library as a tree of albums that expand into their tracks.

Files are grouped by ``tagger.library.albums.AlbumGrouper`` (album artist and album, or a
folder that looks like one album; a file on no album is an album of its own) on a
worker thread, since telling whether an untagged folder is an album reads the
folder. Each album's genres are ``tagger.library.albums.consensus`` of its tracks' analyses
and tags, worked out when the album is shown and again when one of its tracks
changes. Accepting an album row gives each of its tracks the album's genres that
pass the least confidence, at most the most genres to write.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tagger.genres.suggestion import GenreSuggestion
from tagger.genres.vocabulary import vocabulary
from tagger.library.albums import AlbumConsensus, AlbumGrouper, Track, consensus
from tagger.review.items import (
    CANDIDATES_SHOWN,
    ReviewItem,
    ReviewState,
    accepted_genres,
)
from tagger.review.session import ReviewSession
from tagger.tags import TagSnapshot
from tagger.text import plural
from ui.charts import ChipDelegate, ChipStrip, SourceLegend
from ui.chips import source_tooltip, spoken_chips, suggestion_chip
from ui.detail import vertical_scroll
from ui.library import STATE_ORDER, Column, column_header, item_data, state_count, tinted
from ui.roles import ChipsRole, ItemRole
from ui.workers import BackgroundJob

AlbumRole = ItemRole + 10  # the AlbumGroup of an album row
TOP = 0  # the internal id of an album row; a track row's is its album's row + 1
COLUMN_WIDTHS = {Column.STATUS: 150, Column.ARTIST: 110, Column.TITLE: 210, Column.CURRENT: 130,
                 Column.SUGGESTED: 230, Column.CONFIDENCE: 85, Column.ALBUM: 140}


@dataclass(eq=False)
class AlbumGroup:
    """One album's rows, and its consensus, worked out when first asked for."""

    key: str
    name: str
    items: list[ReviewItem]
    _consensus: AlbumConsensus | None = field(default=None, repr=False)

    def consensus(self) -> AlbumConsensus:
        if self._consensus is None:
            tracks = [Track(i.path, i.analysis.genres if i.analysis is not None else [], tuple(i.current_genres))
                      for i in self.items]
            self._consensus = consensus(self.key, self.name, tracks)
        return self._consensus

    def invalidate(self) -> None:
        self._consensus = None

    def proposal(self, min_confidence: float, max_genres: int) -> list[GenreSuggestion]:
        """The album's genres that accepting it would write to its tracks."""
        return accepted_genres(self.consensus().genres, min_confidence, max_genres)

    @property
    def artist(self) -> str:
        first = self.items[0]
        return first.album_artist or first.artist

    @property
    def title(self) -> str:
        if self.key.startswith("tags\x1f"):
            return self.items[0].album
        if self.key.startswith("folder\x1f"):
            return self.name
        return self.items[0].title or self.items[0].path.name


def album_groups(snapshot: Sequence[tuple[Path, str, str, str]], grouper: AlbumGrouper,
                 cancelled=lambda: False) -> list[tuple[str, str, list[Path]]]:
    """(key, name, paths) of each album of the files ``(path, artist, album artist,
    album)``, albums in the order their first file comes."""
    groups: dict[str, tuple[str, list[Path]]] = {}
    for path, artist, album_artist, album in snapshot:
        if cancelled():
            break
        tags = TagSnapshot("", [], artist=artist or None, album_artist=album_artist or None, album=album or None)
        found = grouper.album_of(path, tags)
        key, name = found if found else (f"file\x1f{path}", path.name)
        groups.setdefault(key, (name, []))[1].append(path)
    return [(key, name, paths) for key, (name, paths) in groups.items()]


def accept_albums(groups: Sequence[AlbumGroup], min_confidence: float, max_genres: int
                  ) -> tuple[list[ReviewItem], list[AlbumGroup]]:
    """Give each album's tracks its genres that pass ``min_confidence`` (at most
    ``max_genres``) and accept them: (tracks accepted, albums with no genre to accept)."""
    accepted, refused = [], []
    for group in groups:
        genres = group.proposal(min_confidence, max_genres)
        taken = [i for i in group.items if i.accept_album(genres)]
        accepted += taken
        if not taken:
            refused.append(group)
    return accepted, refused


class GroupJob(BackgroundJob):
    """Groups the rows into albums on a worker thread, so a large library never stalls the window."""

    grouped = Signal(object)  # list[tuple[key, name, list[Path]]]

    def run(self, snapshot: list[tuple[Path, str, str, str]], grouper: AlbumGrouper) -> None:
        def work() -> None:
            groups = album_groups(snapshot, grouper, lambda: self.control.cancelled)
            if not self.control.cancelled:
                self.grouped.emit(groups)

        self.start("grouping by album", work)


def status_text(group: AlbumGroup) -> str:
    """The album's tracks' states, counted."""
    counts = Counter(i.state for i in group.items)
    if len(counts) == 1:
        return next(iter(counts)).value
    return ", ".join(state_count(s, n) for s, n in sorted(counts.items(), key=lambda sn: STATE_ORDER[sn[0]]))


def current_text(group: AlbumGroup) -> str:
    """The genres the album's tracks carry, with how many carry each where not all do."""
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    key = vocabulary().key
    for item in group.items:
        for g in {key(g): g for g in item.current_genres}.items():
            counts[g[0]] += 1
            spelling.setdefault(g[0], g[1])
    total = len(group.items)
    return ", ".join(spelling[k] + ("" if n == total else f" ({n}/{total})") for k, n in counts.most_common())


class AlbumModel(QAbstractItemModel):
    """Albums at the top level, their tracks beneath; the columns of the library table."""

    def __init__(self, min_confidence: float = 0.5, max_genres: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.groups: list[AlbumGroup] = []
        self._where: dict[Path, tuple[int, int]] = {}  # path -> (album row, track row)
        self.min_confidence = min_confidence
        self.max_genres = max_genres
        self.row_height = 30  # rows as tall as the table's, with room for chips

    def set_groups(self, groups: list[AlbumGroup]) -> None:
        self.beginResetModel()
        self.groups = groups
        self._where = {item.path: (a, t) for a, g in enumerate(groups) for t, item in enumerate(g.items)}
        self.endResetModel()

    def set_thresholds(self, min_confidence: float, max_genres: int) -> None:
        self.min_confidence, self.max_genres = min_confidence, max_genres
        if self.groups:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.groups) - 1, len(Column) - 1))

    # Qt's model interface.

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, TOP)
        if parent.internalId() == TOP:
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: QModelIndex | QPersistentModelIndex | None = None):  # type: ignore[override]
        if index is None:  # QObject.parent()
            return super().parent()
        if not index.isValid() or index.internalId() == TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, TOP)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self.groups)
        if parent.internalId() == TOP and parent.column() == 0:
            return len(self.groups[parent.row()].items)
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        return column_header(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.SizeHintRole:  # uniform rows take their height from this
            return QSize(40, self.row_height)
        column = Column(index.column())
        if index.internalId() != TOP:
            item = self.groups[index.internalId() - 1].items[index.row()]
            return None if role == AlbumRole else item_data(item, column, role)
        return self._album_data(self.groups[index.row()], column, role)

    def _album_data(self, group: AlbumGroup, column: Column, role: int):
        if role == AlbumRole:
            return group
        if role == ChipsRole:  # the album's best candidates, as a track's: those accepting it writes are solid
            chosen = {g.genre for g in group.proposal(self.min_confidence, self.max_genres)}
            return [suggestion_chip(g, g.genre in chosen)
                    for g in group.consensus().genres[:max(CANDIDATES_SHOWN, len(chosen))]]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._album_text(group, column)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole and column is Column.SUGGESTED:
            return spoken_chips(self._album_data(group, column, ChipsRole))
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if column is Column.SUGGESTED:
                chips = [c for c in self._album_data(group, column, ChipsRole) if c.chosen]
                if not chips:
                    return "No genre of this album reaches the least confidence to propose"
                return (source_tooltip(chips) + f"\nAccept the album to give these genres to its "
                        f"{plural(len(group.items), 'track')}")
            if column is Column.STATUS:
                return status_text(group)
            return group.name
        if role == Qt.ItemDataRole.BackgroundRole:
            states = {i.state for i in group.items}
            return tinted(states.pop()) if len(states) == 1 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.CONFIDENCE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _album_text(self, group: AlbumGroup, column: Column) -> str:
        if column is Column.STATUS:
            if {i.state for i in group.items} <= {ReviewState.SUGGESTED, ReviewState.UNSURE}:
                # No track decided yet: the album is as sure as the genres it agrees on.
                return "suggested" if group.proposal(self.min_confidence, self.max_genres) else "unsure"
            return status_text(group)
        if column is Column.ARTIST:
            return group.artist
        if column is Column.TITLE:
            n = len(group.items)
            return f"{group.title} ({n} track{'s' if n != 1 else ''})"
        if column is Column.ALBUM:
            return group.title
        if column is Column.CURRENT:
            return current_text(group)
        if column is Column.SUGGESTED:
            return ", ".join(g.genre for g in group.proposal(self.min_confidence, self.max_genres))
        if column is Column.CONFIDENCE:
            genres = group.consensus().genres
            return f"{genres[0].confidence:.0%}" if genres else ""
        if column is Column.PATH:
            try:
                return os.path.commonpath([str(i.path.parent) for i in group.items])
            except ValueError:
                return ""
        return ""

    # The app's interface.

    def group_at(self, index: QModelIndex | QPersistentModelIndex) -> AlbumGroup | None:
        return self.groups[index.row()] if index.isValid() and index.internalId() == TOP else None

    def item_at(self, index: QModelIndex | QPersistentModelIndex) -> ReviewItem | None:
        if not index.isValid() or index.internalId() == TOP:
            return None
        return self.groups[index.internalId() - 1].items[index.row()]

    def album_index(self, key: str) -> QModelIndex:
        row = next((r for r, g in enumerate(self.groups) if g.key == key), -1)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    def track_index(self, path: Path) -> QModelIndex:
        where = self._where.get(path)
        return QModelIndex() if where is None else self.index(where[1], 0, self.index(where[0], 0))

    def changed(self, paths: Sequence[Path]) -> None:
        """Repaint the tracks of ``paths`` and their albums, whose consensus may have moved."""
        touched: dict[int, list[int]] = {}
        for path in paths:
            where = self._where.get(path)
            if where is not None:
                touched.setdefault(where[0], []).append(where[1])
        last = len(Column) - 1
        for album, tracks in touched.items():
            self.groups[album].invalidate()
            parent = self.index(album, 0)
            self.dataChanged.emit(self.index(album, 0), self.index(album, last))
            self.dataChanged.emit(self.index(min(tracks), 0, parent), self.index(max(tracks), last, parent))


class AlbumView(QTreeView):
    """The tree of albums. ``current_changed`` carries the ReviewItem or the AlbumGroup
    under the cursor, or None."""

    current_changed = Signal(object)
    regrouped = Signal()

    def __init__(self, min_confidence: float = 0.5, max_genres: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.albums = AlbumModel(min_confidence, max_genres, self)
        self.albums.row_height = self.fontMetrics().height() + 12
        self.setModel(self.albums)
        self.chips = ChipDelegate(self)  # its chip_toggled: a click on a track's genre
        self.setItemDelegateForColumn(Column.SUGGESTED, self.chips)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setAllColumnsShowFocus(True)
        self.setWordWrap(False)
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.selectionModel().currentRowChanged.connect(lambda *_: self.current_changed.emit(self.current()))
        self._grouper = AlbumGrouper()  # remembers which folders look like albums, between groupings
        self.job: GroupJob | None = None
        self.ready = True  # False while a grouping is on its way

    def regroup(self, items: Sequence[ReviewItem]) -> None:
        """Group ``items`` (in the order shown) into albums, in the background."""
        snapshot = [(i.path, i.artist, i.album_artist, i.album) for i in items]
        by_path = {i.path: i for i in items}
        if self.job is not None and self.job.running:
            self.job.cancel()
        job = GroupJob(self)
        job.grouped.connect(lambda groups: self._grouped(job, groups, by_path))
        self.job = job
        self.ready = False
        job.run(snapshot, self._grouper)

    def _grouped(self, job: GroupJob, groups: list[tuple[str, str, list[Path]]],
                 by_path: dict[Path, ReviewItem]) -> None:
        if job is not self.job:  # a newer grouping is on its way
            return
        model = self.albums
        expanded = {g.key for row, g in enumerate(model.groups) if self.isExpanded(model.index(row, 0))}
        current = self.current()
        model.set_groups([AlbumGroup(key, name, [by_path[p] for p in paths]) for key, name, paths in groups])
        for key in expanded:
            index = model.album_index(key)
            if index.isValid():
                self.setExpanded(index, True)
        if isinstance(current, AlbumGroup):
            self.setCurrentIndex(model.album_index(current.key))
        elif isinstance(current, ReviewItem):
            self.setCurrentIndex(model.track_index(current.path))
        self.ready = True
        self.regrouped.emit()

    def changed(self, paths: Sequence[Path]) -> None:
        self.albums.changed(paths)

    def follow(self, session: ReviewSession) -> None:
        """Repaint the tracks (and their albums) whenever the session's rows change."""
        session.subscribe(lambda change: self.changed(change.paths) if change.paths else None)

    def current(self) -> ReviewItem | AlbumGroup | None:
        index = self.currentIndex()
        return self.albums.group_at(index) or self.albums.item_at(index)

    def selected(self) -> tuple[list[AlbumGroup], list[ReviewItem]]:
        """The album rows selected, and the track rows selected outside them."""
        groups, items = [], []
        for index in self.selectionModel().selectedRows():
            group = self.albums.group_at(index)
            if group is not None:
                groups.append(group)
            else:
                items.append(self.albums.item_at(index))
        inside = {i.path for g in groups for i in g.items}
        return groups, [i for i in items if i.path not in inside]

    def selected_items(self) -> list[ReviewItem]:
        groups, items = self.selected()
        return [i for g in groups for i in g.items] + items


class AlbumDetail(QWidget):
    """Why an album got its genres: its tracks, each one's vote, and how far each
    track moved toward the rest of the album."""

    EXPLANATION = ("Each analysed track votes with its suggestions' confidences; a tagged track's genres "
                   "count three times as much, split over its genres. Each track then moves toward what the "
                   "rest of the album says, unless its own audio is sure of a genre the other tracks' audio "
                   "barely has; where the other tracks are tagged, their tags decide.")

    VOTES_SHOWN = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.proposal_label = QLabel("<b>Accepting the album writes</b>")
        self.chips = ChipStrip()
        self.legend = SourceLegend()
        self.explanation = QLabel(self.EXPLANATION)
        self.explanation.setWordWrap(True)
        self.tracks = QTreeWidget()
        self.tracks.setHeaderLabels(["Track, and its vote", "Weight", "Pull"])
        self.tracks.headerItem().setToolTip(0, "Each track, and beneath it the genres it gives the album; "
                                               "(tag): the track is tagged with it")
        self.tracks.headerItem().setToolTip(1, "How much the track gives each genre: its analysis's confidence, "
                                               "and 3 for its tags, split over them")
        self.tracks.headerItem().setToolTip(2, "How far the track's own suggestion moved toward the rest of the album")
        self.tracks.setAlternatingRowColors(True)
        self.tracks.setWordWrap(False)
        self.tracks.setUniformRowHeights(True)
        header = self.tracks.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.heading)
        layout.addWidget(self.proposal_label)
        layout.addWidget(self.chips)
        layout.addWidget(self.legend)
        layout.addWidget(QLabel("<b>How the tracks voted</b>"))
        layout.addWidget(self.tracks, 1)
        layout.addWidget(self.explanation)
        self.scroll = vertical_scroll(self.content, self)

    def show_album(self, group: AlbumGroup, min_confidence: float, max_genres: int) -> None:
        album = group.consensus()
        analysed = sum(1 for t in album.tracks if t.genres)
        tagged = sum(1 for i in group.items if i.current_genres)
        self.heading.setText(f"<b>{group.name}</b><br><small>{plural(len(group.items), 'track')}: "
                             f"{analysed} analysed, {tagged} tagged</small>")
        self.chips.set_chips([suggestion_chip(g) for g in group.proposal(min_confidence, max_genres)])
        self.legend.set_sources([c.source for c in self.chips.chips()])
        self.tracks.clear()
        key = vocabulary().key
        for item, advice in zip(group.items, album.tracks):
            vote = {g: w for g, w in album.votes.get(os.fsdecode(item.path), {}).items() if w > 0}
            tag_keys = {key(g) for g in item.current_genres}
            if advice.disagrees:
                pull = "keeps its own"
            elif item.analysis is None:
                pull = "–"
            else:
                pull = f"{advice.pull:.0%}"
            row = QTreeWidgetItem([item.title or item.path.name, "", pull])
            row.setToolTip(0, f"{item.path}\nTagged: {', '.join(item.current_genres) or 'nothing'}")
            own = ", ".join(f"{g.genre} {g.confidence:.0%}"
                            for g in (item.analysis.genres[:3] if item.analysis else []))
            moved = ", ".join(f"{g.genre} {g.confidence:.0%}" for g in advice.genres[:3])
            row.setToolTip(2, ("Its own audio is sure of a genre the other tracks' audio barely has, so it keeps its "
                               f"own suggestion: {own}") if advice.disagrees else
                           (f"Own: {own or 'not analysed'}\nAfter hearing the album: {moved or '–'}"))
            for genre, weight in list(vote.items())[:self.VOTES_SHOWN]:
                row.addChild(QTreeWidgetItem([genre + (" (tag)" if key(genre) in tag_keys else ""),
                                              f"{weight:.2g}", ""]))
            if not vote:
                row.addChild(QTreeWidgetItem(["no analysis and no genre tag", "", ""]))
            elif len(vote) > self.VOTES_SHOWN:
                others = list(vote.items())[self.VOTES_SHOWN:]
                rest = QTreeWidgetItem([f"and {len(others)} more", f"{sum(w for _, w in others):.2g}", ""])
                rest.setToolTip(0, "\n".join(f"{g}: {w:.3g}" for g, w in others))
                row.addChild(rest)
            self.tracks.addTopLevelItem(row)
            row.setExpanded(True)

"""The Genres panel: the genres the library holds, with their variants and problems, and cleanup.

It reads the rows' stored genre values (no file is opened) into the core's
GenreOverview, and turns Merge, Rename, Split, Normalise All and Drop Junk into
edits of the review: rows are marked, nothing is written until Apply, and Undo
works as it does for suggestions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tagger.genres.vocabulary import joined_parts
from tagger.library.cleanup import (
    CleanupRules,
    FileGenres,
    Flag,
    GenreGroup,
    GenreOverview,
    Planner,
    Storage,
)
from tagger.review.items import ReviewItem, ReviewState
from tagger.review.session import Change, ReviewSession

GroupRole = Qt.ItemDataRole.UserRole
COLUMNS = ("Genre", "Files", "Problems", "Family")
REFRESH_MS = 400  # a burst of changes (a scan, an apply) recounts once
STORAGE_NAMES = {Storage.NONE: "no genre", Storage.SINGLE: "one value", Storage.SEPARATE: "one value per genre",
                 Storage.JOINED: "genres joined in one value"}


class CountItem(QTreeWidgetItem):
    """Sorts the Files column as numbers."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        if column == 1:
            return int(self.text(1) or 0) < int(other.text(1) or 0)
        return self.text(column).casefold() < other.text(column).casefold()


def problems_text(group: GenreGroup) -> str:
    found = sorted(f.value for f in group.flags)
    if group.has_variants:
        found.append("variants")
    return ", ".join(found)


def variant_label(value: str) -> str:
    """A stored value as the person can tell it apart: stray spaces and empty values show."""
    return repr(value) if value != " ".join(value.split()) or not value else value


class PlanDialog(QDialog):
    """What a cleanup would change, file by file, before any row is marked."""

    def __init__(self, title: str, changes: Sequence[tuple[ReviewItem, list[str]]], parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        count = len(changes)
        layout.addWidget(QLabel(f"{count} file{'s' if count != 1 else ''} would change. The rows are marked for "
                                "review; nothing is written until Apply."))
        tree = QTreeWidget()
        tree.setHeaderLabels(["File", "Now", "After"])
        tree.setRootIsDecorated(False)
        for item, genres in changes:
            tree.addTopLevelItem(QTreeWidgetItem([item.path.name, ", ".join(map(variant_label, item.stored_genres))
                                                  or "(no genre)", ", ".join(genres) or "(no genre)"]))
        tree.resizeColumnToContents(0)
        layout.addWidget(tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        mark = buttons.addButton("Mark for Review", QDialogButtonBox.ButtonRole.AcceptRole)
        mark.setDefault(True)
        mark.setFocus()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420)


class GenresPanel(QWidget):
    """Lists the library's genres; asks for cleanup edits through ``edits_made``."""

    files_chosen = Signal(object)  # frozenset[Path] of the selected genres' files, or None for all
    # [(item, genres)], what was done (for the status bar), and the renames [(old, new)] they make
    edits_made = Signal(object, str, object)

    def __init__(self, session: ReviewSession, confirm: Callable[[str, Sequence[tuple[ReviewItem, list[str]]]], bool]
                 | None = None, ask_name: Callable[[str, str], str | None] | None = None) -> None:
        super().__init__()
        self.session = session
        self.overview = GenreOverview()
        self._files: dict[Path, FileGenres] = {}
        self.confirm = confirm or self._confirm_with_dialog
        self.ask_name = ask_name or self._ask_with_dialog
        self.filter = QLineEdit(placeholderText="Filter genres")
        self.filter.setClearButtonEnabled(True)
        self.problems_only = QCheckBox("Problems only")
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(1, Qt.SortOrder.DescendingOrder)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        # The genre's name first; the problems take what is left, and the panel scrolls sideways.
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Problems"), QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        # How each file stores its genres, as files to show: many players read one value only.
        self.stored_as = QComboBox()
        self.stored_as.setToolTip("Show the files that store their genres this way")
        self.buttons = {name: QPushButton(name) for name in ("Merge…", "Rename…", "Split", "Normalise All…",
                                                              "Drop Junk")}
        tips = {"Merge…": "Make the selected genres one, under a name you choose",
                "Rename…": "Give the selected genre another name in every file",
                "Split": "Make a joined value such as Rock/Pop several genres",
                "Normalise All…": "One spelling per genre, numeric codes named, known joined values split",
                "Drop Junk": "Remove values that name no genre (Other, Unknown, URLs)"}
        for name, button in self.buttons.items():
            button.setToolTip(tips[name])
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.problems_only)
        rows = [QHBoxLayout(), QHBoxLayout()]
        for index, button in enumerate(self.buttons.values()):
            rows[index // 3].addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary)
        storage_row = QHBoxLayout()
        storage_row.addWidget(QLabel("Files stored as:"))
        storage_row.addWidget(self.stored_as, 1)
        layout.addLayout(storage_row)
        for row in rows:
            layout.addLayout(row)

        self._refresh_soon = QTimer(self, singleShot=True, interval=REFRESH_MS, timeout=self._recount)
        self._stale = False
        self.filter.textChanged.connect(self._show_groups)
        self.problems_only.toggled.connect(self._show_groups)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.stored_as.activated.connect(self._storage_chosen)
        self.buttons["Merge…"].clicked.connect(self.merge_selected)
        self.buttons["Rename…"].clicked.connect(self.rename_selected)
        self.buttons["Split"].clicked.connect(self.split_selected)
        self.buttons["Normalise All…"].clicked.connect(self.normalise_all)
        self.buttons["Drop Junk"].clicked.connect(self.drop_junk)
        self.unsubscribe = session.subscribe(self._session_changed)
        self.refresh()

    # Following the rows.

    def _session_changed(self, change: Change) -> None:
        self._refresh_soon.start()

    def _recount(self) -> None:
        # Recounting a large library costs: a hidden panel recounts when it is shown.
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Count the rows' genres again, keeping the selection where its genres remain."""
        self._stale = False
        chosen = {g.name for g in self.selected_groups()}
        self.overview = GenreOverview(separator=self.session.settings.separator)
        self._files = {}
        for item in self.session.items:  # a row whose write failed still holds its genres
            file = FileGenres(item.path, tuple(item.stored_genres))
            self._files[item.path] = file
            self.overview.add(file)
        self._groups = self.overview.groups()
        self._show_storage()
        self._show_groups(chosen)

    def _show_storage(self) -> None:
        chosen = self.stored_as.currentData()
        counts = self.overview.storage()
        self.stored_as.clear()
        self.stored_as.addItem("any way", None)
        for style in Storage:
            if counts[style]:
                self.stored_as.addItem(f"{STORAGE_NAMES[style]} ({counts[style]})", style.value)
        self.stored_as.setCurrentIndex(max(0, self.stored_as.findData(chosen)))

    def _storage_chosen(self) -> None:
        style = self.stored_as.currentData()
        if style is None:
            self.files_chosen.emit(None)
            return
        self.tree.clearSelection()
        self.files_chosen.emit(frozenset(path for path, file in self._files.items()
                                         if self.overview.storage_of(file.stored) is Storage(style)))

    def _show_groups(self, chosen: set[str] | None = None) -> None:
        chosen = chosen if isinstance(chosen, set) else {g.name for g in self.selected_groups()}
        needle = self.filter.text().casefold().strip()
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        shown = 0
        for group in self._groups:
            if self.problems_only.isChecked() and not group.has_problem:
                continue
            if needle and needle not in group.name.casefold() and not any(needle in v.casefold()
                                                                          for v in group.variants):
                continue
            row = CountItem([group.name or "(empty)", str(group.files), problems_text(group),
                             group.family or "unknown"])
            row.setData(0, GroupRole, group)
            known = f"canonical: {group.canonical}" if group.canonical else "not in the genre vocabulary"
            row.setToolTip(0, f"{group.name}: {known}; stored as " + ", ".join(
                f"{variant_label(v)} ({n})" for v, n in group.variants.items()))
            for value, files in group.variants.items():
                child = QTreeWidgetItem([variant_label(value), str(files)])
                child.setFlags(child.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                row.addChild(child)
            self.tree.addTopLevelItem(row)
            row.setSelected(group.name in chosen)
            shown += 1
        self.tree.setSortingEnabled(True)
        problems = sum(g.has_problem for g in self._groups)
        self.summary.setText(f"{len(self._groups)} genres in {self.overview.files} files, {problems} with variants "
                             f"or problems" + (f"; {shown} shown" if shown != len(self._groups) else ""))
        self._update_buttons()

    def selected_groups(self) -> list[GenreGroup]:
        return [row.data(0, GroupRole) for row in self.tree.selectedItems() if row.data(0, GroupRole)]

    def _selection_changed(self) -> None:
        groups = self.selected_groups()
        self._update_buttons()
        if groups:
            self.stored_as.setCurrentIndex(0)
        if groups or self.stored_as.currentData() is None:
            self.files_chosen.emit(frozenset(self._files_of(groups)) if groups else None)

    def _update_buttons(self) -> None:
        groups = self.selected_groups()
        self.buttons["Merge…"].setEnabled(len(groups) >= 2)
        self.buttons["Rename…"].setEnabled(len(groups) == 1)
        self.buttons["Split"].setEnabled(len(groups) == 1 and any(self._parts(v) for v in groups[0].variants))
        self.buttons["Normalise All…"].setEnabled(bool(self._groups))
        self.buttons["Drop Junk"].setEnabled(any(Flag.JUNK in g.flags for g in self._groups))

    def _files_of(self, groups: Sequence[GenreGroup]) -> list[Path]:
        """The files holding one of the groups' stored values: their variants are all of them."""
        values = {v for g in groups for v in g.variants}
        return [path for path, file in self._files.items() if not values.isdisjoint(file.stored)]

    def _parts(self, value: str) -> list[str]:
        parts = joined_parts(value)
        return parts if len(parts) > 1 else []

    # Actions: each marks rows for review.

    def merge_selected(self) -> None:
        groups = self.selected_groups()
        if len(groups) < 2:
            return
        names = [g.name for g in groups]
        new = self.ask_name("Merge Genres", f"Merge {', '.join(names)} into:", names[0])
        if new:
            self._merge([n for n in names if n != new], new, f"merge into {new}")

    def rename_selected(self) -> None:
        groups = self.selected_groups()
        if len(groups) != 1:
            return
        new = self.ask_name("Rename Genre", f"Rename {groups[0].name} to:", groups[0].name)
        if new and new != groups[0].name:
            self._merge([groups[0].name], new, f"rename {groups[0].name} to {new}")

    def _merge(self, olds: list[str], new: str, what: str) -> None:
        planner = self.overview.planner(CleanupRules())
        changes = [(item, genres) for item in self._items()
                   if (genres := planner.merged(self._files[item.path], olds, new)) is not None
                   and genres != item.current_genres]
        if changes and self.confirm(what[0].upper() + what[1:], changes):
            # Once written, the person's choice sticks for suggestions, learning and later cleanups.
            self.edits_made.emit(changes, what, [(old, new) for old in olds])

    def split_selected(self) -> None:
        groups = self.selected_groups()
        if len(groups) != 1:
            return
        planner = self.overview.planner(CleanupRules())
        joined = [value for value in groups[0].variants if self._parts(value)]
        changes = [(item, genres) for item in self._items()
                   if (genres := planner.split(self._files[item.path], joined)) is not None
                   and genres != item.current_genres]
        self._offer(f"Split {groups[0].name}", changes)

    def normalise_all(self) -> None:
        self._cleanup(CleanupRules(), "Normalise all genres")

    def drop_junk(self) -> None:
        self._cleanup(CleanupRules(drop_junk=True), "Drop junk genres")

    def _cleanup(self, rules: CleanupRules, what: str) -> None:
        planner: Planner = self.overview.planner(rules)
        changes = []
        for item in self._items():
            file = self._as_marked(item)
            if planner.plan(file).changed:
                changes.append((item, planner.genres(file)))
        self._offer(what, changes)

    def _as_marked(self, item: ReviewItem) -> FileGenres:
        """The file as a cleanup finds it: where another cleanup is marked and not written yet,
        with that one's genres, so that Drop Junk after Normalise All lists only what it adds."""
        if item.replaces and item.state is ReviewState.ACCEPTED:
            return FileGenres(item.path, tuple(item.proposed))
        return self._files[item.path]

    def _offer(self, what: str, changes: list[tuple[ReviewItem, list[str]]]) -> None:
        if not changes:
            self.summary.setText(f"{what}: no file would change.")
        elif self.confirm(what, changes):
            self.edits_made.emit(changes, what[0].lower() + what[1:], [])

    def _items(self) -> list[ReviewItem]:
        return [item for item in self.session.items if item.path in self._files]

    # Asking the person.

    def _confirm_with_dialog(self, what: str, changes: Sequence[tuple[ReviewItem, list[str]]]) -> bool:
        return PlanDialog(what, changes, self).exec() == QDialog.DialogCode.Accepted

    def _ask_with_dialog(self, title: str, label: str, start: str) -> str | None:
        completer_names = sorted({g.name for g in self._groups} | set(self.overview.vocabulary.names()),
                                 key=str.casefold)
        name, ok = QInputDialog.getItem(self, title, label, completer_names, max(0, completer_names.index(start))
                                        if start in completer_names else 0, True)
        name = " ".join(name.split())
        return name if ok and name else None

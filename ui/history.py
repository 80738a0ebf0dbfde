"""The History dialog: every batch in the undo journal, and undo of a chosen one.

Undo in the main window reverts only what that window applied; this dialog reaches
the older batches too (issue 11). It reads the journal and never writes a file: a
confirmed undo is handed to the window as ``undo_requested``, which runs it on the
writer thread like every other write.

Whether a batch was already undone comes from the journal's entries, not from the
"undo N" command text: each entry of an undo batch points at the entry it reverts
(``Entry.undoes``), and the journal marks a reverted entry ``undone``. Either sign
is enough, so a batch undone file by file, or partly (files changed since are
skipped), is told apart from one that was fully undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tagger.tags.base import dedupe, read_genres
from tagger.text import plural
from tagger.writing.journal import (
    REVERTING_STATES,
    UNDOABLE_STATES,
    BatchState,
    BatchSummary,
    Entry,
    EntryState,
    Journal,
    when,
)
from ui.workers import APP_APPLY

# Entry states whose new genres reached the file (pending: possibly, if a crash cut in).
WROTE = (EntryState.WRITTEN, EntryState.PENDING, EntryState.UNDONE)
NAMED_FILES = 10  # file names in the confirmation before "and N more"


RECOVERED = "[recovered] "  # how the journal marks a batch salvaged from a damaged journal


def action_text(command: str) -> str:
    """What the person did, from the command a batch records: "Applied in the app",
    "Undid batch 3", "Ran genre-tagger set --genre Jazz a.flac"."""
    if command.startswith(RECOVERED):
        return f"{action_text(command.removeprefix(RECOVERED))} (recovered)"
    if command == APP_APPLY:
        return "Applied in the app"
    words = command.split()
    if len(words) == 2 and words[0] == "undo" and words[1].isdigit():
        return f"Undid batch {words[1]}"
    return f"Ran genre-tagger {command}"


def genres_text(genres: Sequence[str] | None) -> str:
    return ", ".join(genres) if genres else "none"


def written_genres(entries: Iterable[Entry]) -> list[str]:
    """The distinct genres a batch wrote, in the order it first wrote them."""
    return dedupe(g for e in entries if e.state in WROTE for g in e.new_genres or [])


def genres_summary(entries: Iterable[Entry], limit: int = 3) -> str:
    """The distinct genres a batch wrote, the first ``limit`` of them by name: "Rock, Jazz +3 more"."""
    entries = list(entries)
    if not any(e.state in WROTE and e.new_genres is not None for e in entries):
        return "–"
    genres = written_genres(entries)
    if not genres:
        return "no genres"  # an undo that took every genre away again
    more = len(genres) - limit
    return ", ".join(genres[:limit]) + (f" +{more} more" if more > 0 else "")


def reverting_batches(entries_by_batch: dict[int, list[Entry]]) -> dict[int, int]:
    """Entry id -> the batch whose undo put that entry's file back."""
    reverted: dict[int, int] = {}
    for batch in sorted(entries_by_batch):
        for entry in entries_by_batch[batch]:
            if entry.undoes is not None and entry.state in REVERTING_STATES:
                reverted[entry.undoes] = batch
    return reverted


@dataclass(frozen=True)
class BatchView:
    """One batch as the dialog shows it: the journal's summary, its entries, and what undid them."""

    summary: BatchSummary
    entries: list[Entry]
    reverted: dict[int, int | None]  # entry id -> the batch that undid it, None where the journal does not say

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def to_undo(self) -> list[Entry]:
        """The files an undo of this batch would put back, in the order they were written."""
        return [e for e in self.entries if e.state in UNDOABLE_STATES and e.id not in self.reverted]

    @property
    def undone_by(self) -> list[int]:
        return sorted({b for b in self.reverted.values() if b is not None})

    @property
    def undoable(self) -> bool:
        return self.summary.undoable and bool(self.to_undo)

    @property
    def status(self) -> str:
        if self.summary.state is not BatchState.DONE:
            return "unfinished"
        by = self.undone_by
        by_text = f" by batch {', '.join(map(str, by))}" if by else ""
        if self.reverted:
            return f"partly undone{by_text}" if self.to_undo else f"undone{by_text}"
        if not any(e.state in WROTE for e in self.entries):
            return "nothing written"
        return BatchState.DONE.value


def batch_views(journal: Journal) -> list[BatchView]:
    """Every batch of the journal, newest first."""
    summaries = journal.batches()
    entries = {s.id: journal.entries(s.id) for s in summaries}
    reverting = reverting_batches(entries)
    views = []
    for summary in summaries:
        reverted = {e.id: reverting.get(e.id) for e in entries[summary.id]
                    if e.state is EntryState.UNDONE or e.id in reverting}
        views.append(BatchView(summary, entries[summary.id], reverted))
    # Ids grow with time; the clock may not (it can be set back), so they order the list.
    return sorted(views, key=lambda v: v.id, reverse=True)


def counts_text(counts: dict[EntryState, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no files"


def entry_state(entry: Entry, view: BatchView) -> str:
    if entry.id in view.reverted:
        by = view.reverted[entry.id]
        return EntryState.UNDONE.value if by is None else f"{EntryState.UNDONE} by batch {by}"
    return entry.state.value


def change_text(entry: Entry) -> str:
    if entry.new_genres is None:
        # Not written (yet): the journal knows only what was asked for.
        return f"asked for {genres_text(entry.requested)}"
    # The journal keeps the old values as stored (codes, repeats, stray spaces): shown as they read.
    return f"{genres_text(read_genres(entry.old_genres or []))} → {genres_text(entry.new_genres)}"


def _cell(text: str, tip: str | None = None) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    if tip:
        cell.setToolTip(tip)
    return cell


def _table(headers: Sequence[str]) -> QTableWidget:
    widget = QTableWidget(0, len(headers))
    widget.setHorizontalHeaderLabels(list(headers))
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.verticalHeader().hide()
    widget.verticalHeader().setDefaultSectionSize(widget.fontMetrics().height() + 8)
    widget.setAlternatingRowColors(True)
    widget.setWordWrap(False)
    header = widget.horizontalHeader()
    for column in range(len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return widget


class HistoryDialog(QDialog):
    """The batches of the undo journal, newest first, the files of the selected one, and undo of it."""

    undo_requested = Signal(int)  # a batch id; the window runs the undo

    BATCH_COLUMNS = ("Batch", "Time", "What you did", "Mode", "Files", "Genres written", "State")
    FILE_COLUMNS = ("File", "Genres", "State", "Note")

    def __init__(self, journal: Journal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.journal = journal
        self.views: list[BatchView] = []
        # Replaced in tests; the real one asks with a QMessageBox that lists every file.
        self.confirm: Callable[[BatchView], bool] = self._ask
        self.setWindowTitle("History")

        intro = QLabel("Every batch of genre writes, newest first. Undo puts back the genres a batch replaced; "
                       "files whose genres changed since are skipped.")
        intro.setWordWrap(True)
        self.batches = _table(self.BATCH_COLUMNS)
        header = self.batches.horizontalHeader()
        header.setSectionResizeMode(self.BATCH_COLUMNS.index("What you did"), QHeaderView.ResizeMode.Stretch)
        self.batches.itemSelectionChanged.connect(self._selection_changed)
        self.empty = QLabel("The undo journal is empty: nothing has been written yet.")

        self.files_box = QGroupBox("Files")
        self.files = _table(self.FILE_COLUMNS)
        self.files.horizontalHeader().setSectionResizeMode(self.FILE_COLUMNS.index("Note"),
                                                           QHeaderView.ResizeMode.Stretch)
        QVBoxLayout(self.files_box).addWidget(self.files)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.batches)
        top_layout.addWidget(self.empty)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.files_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        self.undo_button = QPushButton("Undo This Batch…")
        self.undo_button.setToolTip("Put back the genres the selected batch replaced, after naming its files")
        self.undo_button.clicked.connect(self.ask_undo)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.setDefault(True)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addStretch()
        buttons.addWidget(refresh)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(900, 620)
        self.refresh()

    def refresh(self) -> None:
        """Read the journal again, keeping the selected batch selected where it still exists."""
        selected = self.selected_batch()
        self.views = batch_views(self.journal)
        self.batches.blockSignals(True)
        self.batches.clearSelection()
        self.batches.setRowCount(len(self.views))
        for row, view in enumerate(self.views):
            s = view.summary
            cells = [
                _cell(str(s.id)),
                _cell(when(s.created)),
                _cell(action_text(s.command), f"The command the journal recorded: {s.command}"),
                _cell(s.mode),
                _cell(plural(s.files, "file"), counts_text(s.counts)),
                _cell(genres_summary(view.entries), ", ".join(written_genres(view.entries)) or None),
                _cell(view.status,
                      f"'genre-tagger finish {s.id}' completes it" if s.state is not BatchState.DONE else None),
            ]
            for column, cell in enumerate(cells):
                self.batches.setItem(row, column, cell)
        self.batches.blockSignals(False)
        self.batches.setVisible(bool(self.views))
        self.empty.setVisible(not self.views)
        ids = [v.id for v in self.views]
        if ids:
            self.select_batch(selected.id if selected is not None and selected.id in ids else ids[0])
        else:
            self._selection_changed()

    def select_batch(self, batch: int) -> None:
        row = [v.id for v in self.views].index(batch)
        self.batches.selectRow(row)
        self._selection_changed()  # selectRow of the row already selected emits nothing

    def selected_batch(self) -> BatchView | None:
        rows = {index.row() for index in self.batches.selectionModel().selectedRows()}
        return self.views[min(rows)] if rows and min(rows) < len(self.views) else None

    def view(self, batch: int | BatchSummary | BatchView) -> BatchView:
        wanted = batch if isinstance(batch, int) else batch.id
        for view in self.views:
            if view.id == wanted:
                return view
        raise LookupError(f"the journal has no batch {wanted}")

    def _selection_changed(self) -> None:
        view = self.selected_batch()
        self.undo_button.setEnabled(view is not None and view.undoable)
        self.files.setRowCount(0)
        if view is None:
            self.files_box.setTitle("Files")
            return
        self.files_box.setTitle(f"Files of batch {view.id}: {plural(len(view.entries), 'file')}")
        self.files.setRowCount(len(view.entries))
        for row, entry in enumerate(view.entries):
            for column, cell in enumerate([_cell(entry.path.name, str(entry.path)), _cell(change_text(entry)),
                                           _cell(entry_state(entry, view)), _cell(entry.message or "", entry.message)]):
                self.files.setItem(row, column, cell)

    def confirm_text(self, batch: int | BatchSummary | BatchView) -> str:
        """The question asked before an undo: which batch, how many files, and their names."""
        view = self.view(batch)
        s = view.summary
        files = view.to_undo
        names = [e.path.name for e in files[:NAMED_FILES]]
        more = len(files) - len(names)
        listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
        text = (f"Undo batch {s.id} ({action_text(s.command)}, {when(s.created)})?\n\n"
                f"The genres of {plural(len(files), 'file')} go back to what they were before it: {listed}.\n\n"
                "Files whose genres changed since are skipped.")
        if s.state is not BatchState.DONE:
            text += " The batch did not finish: the files it had not written yet are left as they are."
        return text

    def confirmation_box(self, batch: int | BatchSummary | BatchView) -> QMessageBox:
        view = self.view(batch)
        box = QMessageBox(QMessageBox.Icon.Question, "Undo batch", self.confirm_text(view),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)  # Enter must not revert a batch by accident
        box.setDetailedText("\n".join(str(e.path) for e in view.to_undo))  # the full paths, every one of them
        return box

    def _ask(self, view: BatchView) -> bool:
        return self.confirmation_box(view).exec() == QMessageBox.StandardButton.Yes

    def ask_undo(self) -> None:
        view = self.selected_batch()
        if view is None or not view.undoable:
            return
        if self.confirm(view):
            self.undo_requested.emit(view.id)
            self.accept()

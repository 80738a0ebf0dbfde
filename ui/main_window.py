"""The main window: composes the library table, the album view, the detail panel, the
actions and the status bar over one review session, and the controls that run the long
work (scans, analyses, writes) on worker threads."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tagger.analysis.analyzer import Analyzer, open_analyzer
from tagger.audio.excerpt import Depth
from tagger.files.state import StateError
from tagger.genres.vocabulary import completion_names
from tagger.resources import resource_dir
from tagger.review.items import ReviewItem
from tagger.review.saved import SavedReview
from tagger.review.session import Change, ReviewSession
from tagger.settings import Settings
from tagger.tags import WriteMode
from tagger.text import capitalised, has, plural
from tagger.writing.journal import Journal, when
from ui.actions import Act, ActionContext, ActionTable, row_counts
from ui.album_view import AlbumDetail, AlbumGroup, AlbumView, accept_albums
from ui.analysis_control import AnalysisControl
from ui.check import FileChecks
from ui.detail import DetailPanel
from ui.dialogs import AcceptAboveDialog, CheckCard, GenreEditor, SettingsDialog
from ui.genres_panel import GenresPanel
from ui.history import HistoryDialog
from ui.learn import Learning
from ui.library import Filter, LibraryModel
from ui.library_table import LibraryTable
from ui.playback import ExcerptPlayer
from ui.restored import KeptReview
from ui.roles import ItemRole
from ui.scan_control import ScanControl
from ui.status_bar import StatusBar
from ui.toolbars import FilterBar, MainToolBar, build_menus
from ui.window_state import restore_window, save_window
from ui.workers import ScanJob
from ui.write_control import WriteControl

NOTHING_TO_UNDO = "Nothing this window wrote is left to undo; older batches are in Edit → History"
NARROW_DOCK_SHARE = 0.36  # the most of the window's width the side panel takes
SIDE_AREAS = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)


def keep_out_of_garbage_collection() -> None:
    """Exempt the objects alive now (rows, analyses) from future full collections.

    A full collection holds the GIL while it walks every tracked object; with 2,000
    analyses in memory that is over 100 ms, during which the GUI thread cannot run
    (benchmarks/gui_responsiveness.py). Rows and analyses hold no reference cycles,
    so reference counting still frees them when they are dropped.
    """
    gc.freeze()


class MainWindow(QMainWindow):
    """The app's one window over one review session: its views, panels, actions and the controls of its work."""

    def __init__(self, settings: Settings | None = None, make_analyzer: Callable[[str], Analyzer] | None = None,
                 journal: Journal | None = None, restore: bool = True, saved: SavedReview | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.journal = journal or Journal()  # the one journal of every write and undo of this window
        self.session = ReviewSession(self.settings, self.journal)
        self.player = ExcerptPlayer()
        self.status = StatusBar(self.cancel_work)
        self.setStatusBar(self.status)
        self.learning = Learning(self)
        # The controls of the long work: each owns its jobs, their signals and their state.
        self.scans = ScanControl(self.session, self.status, self)
        self.analysis = AnalysisControl(self.session, self.status, make_analyzer or open_analyzer,
                                        self.learning.load, self)  # the genres learned from the person's tags
        self.writes = WriteControl(self.session, self.status, self)
        self.checks = FileChecks(self)
        # Set once closeEvent has stopped everything: a closed window can be closed again
        # (pytest-qt closes what a test closed already), and must not stop it all twice.
        self._shut_down = False

        self.setWindowTitle("Genre Tagger")
        self.setWindowIcon(QIcon(str(resource_dir() / "icons" / "genre-tagger.svg")))
        self.setAcceptDrops(True)
        self.model = LibraryModel(self.session, self)
        self.table = LibraryTable(self.model)
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        self.table.chip_toggled.connect(self.toggle_genre)
        self.album_view = AlbumView(self.settings.min_confidence, self.settings.max_genres)
        self.album_view.follow(self.session)
        self.album_view.chips.chip_toggled.connect(self.toggle_genre)
        self.album_view.doubleClicked.connect(lambda _: self.edit_selected())
        self.album_view.current_changed.connect(lambda _: self._show_current())
        self.views = QStackedWidget()  # the table, or the same files grouped by album
        self.views.addWidget(self.table)
        self.views.addWidget(self.album_view)
        self.kept = KeptReview(self, saved)  # claims the saved review, unless another process owns it
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.kept.bar)
        column.addWidget(self.learning.offer)
        column.addWidget(self.views)
        self.setCentralWidget(central)

        self.detail = DetailPanel(self.player)
        self.detail.toggled_genre.connect(self.toggle_genre)
        self.album_detail = AlbumDetail()
        self.details = QStackedWidget()
        self.details.addWidget(self.detail)
        self.details.addWidget(self.album_detail)
        dock = QDockWidget("Why these genres", self)
        dock.setObjectName("detail")
        dock.setWidget(self.details)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.resizeDocks([dock], [360], Qt.Orientation.Horizontal)
        self.detail_dock = dock
        self.genres_panel = GenresPanel(self.session)
        self.genres_panel.files_chosen.connect(self.show_only)
        self.genres_panel.edits_made.connect(self.mark_cleanup)
        dock = QDockWidget("Genres", self)
        dock.setObjectName("genres")
        dock.setWidget(self.genres_panel)
        # A tab beside the side panel: the table keeps the window's width.
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.tabifyDockWidget(self.detail_dock, dock)
        self.detail_dock.raise_()
        self.genres_dock = dock

        self.actions = ActionTable(self, self._action_context)
        self._build_menus_and_toolbars()
        for changes in (self.learning.changed, self.scans.changed, self.analysis.changed, self.writes.changed):
            changes.connect(self.actions.update_now)
        self.scans.all_ended.connect(self._scans_ended)
        self.writes.ended.connect(self.kept.save)  # what the files hold now is part of the review
        # A selection is one person's click, not a burst: the actions follow it at once.
        for view in (self.table, self.album_view):
            view.selectionModel().selectionChanged.connect(lambda *_: self.actions.update_now())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self.model.layoutChanged.connect(self._current_after_filter)
        self.session.subscribe(self._session_changed)
        restore_window(self, self.table, self.settings)
        if restore:
            self.kept.restore()
        self.actions.update_now()
        self.status.set_counts(self.session.items)
        notice = self.journal.set_aside_notice()
        if notice:
            # The person's undo history is at stake: a box that stays, not a status line that a
            # folder's scan replaces at once. Not modal: the window works meanwhile.
            box = QMessageBox(QMessageBox.Icon.Warning, "Undo journal damaged", capitalised(notice),
                              QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.setModal(False)
            QTimer.singleShot(0, box.show)  # once the window is up, above it
        # The models, and the genres learned from the person's tags, load while the window opens.
        self.analysis.preload()

    # Construction.

    def _build_menus_and_toolbars(self) -> None:
        a = self.actions
        a.connect({
            Act.ADD_FOLDER: self.choose_folder, Act.ADD_FILES: self.choose_files,
            Act.ANALYSE_SELECTED: self.analyse_selected, Act.ANALYSE_ALL: self.analyse_all,
            Act.ANALYSE_FULLY: self.analyse_fully,
            Act.CANCEL: self.cancel_work, Act.ACCEPT: self.accept_selected, Act.ACCEPT_ABOVE: self.ask_accept_above,
            Act.REJECT: self.reject_selected, Act.EDIT: self.edit_selected, Act.APPLY: self.apply_accepted,
            Act.UNDO: self.undo_last, Act.HISTORY: self.show_history, Act.SETTINGS: self.edit_settings,
            Act.LEARN: self.learning.start, Act.YOUR_GENRES: self.learning.show_report,
            Act.GROUP_BY_ALBUM: lambda: self.show_albums(a[Act.GROUP_BY_ALBUM].isChecked()),
            Act.FIND: lambda: self.search.setFocus(), Act.QUIT: self.close,
        })
        build_menus(self.menuBar(), a, [self.detail_dock.toggleViewAction(), self.genres_dock.toggleViewAction()])
        toolbar = MainToolBar(a, self.settings.write_mode)
        self.mode = toolbar.mode
        self.addToolBar(toolbar)
        filters = FilterBar(a)
        self.filter_box, self.search = filters.filter_box, filters.search
        filters.changed.connect(self.apply_filter)
        self.addToolBarBreak()
        self.addToolBar(filters)

    def _action_context(self) -> ActionContext:
        albums, items = self.album_view.selected() if self.albums_shown() else ([], self.selected_items())
        rows, writable, acceptable = row_counts(self.session.items, items)
        return ActionContext(
            rows=rows, selected=len(albums) + len(items), writable=writable,
            acceptable_selected=acceptable + len(albums),  # an album row takes the genres its album agrees on
            analysing=self.analysis.running, writing=self.writes.running,
            scanning=self.scans.running, learning=self.learning.running,
            can_undo=self.session.can_undo, learned_model=self.learning.model is not None)

    # Selection helpers.

    def albums_shown(self) -> bool:
        return self.views.currentWidget() is self.album_view

    def show_albums(self, shown: bool) -> None:
        """Group by Album on or off."""
        self.actions[Act.GROUP_BY_ALBUM].setChecked(shown)
        self.views.setCurrentWidget(self.album_view if shown else self.table)
        if shown:
            self.album_view.regroup([self.model.item_at(r) for r in range(self.model.rowCount())])
        self._show_current()

    def current(self) -> ReviewItem | AlbumGroup | None:
        """The row under the cursor: a file, or in the album view an album too."""
        if self.albums_shown():
            return self.album_view.current()
        index = self.table.selectionModel().currentIndex()
        return index.data(ItemRole) if index.isValid() else None

    def selected_items(self) -> list[ReviewItem]:
        if self.albums_shown():  # an album row stands for its tracks
            return self.album_view.selected_items()
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.item_at(r) for r in rows]

    def select_paths(self, paths: list[Path]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        for path in paths:
            row = self.model.row_of(path)
            if row >= 0:
                selection.select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)
        if paths and self.model.row_of(paths[0]) >= 0:
            selection.setCurrentIndex(self.model.index(self.model.row_of(paths[0]), 0),
                                      QItemSelectionModel.SelectionFlag.NoUpdate)

    def _show_current(self) -> None:
        current = self.current()
        if isinstance(current, AlbumGroup):
            self.album_detail.show_album(current, self.settings.min_confidence, self.settings.max_genres)
            self.details.setCurrentWidget(self.album_detail)
        else:
            self.detail.show_item(current)
            self.details.setCurrentWidget(self.detail)

    def _current_after_filter(self) -> None:
        # The panel shows only a row that is still visible; a filter can hide the current one.
        if not self.albums_shown() and not self.table.selectionModel().currentIndex().isValid():
            self.detail.show_item(None)

    def _session_changed(self, change: Change) -> None:
        """The session's rows changed: what shows them beyond the table and album view follows."""
        touched = set(change.paths)
        current = self.current()
        if change.reset or (isinstance(current, ReviewItem) and current.path in touched
                            or isinstance(current, AlbumGroup) and any(i.path in touched for i in current.items)):
            self._show_current()
        self.checks.show(touched)
        if change.added:
            keep_out_of_garbage_collection()
        if self.busy():  # results arrive in bursts: count them once per burst
            self.status.counts_soon(lambda: self.session.items)
            self.actions.update_soon()
        else:  # a person's decision: the window follows at once
            self.status.set_counts(self.session.items)
            self.actions.update_now()
        self.kept.save_soon()

    def notify(self, message: str) -> None:
        self.status.notify(message)

    # Adding files.

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a music folder")
        if folder:
            self.add_paths([Path(folder)])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add music files")
        if files:
            self.add_paths([Path(f) for f in files])

    def add_paths(self, paths: list[Path], then: Callable[[], None] | None = None) -> ScanJob:
        """Scan ``paths`` in the background; rows appear as files are found, and ``then`` runs after."""
        return self.scans.add(paths, then)

    def _scans_ended(self) -> None:
        self.apply_filter()  # place the new rows under the current sort and filter
        self.notify(f"{plural(len(self.session.items), 'file')} in the library")
        self.learning.scan_finished()

    # Analysis.

    def analyse_selected(self) -> None:
        self.analyse(self.session.to_analyse([i.path for i in self.selected_items()]))

    def analyse_all(self) -> None:
        """Every file not analysed yet, and those in error (a failed analysis, or a write
        refused because the file changed since); rejected files are left alone."""
        self.analyse(self.session.to_analyse())

    def analyse_fully(self) -> None:
        """The selected files at full depth, building on their cached analyses."""
        self.analyse(self.session.to_analyse([i.path for i in self.selected_items()]), Depth.FULL)

    def analyse(self, paths: list[Path], depth: Depth | None = None) -> None:
        """Analyse ``paths``, unless an analysis runs already; while learning runs, once it ends."""
        if not paths:
            self.notify("Select the files to analyse first")
            return
        if self.analysis.running:
            self.notify("An analysis is already running")
            return
        if self.learning.running:  # learning analyses the tagged files with the same models
            self.learning.analyse_after(paths)
            self.notify(f"{plural(len(paths), 'file')} will be analysed once learning ends")
            return
        self.analysis.start(paths, depth)

    def cancel_work(self) -> None:
        for work in (self.analysis, self.writes, self.learning, self.scans):
            work.cancel()

    # Review.

    def accept_selected(self) -> None:
        """Accept the selected rows; an album row gives its tracks the album's genres."""
        albums, items = self.album_view.selected() if self.albums_shown() else ([], self.selected_items())
        tracks, empty = accept_albums(albums, self.settings.min_confidence, self.settings.max_genres)
        self.session.changed([i for g in albums for i in g.items])
        refused = self.session.accept(items)
        if empty:
            self.notify(f"{plural(len(empty), 'album')} {has(len(empty))} no genre that reaches "
                        f"{self.settings.min_confidence:.0%}, or no track that can take one; the first: "
                        f"{empty[0].name}")
        elif refused:
            self.notify(f"{plural(len(refused), 'row')} {has(len(refused))} no genre chosen: tick a candidate, "
                        "edit, or analyse first")

    def ask_accept_above(self) -> None:
        dialog = AcceptAboveDialog(self.session, self)
        if dialog.exec():
            self.accept_above(dialog.threshold())

    def accept_above(self, threshold: float) -> int:
        accepted = self.session.accept_above(threshold)
        self.notify(f"Accepted {plural(len(accepted), 'row')} at {threshold:.0%} or more")
        return len(accepted)

    def reject_selected(self) -> None:
        self.session.reject(self.selected_items())

    def toggle_genre(self, path: Path, genre: str) -> None:
        item = self.session.item(path)
        if item is not None and not self.session.toggle(item, genre):
            self.notify(f"{path.name} cannot change while it is analysed or in error")

    def edit_selected(self) -> None:
        items = self.selected_items()
        if not items:
            return
        # Every file's genres, so that the most common spelling of each is the one offered.
        library = (g for item in self.session.items for g in item.current_genres)
        editor = GenreEditor(items, completion_names(library), self)
        if editor.exec():
            waiting = self.session.edit_each(editor.edits())
            if waiting:
                one = len(waiting) == 1
                self.notify(f"{plural(len(waiting), 'file')} that failed {'keeps' if one else 'keep'} your genres; "
                            f"Apply writes them once Analyse All reads {'it' if one else 'them'} without an error")

    # Writing.

    def apply_accepted(self, items: list[ReviewItem] | None = None) -> None:
        """Write the accepted rows (or those of ``items``) on the single background writer."""
        self.writes.apply(items, WriteMode(self.mode.currentText()))  # the mode is chosen per batch

    def undo_last(self) -> None:
        """Undo the newest batch this window wrote, once."""
        summary = self.session.batch_to_undo()
        if summary is None:
            self.notify(NOTHING_TO_UNDO)
            return
        # Name what is about to be reverted: the newest batch is not always the one a person has in mind.
        if self.confirm(f"Undo batch {summary.id} ({when(summary.created)}): restore the genres it replaced in the "
                        f"{plural(summary.undoable_files, 'file')} it wrote? Files changed since are skipped."):
            self.writes.undo(summary.id)

    def show_history(self) -> None:
        dialog = HistoryDialog(self.journal, self)
        dialog.undo_requested.connect(self.writes.undo)
        dialog.exec()

    # The single-file check.

    def check_file(self, path: Path) -> CheckCard:
        """Analyse one file now and show its result card."""
        return self.checks.check(path)

    @property
    def cards(self) -> dict[Path, CheckCard]:
        return self.checks.cards

    # Settings.

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.set_settings(dialog.settings())

    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.album_view.albums.set_thresholds(settings.min_confidence, settings.max_genres)
        self.mode.setCurrentText(settings.write_mode)
        try:
            settings.save()
        except StateError as e:
            self.notify(f"The settings apply until Genre Tagger closes: {e}")
        self.session.set_settings(settings)  # new thresholds re-pick the undecided rows
        self.learning.reconsider()  # another minimum of files per genre changes what learning would learn

    # Filters.

    def apply_filter(self) -> None:
        self.model.set_filter(Filter(self.filter_box.currentText()), self.search.text())
        if self.albums_shown():  # the albums of the files shown, in the table's order
            self.album_view.regroup([self.model.item_at(r) for r in range(self.model.rowCount())])

    def show_only(self, paths: frozenset[Path] | None) -> None:
        """The files of the genres chosen in the Genres panel, or every file."""
        self.model.show_only(paths)
        if self.albums_shown():
            self.album_view.regroup([self.model.item_at(r) for r in range(self.model.rowCount())])

    def mark_cleanup(self, changes: list[tuple[ReviewItem, list[str]]], what: str,
                     renames: list[tuple[str, str]]) -> None:
        """A cleanup from the Genres panel: its rows are edited, and Apply writes them."""
        self.session.cleanup(changes, renames)
        self.notify(f"{capitalised(what)}: {plural(len(changes), 'row')} marked; Apply writes them, Undo restores them")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # A disabled action takes no shortcut, so its key comes here: Undo says why it did nothing.
        if event.matches(QKeySequence.StandardKey.Undo) and not self.actions[Act.UNDO].isEnabled():
            self.notify("Still writing: undo once the batch is written" if self.writes.running else NOTHING_TO_UNDO)
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # A dock keeps its width as the window narrows; the table should not be the one to give way.
        dock = self.detail_dock
        share = int(NARROW_DOCK_SHARE * self.width())
        if self.dockWidgetArea(dock) in SIDE_AREAS and not dock.isFloating() and dock.width() > share:
            self.resizeDocks([dock], [share], Qt.Orientation.Horizontal)

    # Drag and drop: one audio file is checked at once; folders and several files join the library.

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.open_paths(paths)

    def open_paths(self, paths: list[Path]) -> None:
        if len(paths) == 1 and not paths[0].is_dir():
            self.check_file(paths[0])
        else:
            self.add_paths(paths)

    # Closing.

    def busy(self) -> list[str]:
        work = []
        if self.analysis.running:
            work.append("analysing")
        if self.writes.running:
            work.append("writing tags")
        if self.scans.running:
            work.append("scanning")
        if self.learning.running:
            work.append("learning your genres")
        return work

    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Genre Tagger", question)
        return answer == QMessageBox.StandardButton.Yes

    def ask_keep_review(self, undecided: int) -> QMessageBox.StandardButton:
        """Save (keep it for next time), Discard, or Cancel, for a review not written yet."""
        box = QMessageBox(QMessageBox.Icon.Question, "Genre Tagger",
                          f"{plural(undecided, 'row')} {has(undecided)} genres accepted or "
                          "edited but not written to the files yet.", parent=self)
        box.setInformativeText("Keep the review for next time, or discard it? The files stay as they are "
                               "either way until you apply.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Save).setText("Keep for Next Time")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        return QMessageBox.StandardButton(box.exec())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        work = self.busy()
        if work:
            writing = "writing tags" in work
            question = f"Stop {' and '.join(work)} and quit?"
            if writing:
                question += " The file being written is finished first; nothing is left half-written."
            if not self.confirm(question):
                event.ignore()
                return
        undecided = len(self.session.undecided_work())
        keep = True
        if undecided and self.kept.not_kept:
            if not self.confirm(f"{plural(undecided, 'row')} {has(undecided)} genres accepted or edited but not "
                                f"written to the files yet, and {self.kept.not_kept}: quit and lose them?"):
                event.ignore()
                return
        elif undecided:
            answer = self.ask_keep_review(undecided)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            keep = answer == QMessageBox.StandardButton.Save
        self.cancel_work()
        self.player.stop()
        # A write stops between files, never inside one; analysis stops within a second.
        for work in (self.writes, self.analysis, self.learning, self.scans):
            work.wait(timeout_s=30)
        if keep:
            self.kept.save()
        else:
            self.kept.forget()
        save_window(self, self.table, self.settings)
        self.kept.stop()
        self.actions.stop()
        self.journal.close()
        self._shut_down = True
        event.accept()

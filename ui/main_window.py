"""The main window: the library table, the detail panel, and the actions over them."""

from __future__ import annotations

import base64
import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDockWidget, QFileDialog, QHeaderView, QInputDialog, QLabel, QLineEdit,
    QMainWindow, QMessageBox, QProgressBar, QPushButton, QStackedWidget, QStyle, QTableView, QToolBar, QVBoxLayout,
    QWidget,
)

from tagger.analysis import Analyzer, FileResult
from tagger.cache import AnalysisCache
from tagger.excerpt import Depth
from tagger.genres import Taxonomy
from tagger.journal import Journal, when
from tagger.pipeline import Progress
from tagger.resources import resource_dir
from tagger.review import ReviewItem, ReviewState
from tagger.settings import Settings
from tagger.tags import WriteMode
from tagger.writer import GenreWriter, WriteResult
from ui.album_view import AlbumDetail, AlbumGroup, AlbumView, accept_albums
from ui.charts import ChipDelegate
from ui.detail import DetailPanel, ExcerptPlayer
from ui.dialogs import CheckCard, GenreEditor, SettingsDialog
from ui.learn import Learning
from ui.library import Column, Filter, ItemRole, LibraryModel
from ui.workers import AnalysisJob, BackgroundJob, ScanJob, WriteJob

log = logging.getLogger(__name__)

STATUS_MESSAGE_MS = 8000


def keep_out_of_garbage_collection() -> None:
    """Exempt the objects alive now (rows, analyses) from future full collections.

    A full collection holds the GIL while it walks every tracked object; with 2,000
    analyses in memory that is over 100 ms, during which the GUI thread cannot run
    (benchmarks/gui_responsiveness.py). Rows and analyses hold no reference cycles,
    so reference counting still frees them when they are dropped.
    """
    gc.freeze()


def format_duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def progress_text(progress: Progress) -> str:
    total = "?" if progress.total is None else str(progress.total)
    text = f"{progress.finished} / {total} files · {progress.files_per_s:.1f} files/s"
    if progress.eta_s is not None:
        text += f" · {format_duration(progress.eta_s)} left"
    return text


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None,
                 make_analyzer: Callable[[str], Analyzer] | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self._make_analyzer = make_analyzer or (lambda device: Analyzer(device=device, cache=AnalysisCache()))
        self._analyzer: Analyzer | None = None
        self._analyzer_device: str | None = None
        self._analyzer_lock = threading.Lock()  # held by a worker while models load; never by the GUI
        self._checks_waiting: set[Path] = set()  # dropped files whose card waits for a result
        self._can_undo = False
        self._taxonomy_names = sorted(Taxonomy.load().family)
        self.player = ExcerptPlayer()
        self.cards: dict[Path, CheckCard] = {}
        self.scans: list[ScanJob] = []
        self.analysis: AnalysisJob | None = None
        self._last_progress: Progress | None = None
        self.writing: WriteJob | None = None
        self._write_errors: list[str] = []  # this write job's failures, for its closing message
        self.roots: list[Path] = []  # what was added to the library; learning reads it again
        self.learning = Learning(self)
        self.learning.changed.connect(self._update_actions)

        self.setWindowTitle("Genre Tagger")
        self.setWindowIcon(QIcon(str(resource_dir() / "icons" / "genre-tagger.svg")))
        self.setAcceptDrops(True)
        self.model = LibraryModel(self.settings.min_confidence, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the order files were found in, until asked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setItemDelegateForColumn(Column.SUGGESTED, ChipDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in {Column.STATUS: 90, Column.ARTIST: 130, Column.TITLE: 160, Column.CURRENT: 130,
                              Column.SUGGESTED: 230, Column.CONFIDENCE: 85, Column.ALBUM: 140}.items():
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _: self.edit_selected())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self.album_view = AlbumView(self.settings.min_confidence, self.settings.max_genres)
        self.album_view.doubleClicked.connect(lambda _: self.edit_selected())
        self.album_view.current_changed.connect(lambda _: self._show_current())
        self.views = QStackedWidget()  # the table, or the same files grouped by album
        self.views.addWidget(self.table)
        self.views.addWidget(self.album_view)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.learning.offer)
        column.addWidget(self.views)
        self.setCentralWidget(central)

        self.detail = DetailPanel(self.player)
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

        self._build_actions()
        self._build_status_bar()
        self._restore_window()
        self._can_undo = Journal().last_batch(undoable=True) is not None
        self._update_actions()
        # The models, and the genres learned from the person's tags, load while the window opens.
        self.loading = BackgroundJob(self)
        self.loading.failed.connect(self.notify)
        self.loading.start("loading the models", self.analyzer)

    # Construction.

    def _icon(self, theme: str, fallback: QStyle.StandardPixmap) -> QIcon:
        return QIcon.fromTheme(theme, self.style().standardIcon(fallback))

    def _action(self, text: str, slot: Callable[[], object], shortcut: QKeySequence | str | None = None,
                icon: QIcon | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda checked=False: slot())
        if shortcut is not None:
            action.setShortcut(shortcut)
        if icon is not None:
            action.setIcon(icon)
        action.setStatusTip(tip or text.replace("&", "").rstrip("…"))
        return action

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.add_folder_action = self._action("Add &Folder…", self.choose_folder, QKeySequence.StandardKey.Open,
                                              self._icon("folder-open", SP.SP_DirOpenIcon))
        self.add_files_action = self._action("Add F&iles…", self.choose_files, "Ctrl+Shift+O",
                                             self._icon("document-open", SP.SP_FileIcon))
        self.analyse_selected_action = self._action("&Analyse Selected", self.analyse_selected, "Ctrl+R",
                                                    self._icon("media-playback-start", SP.SP_MediaPlay))
        self.analyse_all_action = self._action("Analyse A&ll", self.analyse_all, "Ctrl+Shift+R",
                                               self._icon("media-seek-forward", SP.SP_MediaSeekForward))
        self.cancel_action = self._action("&Cancel", self.cancel_work, "Esc",
                                          self._icon("process-stop", SP.SP_BrowserStop))
        self.accept_action = self._action("&Accept", self.accept_selected, "Ctrl+Return",
                                          self._icon("dialog-ok-apply", SP.SP_DialogApplyButton),
                                          "Accept the selected rows' genres for writing")
        self.accept_above_action = self._action("Accept Confident Rows…", self.ask_accept_above, "Ctrl+Shift+Return",
                                                tip="Accept every row whose top genre reaches a confidence")
        self.reject_action = self._action("&Reject", self.reject_selected, "Ctrl+Backspace",
                                          self._icon("dialog-cancel", SP.SP_DialogDiscardButton),
                                          "Leave the selected rows' files as they are")
        self.edit_action = self._action("&Edit Genres…", self.edit_selected, "F2",
                                        self._icon("document-edit", SP.SP_FileDialogDetailedView))
        self.apply_action = self._action("A&pply", self.apply_accepted, QKeySequence.StandardKey.Save,
                                         self._icon("document-save", SP.SP_DialogSaveButton),
                                         "Write the accepted rows' genres to their files")
        self.undo_action = self._action("&Undo Last Apply", self.undo_last, QKeySequence.StandardKey.Undo,
                                        self._icon("edit-undo", SP.SP_ArrowBack))
        self.settings_action = self._action("&Settings…", self.edit_settings, QKeySequence.StandardKey.Preferences)
        self.learn_action = self._action("&Learn from Tagged Files", self.learning.start, "Ctrl+L",
                                         self._icon("tools-wizard", SP.SP_FileDialogInfoView),
                                         "Learn your own genres from the files you already tagged")
        self.learn_action.setIconText("Learn Genres")
        self.your_genres_action = self._action("Your &Genres…", self.learning.show_report,
                                               tip="What was learned from your tags, and how well it does")
        self.group_action = self._action("Group by Al&bum", lambda: self.show_albums(self.group_action.isChecked()),
                                         "Ctrl+B", tip="Show albums that expand into their tracks; accept an "
                                                       "album to give its tracks the genres it agrees on")
        self.group_action.setCheckable(True)
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        find_action = self._action("&Find", lambda: self.search.setFocus(), QKeySequence.StandardKey.Find)

        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        for action in (self.add_folder_action, self.add_files_action, None, self.settings_action, None, quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        edit_menu = menus.addMenu("&Edit")
        for action in (self.undo_action, None, self.accept_action, self.accept_above_action, self.reject_action,
                       self.edit_action, None, self.apply_action, None, find_action):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
        analyse_menu = menus.addMenu("&Analysis")
        for action in (self.analyse_selected_action, self.analyse_all_action, self.cancel_action, None,
                       self.learn_action, self.your_genres_action):
            analyse_menu.addSeparator() if action is None else analyse_menu.addAction(action)
        view_menu = menus.addMenu("&View")
        view_menu.addAction(self.group_action)
        view_menu.addAction(self.detail_dock.toggleViewAction())

        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.add_folder_action, self.analyse_selected_action, self.analyse_all_action,
                       self.learn_action, None, self.accept_action, self.reject_action, self.edit_action, None,
                       self.apply_action, self.undo_action):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        toolbar.addSeparator()
        self.mode = QComboBox()
        self.mode.addItems([m.value for m in WriteMode])
        self.mode.setCurrentText(self.settings.write_mode)
        self.mode.setToolTip("replace: the accepted genres replace the file's genres\n"
                             "merge: they are added to the file's genres")
        toolbar.addWidget(QLabel(" Write mode: "))
        toolbar.addWidget(self.mode)
        self.addToolBar(toolbar)

        filters = QToolBar("Filter")
        filters.setObjectName("filter-toolbar")
        self.filter_box = QComboBox()
        self.filter_box.addItems([f.value for f in Filter])
        self.filter_box.currentIndexChanged.connect(lambda _: self.apply_filter())
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search artist, title, album or path")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self._search_timer = QTimer(self, singleShot=True, interval=200)  # filter once typing pauses
        self._search_timer.timeout.connect(self.apply_filter)
        filters.addWidget(QLabel(" Show: "))
        filters.addWidget(self.filter_box)
        filters.addWidget(self.search)
        filters.addSeparator()
        filters.addAction(self.group_action)
        self.addToolBarBreak()
        self.addToolBar(filters)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.counts = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_work)
        for widget in (self.progress_label, self.progress, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.hide()
        bar.addPermanentWidget(self.counts)

    def _restore_window(self) -> None:
        state = self.settings.window
        try:
            if "geometry" in state:
                self.restoreGeometry(QByteArray(base64.b64decode(state["geometry"])))
            else:
                self.resize(1280, 760)
            if "state" in state:
                self.restoreState(QByteArray(base64.b64decode(state["state"])))
            if "columns" in state:
                self.table.horizontalHeader().restoreState(QByteArray(base64.b64decode(state["columns"])))
        except (ValueError, TypeError):
            log.warning("ignoring a damaged saved window layout")

    def _save_window(self) -> None:
        def encode(data: QByteArray) -> str:
            return base64.b64encode(bytes(data.data())).decode("ascii")

        self.settings.window = {"geometry": encode(self.saveGeometry()), "state": encode(self.saveState()),
                                "columns": encode(self.table.horizontalHeader().saveState())}
        try:
            self.settings.save()
        except OSError as e:
            log.warning("could not save the settings: %s", e)

    # Selection helpers.

    def albums_shown(self) -> bool:
        return self.views.currentWidget() is self.album_view

    def show_albums(self, shown: bool) -> None:
        """Group by Album on or off."""
        self.group_action.setChecked(shown)
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

    def _refresh(self, paths: list[Path]) -> None:
        self.model.changed(paths)
        self.album_view.changed(paths)
        current, touched = self.current(), set(paths)
        if (isinstance(current, ReviewItem) and current.path in touched
                or isinstance(current, AlbumGroup) and any(i.path in touched for i in current.items)):
            self._show_current()
        for path in paths:
            if path in self.cards:
                self.cards[path].show_item(self.model.item(path))
        self._update_actions()

    def _update_actions(self) -> None:
        analysing = self.analysis is not None and self.analysis.running
        writing = self.writing is not None and self.writing.running
        scanning = any(s.running for s in self.scans)
        self.analyse_selected_action.setEnabled(not analysing)
        self.analyse_all_action.setEnabled(not analysing and bool(self.model.items))
        learning = self.learning.running
        self.cancel_action.setEnabled(analysing or scanning or writing or learning)
        self.learn_action.setEnabled(not analysing and not learning and bool(self.model.items))
        self.your_genres_action.setEnabled(self.learning.model is not None)
        self.apply_action.setEnabled(not writing and any(i.state is ReviewState.ACCEPTED for i in self.model.items))
        self.undo_action.setEnabled(not writing and self._can_undo)
        states = [i.state for i in self.model.items]
        shown = [ReviewState.SUGGESTED, ReviewState.EDITED, ReviewState.ACCEPTED, ReviewState.WRITTEN,
                 ReviewState.ERROR]
        self.counts.setText(" · ".join([f"{len(states)} files"] + [
            f"{states.count(s)} {'errors' if s is ReviewState.ERROR else s.value}" for s in shown]))

    def notify(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_MESSAGE_MS)

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
        """Scan ``paths`` in the background; rows appear as files are found."""
        paths = [p.absolute() for p in paths]  # one row per file, however it was named
        self.roots += [p for p in paths if p not in self.roots]
        job = ScanJob(self)
        job.found.connect(self._found)
        job.failed.connect(self.notify)
        job.finished.connect(lambda cancelled: self._scan_finished(job, then, cancelled))
        self.scans.append(job)
        job.run(paths, self.model.known_paths(), self.settings.id3v23_separator)
        self.notify("Scanning " + ", ".join(str(p) for p in paths[:3]) + ("…" if len(paths) > 3 else ""))
        self._update_actions()
        return job

    def _found(self, items: list[ReviewItem]) -> None:
        self.model.add(items)
        keep_out_of_garbage_collection()
        self._update_actions()

    def _scan_finished(self, job: ScanJob, then: Callable[[], None] | None, cancelled: bool) -> None:
        self.scans.remove(job)
        if not self.scans:
            self.apply_filter()  # place the new rows under the current sort and filter
            self.notify(f"{len(self.model.items)} files in the library")
            self.learning.scan_finished()
        if then is not None and not cancelled:
            then()
        self._update_actions()

    # Analysis.

    def analyzer(self) -> Analyzer:
        """The analyzer for the current device setting, made on first use (on a worker thread)."""
        with self._analyzer_lock:
            device = self.settings.device
            if self._analyzer is None or self._analyzer_device != device:
                self._analyzer = self._make_analyzer(device)
                self._analyzer_device = device
                self.learning.load(self._analyzer)  # the genres learned from the person's tags, if any
            return self._analyzer

    def loaded_analyzer(self) -> Analyzer | None:
        """The analyzer if it is made already; never waits for it."""
        return self._analyzer

    def analyse_selected(self) -> None:
        self.analyse([i.path for i in self.selected_items()])

    def analyse_all(self) -> None:
        """Every file not analysed yet, and those in error (a failed analysis, or a write
        refused because the file changed since); rejected files are left alone."""
        self.analyse([i.path for i in self.model.items if i.state is not ReviewState.REJECTED
                      and (i.analysis is None or i.state is ReviewState.ERROR)])

    def analyse(self, paths: list[Path]) -> None:
        if not paths:
            self.notify("Select the files to analyse first")
            return
        if self.analysis is not None and self.analysis.running:
            self.notify("An analysis is already running")
            return
        if self.learning.running:  # learning analyses the tagged files with the same models
            self.learning.analyse_after(paths)
            self.notify(f"{len(paths)} file(s) are analysed once learning ends")
            return
        job = AnalysisJob(self)
        job.started_files.connect(self._analysis_started)
        job.results.connect(self._analysis_results)
        job.progress.connect(self._analysis_progress)
        job.failed.connect(self.notify)
        job.finished.connect(self._analysis_finished)
        self.analysis = job
        self._last_progress = None
        self.progress.setRange(0, len(paths))
        self.progress.setValue(0)
        self.progress_label.setText(f"Analysing {len(paths)} files…")
        for widget in (self.progress, self.progress_label, self.cancel_button):
            widget.show()
        job.run(self.analyzer, paths, Depth(self.settings.depth))
        self._update_actions()

    def _analysis_started(self, paths: list[Path]) -> None:
        for path in paths:
            item = self.model.item(path)
            if item is not None:
                item.start_analysis()
        self._refresh(paths)

    def _analysis_results(self, results: list[FileResult]) -> None:
        errors = []
        for result in results:
            self._checks_waiting.discard(result.path)
            item = self.model.item(result.path)
            if item is None:
                continue
            if result.ok:
                item.analysed(result.analysis, self.settings.min_confidence, self.settings.max_genres)
            else:
                item.failed(result.error)
                errors.append(f"{result.path.name}: {result.error}")
        if errors:
            self.notify(f"{len(errors)} file(s) could not be analysed; the last: {errors[-1]}")
        keep_out_of_garbage_collection()
        self._refresh([r.path for r in results])

    def _analysis_progress(self, progress: Progress) -> None:
        self._last_progress = progress
        if progress.total is not None:
            self.progress.setMaximum(progress.total)
        self.progress.setValue(progress.finished)
        self.progress_label.setText(progress_text(progress))

    def _analysis_finished(self, cancelled: bool) -> None:
        # Files that were in flight when a cancel came go back to where they were.
        interrupted = [i for i in self.model.items if i.state is ReviewState.ANALYSING]
        for item in interrupted:
            item.analysis_interrupted()
        self._refresh([i.path for i in interrupted])
        for widget in (self.progress, self.cancel_button):
            widget.hide()
        last = self._last_progress
        waiting, self._checks_waiting = self._checks_waiting, set()
        if cancelled:
            self.progress_label.setText("Analysis cancelled")
        elif last is not None:
            self.progress_label.setText(f"Analysed {last.finished} files in {format_duration(last.elapsed_s)}"
                                        + (f", {last.failed} failed" if last.failed else ""))
        self._update_actions()
        if waiting and not cancelled:  # dropped while this run could no longer take them
            self.analyse(sorted(waiting))

    def cancel_work(self) -> None:
        for job in [self.analysis, self.writing, self.learning.job, *self.scans]:
            if job is not None and job.running:
                job.cancel()

    # Review.

    def accept_selected(self) -> None:
        """Accept the selected rows; an album row gives its tracks the album's genres."""
        albums, items = self.album_view.selected() if self.albums_shown() else ([], self.selected_items())
        _, empty = accept_albums(albums, self.settings.min_confidence, self.settings.max_genres)
        accepted = [i for i in items if i.accept()]
        if empty:
            self.notify(f"{len(empty)} album(s) have no genre that reaches {self.settings.min_confidence:.0%}, "
                        f"or no track that can take one; the first: {empty[0].name}")
        elif len(accepted) < len(items):
            self.notify(f"{len(items) - len(accepted)} row(s) have no genres to accept; edit or analyse them first")
        self._refresh([i.path for g in albums for i in g.items] + [i.path for i in items])

    def ask_accept_above(self) -> None:
        threshold, ok = QInputDialog.getDouble(self, "Accept confident rows",
                                               "Accept every suggested row whose top genre reaches:",
                                               max(0.7, self.settings.min_confidence), 0.0, 1.0, 2)
        if ok:
            self.accept_above(threshold)

    def accept_above(self, threshold: float) -> int:
        changed = [i for i in self.model.items
                   if i.state is ReviewState.SUGGESTED and (i.top_confidence or 0.0) >= threshold and i.accept()]
        self.notify(f"Accepted {len(changed)} row(s) at {threshold:.0%} or more")
        self._refresh([i.path for i in changed])
        return len(changed)

    def reject_selected(self) -> None:
        items = self.selected_items()
        for item in items:
            item.reject()
        self._refresh([i.path for i in items])

    def edit_selected(self) -> None:
        items = self.selected_items()
        if not items:
            return
        current = self.current()
        if isinstance(current, AlbumGroup):
            start = [g.genre for g in current.proposal(self.settings.min_confidence, self.settings.max_genres)]
        else:
            item = current if isinstance(current, ReviewItem) else items[0]
            start = item.proposed or item.current_genres
        known = set(self._taxonomy_names) | self.model.library_genres()
        editor = GenreEditor(start, sorted(known), self)
        if editor.exec():
            self.set_genres(items, editor.genres())

    def set_genres(self, items: list[ReviewItem], genres: list[str]) -> None:
        for item in items:
            item.edit(genres)
        self._refresh([i.path for i in items])

    # Writing.

    def _writer(self) -> GenreWriter:
        # The mode is chosen per batch in the toolbar; the rest comes from the settings.
        return GenreWriter(Journal(), replace(self.settings.write_options(), mode=WriteMode(self.mode.currentText())))

    def apply_accepted(self, items: list[ReviewItem] | None = None) -> None:
        """Write the accepted rows (or ``items``) on the single background writer."""
        if self.writing is not None and self.writing.running:
            self.notify("Still writing the previous batch")
            return
        items = [i for i in (items or self.model.items) if i.state is ReviewState.ACCEPTED]
        if not items:
            self.notify("Nothing accepted to write: accept rows first")
            return
        requests = [i.write_request(self.settings.provenance) for i in items]
        self._start_write(lambda job: job.apply(self._writer(), requests), f"Writing {len(items)} files…")

    def undo_last(self) -> None:
        if self.writing is not None and self.writing.running:
            return
        writer = GenreWriter(Journal(), self.settings.write_options())
        try:
            batch = writer.batch_to_undo()
        except LookupError as e:
            self.notify(str(e.args[0]))
            return
        # Name what is about to be reverted: the newest batch is not always the one a person has in mind.
        if not self.confirm(f"Undo batch {batch.id} ({batch.command}, {when(batch.created)}, {batch.files} files)? "
                            "Files changed since are skipped."):
            return
        self._start_write(lambda job: job.undo(writer, batch.id), f"Undoing batch {batch.id}…", undo=True)

    def _start_write(self, start: Callable[[WriteJob], None], message: str, undo: bool = False) -> None:
        job = WriteJob(self)
        job.written.connect(lambda results: self._written(results, undo))
        job.failed.connect(self.notify)
        job.batch_done.connect(lambda batch: self._write_finished(batch, undo))
        job.finished.connect(lambda _: self._write_job_ended())
        self.writing = job
        self._write_errors = []
        self.notify(message)
        start(job)
        self._update_actions()

    def _written(self, results: list[WriteResult], undo: bool) -> None:
        errors = []
        for result in results:
            item = self.model.item(result.path)
            if item is not None:
                (item.undone if undo else item.written)(result)
            if result.failed or result.status == "skipped":
                errors.append(f"{result.path.name}: {result.message or result.status}")
        self._write_errors += errors
        self._refresh([r.path for r in results])

    def _write_job_ended(self) -> None:
        # Also after a job that broke: the journal knows what can be undone.
        self._can_undo = Journal().last_batch(undoable=True) is not None
        self._update_actions()

    def _write_finished(self, batch: int | None, undo: bool) -> None:
        done = f"{'Undo' if undo else 'Apply'} finished (journal batch {batch})"
        if self._write_errors:
            errors = self._write_errors
            self.notify(f"{done}; {len(errors)} file(s) not written, the last: {errors[-1]}")
        elif batch is not None:
            self.notify(done)

    # The single-file check.

    def check_file(self, path: Path) -> CheckCard:
        """Analyse one file now and show its result card."""
        path = path.absolute()
        card = self.cards.get(path)
        if card is None:
            card = CheckCard(path, self.player, self)
            card.apply_requested.connect(self._apply_checked)
            card.finished.connect(lambda _: self.cards.pop(path, None))
            self.cards[path] = card
        card.show()
        card.raise_()

        def analyse_now() -> None:
            item = self.model.item(path)
            if item is None:
                return
            if item.state is ReviewState.ERROR and item.analysis is None and item.error:
                card.show_item(item)  # the scan already found it unusable
            else:
                self._checks_waiting.add(path)
                if self.analysis is None or not self.analysis.running:
                    self.analyse([path])
                # else the running batch takes it next, or, if it is too far along,
                # analyses it as soon as it ends (_analysis_finished)
                elif not self.analysis.prioritise(path):
                    self.notify(f"{path.name} is analysed as soon as the current batch ends")
            self.select_paths([path])

        if self.model.item(path) is None:
            self.add_paths([path], then=analyse_now)
        else:
            analyse_now()
        return card

    def _apply_checked(self, path: Path) -> None:
        item = self.model.item(path)
        if item is not None and item.accept():
            self.apply_accepted([item])

    # Settings.

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.set_settings(dialog.settings())

    def set_settings(self, settings: Settings) -> None:
        rethreshold = (settings.min_confidence, settings.max_genres) != (self.settings.min_confidence,
                                                                         self.settings.max_genres)
        self.settings = settings
        self.model.low_confidence = settings.min_confidence
        self.album_view.albums.set_thresholds(settings.min_confidence, settings.max_genres)
        self.mode.setCurrentText(settings.write_mode)
        settings.save()
        if rethreshold:  # new thresholds re-pick the proposals from the analyses in hand
            changed = [i for i in self.model.items if i.analysis is not None and i.state is ReviewState.SUGGESTED]
            for item in changed:
                item.analysed(item.analysis, settings.min_confidence, settings.max_genres)
            self._refresh([i.path for i in changed])

    # Filters.

    def apply_filter(self) -> None:
        self.model.set_filter(Filter(self.filter_box.currentText()), self.search.text())
        if self.albums_shown():  # the albums of the files shown, in the table's order
            self.album_view.regroup([self.model.item_at(r) for r in range(self.model.rowCount())])

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
        if self.analysis is not None and self.analysis.running:
            work.append("an analysis")
        if self.writing is not None and self.writing.running:
            work.append("writing tags")
        if self.learning.running:
            work.append("learning your genres")
        return work

    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Genre Tagger", question)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        work = self.busy()
        if work and not self.confirm(f"Stop {' and '.join(work)} and quit? Files being written are finished first; "
                                     "nothing is left half-written."):
            event.ignore()
            return
        self.cancel_work()
        self.player.stop()
        # A write stops between files, never inside one; analysis stops within a second.
        for job in [self.writing, self.analysis, self.learning.job, *self.scans]:
            if job is not None:
                job.wait(timeout_s=30)
        self._save_window()
        event.accept()


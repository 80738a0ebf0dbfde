"""Learning the person's own genres in the app: the job, the offer, and what follows.

``Learning`` looks after the learned model for the main window. The model is loaded
where the window makes its analyzer (on a worker thread), learned in a ``LearnJob``
(on its own thread, with progress and Cancel), and forgotten from the "Your genres"
dialog. After each change the rows already analysed are analysed again, which the
cache answers at once, so their suggestions re-rank in the person's genres.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from tagger.analysis.analyzer import Analyzer
from tagger.audio.excerpt import Depth
from tagger.learning.learned import (
    DEFAULT_MIN_FILES,
    LearnedModel,
    LearnPlan,
    ModelChoice,
    NothingToLearn,
    default_model_path,
    forget,
    learn_plan,
)
from tagger.library.collection import LearnOutcome, learn
from tagger.review.items import ReviewState
from tagger.text import plural
from ui.info_bar import InfoBar
from ui.panels import PanelHost
from ui.workers import BackgroundJob, Batcher, JobOwner
from ui.your_genres import YourGenresDialog, sentence


def library_roots(paths: Iterable[Path]) -> list[Path]:
    """The folders (and files) added to the library, without those inside another."""
    roots: list[Path] = []
    for path in sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: (len(p.parts), str(p))):
        if not any(path == root or root in path.parents for root in roots):
            roots.append(path)
    return roots


class LearnJob(BackgroundJob):
    """``tagger.library.collection.learn`` on a worker thread; the model is saved there too."""

    started_files = Signal(int)  # this many more tagged files began their analysis

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.outcome: LearnOutcome | None = None
        self.analyzer: Analyzer | None = None
        self.nothing: str | None = None  # why there was nothing to learn
        self.saved_to: Path | None = None

    def run(self, make_analyzer: Callable[[], Analyzer], roots: Sequence[Path], depth: Depth,
            min_files: int = DEFAULT_MIN_FILES) -> None:
        def work() -> None:
            analyzer = make_analyzer()  # loading the models takes a moment: never on the GUI thread
            counter = Batcher(lambda paths: self.started_files.emit(len(paths)))
            try:
                outcome = learn(list(roots), analyzer, depth, min_files, counter.add, self.control)
            except NothingToLearn as e:
                if not self.control.cancelled:
                    self.nothing = str(e)
                return
            finally:
                counter.flush()
            if self.control.cancelled:  # what a cancelled run learned is partial: keep nothing
                return
            self.saved_to = outcome.model.save()
            self.analyzer, self.outcome = analyzer, outcome

        self.start("learning", work)


class LearnOffer(InfoBar):
    """The bar above the table that offers to learn from the files already tagged."""

    learn_requested = Signal()
    declined = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("learn-offer", parent)
        self.learn_button = self.add_button("Learn")
        self.learn_button.setDefault(True)
        self.learn_button.clicked.connect(self.learn_requested.emit)
        self.not_now = self.add_button("Not now")
        self.not_now.clicked.connect(self.declined.emit)

    def offer(self, plan: LearnPlan) -> None:
        """Offer to learn what ``plan`` says would be learned, saying first what would not."""
        self.text.setText(f"<b>{html.escape(sentence(plan.text()))}</b> Learn your genres from them? Suggestions "
                          "then come in your own genres, checked against your tags.")
        self.show()


class Learning(JobOwner):
    """The learned model's life in the main window: load, learn, report, forget."""

    loaded = Signal(object, object)  # LearnedModel | None, a problem message | None
    changed = Signal()  # the model, or whether a job runs, changed: actions need updating

    def __init__(self, host: PanelHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.model: LearnedModel | None = None
        self.declined = False  # "Not now", for this session
        self.dialog: YourGenresDialog | None = None
        self.message: QMessageBox | None = None
        self._started = 0
        self._estimate = 0
        self._waiting: list[Path] = []  # asked to analyse while learning; analysed after it
        self.offer = LearnOffer()
        self.offer.learn_requested.connect(self.start)
        self.offer.declined.connect(self.decline)
        self.loaded.connect(self._loaded)

    # Loading, where the window makes its analyzer.

    def load(self, analyzer: Analyzer) -> None:
        """Install the stored model, if one fits ``analyzer``; runs on the thread that made it."""
        model, problem = analyzer.use_stored_model(ModelChoice.AUTO)
        self.loaded.emit(model, problem)

    def _loaded(self, model: LearnedModel | None, problem: str | None) -> None:
        self.model = model
        if model is not None:
            self.offer.hide()
        if problem:
            self.host.notify(f"Suggesting from the bundled vocabulary: {problem}")
        self.changed.emit()

    # The offer.

    def scan_finished(self) -> None:
        self.reconsider()

    def reconsider(self) -> None:
        """Offer to learn when there is no model yet and the library holds enough tagged
        files; else take the offer back. After each scan, and when the settings change."""
        settings = self.host.settings
        if (not settings.offer_learning or self.declined or self.model is not None or self.running
                or default_model_path().exists()):
            self.offer.hide()
            return
        plan = learn_plan((i.current_genres for i in self.host.session.items), settings.learn_min_files)
        if plan.enough:
            self.offer.offer(plan)
        else:
            self.offer.hide()

    def decline(self) -> None:
        self.declined = True
        self.offer.hide()

    # Learning.

    def start(self) -> None:
        host = self.host
        if self.running:
            return
        if host.analysis.running:
            host.notify("An analysis is running: learn when it ends, or cancel it first")
            return
        roots = library_roots(host.session.roots)
        if not roots:
            host.notify("Add your music first: learning reads the genres your files already carry")
            return
        # The rows' tags say at once what would be learned; while a scan still adds rows,
        # only learning, which reads every file, can tell.
        plan = learn_plan((i.current_genres for i in host.session.items), host.settings.learn_min_files)
        if not plan.enough and not host.scans.running:
            lower = (f", or lower the minimum of {plural(plan.min_files, 'file')} per genre in Settings"
                     if plan.min_files > 2 else "")
            self.tell("Nothing to learn", f"{sentence(plan.text())} Tag more files{lower}, then learn.")
            return
        self.offer.hide()
        host.notify(sentence(plan.text()))
        job = LearnJob(self)
        job.started_files.connect(self._progress)
        job.failed.connect(host.notify)
        job.finished.connect(self._finished)
        self.job = job
        self._started = 0
        self._estimate = learn_plan((i.current_genres for i in host.session.items), 1).files
        host.status.start_progress(max(1, self._estimate), "Learning your genres: reading the tagged files…")
        job.run(host.analysis.analyzer, roots, Depth(host.settings.depth), host.settings.learn_min_files)
        self.changed.emit()

    def analyse_after(self, paths: list[Path]) -> None:
        """Analyse ``paths`` once learning ends (analysis and learning share the models)."""
        self._waiting += [p for p in paths if p not in self._waiting]

    def _progress(self, count: int) -> None:
        self._started += count
        host = self.host
        host.status.progress.setMaximum(max(self._estimate, self._started))
        host.status.progress.setValue(self._started)
        host.status.progress_label.setText(f"Learning your genres: {plural(self._started, 'tagged file')} analysed"
                                        + ("; training" if self._started >= self._estimate else ""))

    def _finished(self, cancelled: bool) -> None:
        job, host = self.job, self.host
        waiting, self._waiting = self._waiting, []
        if cancelled:
            host.status.end_progress("Learning cancelled")
        elif job is not None and job.outcome is not None:
            outcome = job.outcome
            report = outcome.model.report
            host.status.end_progress(f"Learned {plural(len(outcome.model.genres), 'genre')} from "
                                  f"{plural(report.files, 'tagged file')}")
            if outcome.problems:
                host.notify(f"{plural(len(outcome.problems), 'tagged file')} could not be used; the last: "
                         f"{outcome.problems[-1][0].name}: {outcome.problems[-1][1]}")
            self.install(job.analyzer, outcome.model, waiting)
            waiting = []
            self.show_report()
        elif job is not None and job.nothing is not None:
            host.status.end_progress("Nothing to learn")
            self.tell("Nothing to learn", job.nothing)
        else:
            host.status.end_progress("Learning failed")
        self.changed.emit()
        if waiting:
            host.analyse(waiting)

    def install(self, analyzer: Analyzer | None, model: LearnedModel | None, also: Sequence[Path] = ()) -> None:
        """Rank with ``model`` (None: the bundled vocabulary) from now on, and re-rank the rows."""
        if analyzer is not None:
            analyzer.use_learned(model)
        self.model = model
        if model is not None:
            self.offer.hide()
        self.rerank(also)
        self.changed.emit()

    def rerank(self, also: Sequence[Path] = ()) -> None:
        """Analyse again the rows already analysed (the cache answers), and ``also``;
        after the running analysis if there is one."""
        self.host.analysis.after_run(lambda: self._analyse_again(also))

    def _analyse_again(self, also: Sequence[Path]) -> None:
        host = self.host
        paths = [i.path for i in host.session.items if i.analysis is not None and i.state is not ReviewState.WRITTEN]
        known = set(paths)
        paths += [p for p in also if p not in known]
        if paths:
            host.analyse(paths)

    # The report, and forgetting.

    def show_report(self) -> YourGenresDialog | None:
        if self.model is None:
            self.host.notify("Nothing learned yet: use Learn from Tagged Files")
            return None
        if self.dialog is None or self.dialog.model is not self.model:
            if self.dialog is not None:
                self.dialog.close()
            self.dialog = YourGenresDialog(self.model, self.host.window())
            self.dialog.confirm = lambda question: self.host.confirm(question)
            self.dialog.forget_requested.connect(self.forget)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def forget(self) -> None:
        forget()
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None
        self.install(self.host.analysis.loaded_analyzer(), None)
        self.host.notify("Forgot the learned model: suggestions come from the bundled vocabulary again")

    def tell(self, title: str, text: str) -> QMessageBox:
        """A message box that does not block (tests read it; a person closes it)."""
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self.host.window())
        box.open()
        self.message = box
        return box

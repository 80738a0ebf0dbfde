"""The analyzer and the analysis runs: the models load on a worker thread; one run at a time feeds the session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tagger.analysis.analyzer import Analyzer, FileResult
from tagger.analysis.pipeline import Progress
from tagger.audio.excerpt import Depth
from tagger.review.session import ReviewSession
from tagger.text import plural
from ui.status_bar import StatusBar, finished_text
from ui.workers import AnalysisJob, BackgroundJob, JobOwner


class AnalysisControl(JobOwner):
    """Makes the analyzer (once per device, never on the GUI thread) and runs analyses on
    it, one at a time: their results go to the session, their progress to the status bar."""

    changed = Signal()  # a run started or ended: what the actions allow may differ
    arrived = Signal(list)  # list[Path]: files whose results the session took
    ended = Signal(bool)  # a run ended, every result of it taken; True if it was cancelled

    def __init__(self, session: ReviewSession, status: StatusBar, make_analyzer: Callable[[str], Analyzer],
                 prepare_analyzer: Callable[[Analyzer], None], parent: QObject | None = None) -> None:
        """``prepare_analyzer`` runs on the worker thread that made an analyzer, before any run uses it."""
        super().__init__(parent)
        self.session = session
        self.status = status
        self._make_analyzer = make_analyzer
        self._prepare_analyzer = prepare_analyzer
        self._analyzer: Analyzer | None = None
        self._analyzer_device: str | None = None
        self._analyzer_lock = threading.Lock()  # held by a worker while models load; never by the GUI
        self.loading: BackgroundJob | None = None
        self._last_progress: Progress | None = None
        self._errors: list[str] = []  # this run's failures, for its closing message

    # The analyzer.

    def preload(self) -> None:
        """Load the models now, on a worker thread, so that the first analysis need not wait for them."""
        self.loading = BackgroundJob(self)
        self.loading.failed.connect(self.status.notify)
        self.loading.start("loading the models", self.analyzer)

    def analyzer(self) -> Analyzer:
        """The analyzer for the current device setting, made on first use (on a worker thread)."""
        with self._analyzer_lock:
            device = self.session.settings.device
            if self._analyzer is None or self._analyzer_device != device:
                self._analyzer = self._make_analyzer(device)
                self._analyzer_device = device
                self._prepare_analyzer(self._analyzer)
            return self._analyzer

    def loaded_analyzer(self) -> Analyzer | None:
        """The analyzer if it is made already; never waits for it."""
        return self._analyzer

    # Runs.

    def start(self, paths: list[Path], depth: Depth | None = None) -> None:
        """Analyse ``paths`` (at ``depth``, else the settings' depth); no other run may be running."""
        job = AnalysisJob(self)
        job.started_files.connect(self.session.analysis_started)
        job.results.connect(self._take)
        job.progress.connect(self._progress)
        job.failed.connect(self.status.notify)
        job.finished.connect(self._ended)
        self.job = job
        self._last_progress = None
        self._errors = []
        self.status.start_progress(len(paths), f"Analysing {plural(len(paths), 'file')}…")
        job.run(self.analyzer, paths, depth or Depth(self.session.settings.depth))
        self.changed.emit()

    def prioritise(self, path: Path) -> bool:
        """Analyse ``path`` next in the running run; False where none runs or it can take no more."""
        return self.job is not None and self.job.prioritise(path)

    def after_run(self, then: Callable[[], None]) -> None:
        """Call ``then`` once no run is running: now, or when the running one (and any it leads to) has ended."""
        if self.job is not None and self.job.running:
            self.job.finished.connect(lambda _: self.after_run(then))
        else:
            then()

    def _take(self, results: list[FileResult]) -> None:
        self._errors += self.session.take_analyses(results)
        self.arrived.emit([r.path for r in results])

    def _progress(self, progress: Progress) -> None:
        self._last_progress = progress
        self.status.show_progress(progress)

    def _ended(self, cancelled: bool) -> None:
        self.session.analysis_ended()
        last = self._last_progress
        if cancelled:
            self.status.end_progress("Analysis cancelled")
        else:
            self.status.end_progress(finished_text(last) if last is not None else "")
        errors = self._errors
        if errors:
            self.status.notify(f"{plural(len(errors), 'file')} could not be analysed; the last: {errors[-1]}")
        self.changed.emit()
        self.ended.emit(cancelled)

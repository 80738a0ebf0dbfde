"""Background work for the app: scanning, analysis and writing, each on its own thread.

Work runs on plain Python threads and reports through Qt signals, which Qt queues
to the GUI thread, so the GUI thread only updates the model and paints. Results
are sent in batches at most every ``FLUSH_S``, so a burst of cache hits or scan
results costs the GUI thread one model update, not thousands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tagger.analysis.analyzer import Analyzer, FileResult, JobControl
from tagger.analysis.pipeline import AnalysisPipeline, FileStarted
from tagger.audio.excerpt import Depth
from tagger.files.scan import scan
from tagger.library.cleanup import undo_batch, write_renaming
from tagger.review.items import ReviewItem, review_item
from tagger.text import capitalised
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult

log = logging.getLogger(__name__)

FLUSH_S = 0.1
SCAN_BATCH = 500


class Batcher:
    """Collects items on a worker thread and hands them on in batches: at once when
    they come slowly, at most every ``FLUSH_S`` when they come in a burst."""

    def __init__(self, send: Callable[[list], None], max_items: int = SCAN_BATCH) -> None:
        self._send = send
        self._max = max_items
        self._items: list = []
        self._last = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def add(self, item: object) -> None:
        with self._lock:
            self._items.append(item)
            due = len(self._items) >= self._max or time.monotonic() - self._last >= FLUSH_S
            if not due and self._timer is None:  # a burst: whatever is held goes out shortly
                self._timer = threading.Timer(FLUSH_S, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            items, self._items = self._items, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._last = time.monotonic()
            if items:
                self._send(items)


class BackgroundJob(QObject):
    """A cancellable job on a daemon thread; ``finished`` comes last, whatever happens."""

    finished = Signal(bool)  # True if it was cancelled
    failed = Signal(str)  # the job itself broke (not one file): shown once in the status bar

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control = JobControl()
        self._thread: threading.Thread | None = None
        self._done = False
        # Connected first, so it runs before every other handler of ``finished``, in the
        # GUI thread: the job is done for the GUI exactly when ``finished`` is handled,
        # never in between (a check then saw a job ended whose results were not taken yet).
        self.finished.connect(self._mark_done)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._done

    def _mark_done(self, _cancelled: bool) -> None:
        self._done = True

    def start(self, name: str, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except Exception as e:
                log.exception("%s failed", name)
                self.failed.emit(f"{capitalised(name)} failed: {e}")
            finally:
                self.finished.emit(self.control.cancelled)

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self.control.cancel()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Join the thread (for shutdown); True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                return False
            self._done = True  # ended, though the GUI thread, blocked here, has not handled ``finished`` yet
        return True


class ScanJob(BackgroundJob):
    """Finds the audio files under folders on a worker thread and reads their tags."""

    found = Signal(list)  # list[ReviewItem]

    def run(self, roots: Iterable[Path], known: frozenset[Path], separator: str) -> None:
        """Scan ``roots``; files in ``known`` (a snapshot of the table) are not read again."""
        roots = list(roots)

        def work() -> None:
            batch = Batcher(self.found.emit)
            try:
                for event in scan(roots):
                    if self.control.cancelled:
                        break
                    if event.problem is not None:
                        item = ReviewItem(event.path, title=event.path.name)
                        item.failed(event.problem)
                        batch.add(item)
                    elif event.path not in known:
                        batch.add(review_item(event.path, separator))
            finally:  # what was found reaches the table before ``finished``
                batch.flush()

        self.start("scan", work)


class AnalysisJob(BackgroundJob):
    """Runs the analysis pipeline on a worker thread and passes on its results in batches."""

    started_files = Signal(list)  # list[Path]
    results = Signal(list)  # list[FileResult]
    progress = Signal(object)  # Progress

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pipeline: AnalysisPipeline | None = None
        self._early: list[Path] = []  # prioritised while the models were still loading
        self._lock = threading.Lock()

    def run(self, make_analyzer: Callable[[], Analyzer], paths: list[Path], depth: Depth) -> None:
        def work() -> None:
            analyzer = make_analyzer()  # loading the models takes a moment: never on the GUI thread
            pipeline = AnalysisPipeline(analyzer, depth, self.control)
            with self._lock:
                self._pipeline, early, self._early = pipeline, self._early, []
            for path in early:
                pipeline.prioritise(path)
            starts, results = Batcher(self.started_files.emit), Batcher(self.results.emit)
            latest, sent_at = None, 0.0
            try:
                for event in pipeline.events(paths):
                    if isinstance(event, FileStarted):
                        starts.add(event.path)
                    elif isinstance(event, FileResult):
                        starts.flush()
                        results.add(event)
                    else:
                        latest = event
                        if time.monotonic() - sent_at >= FLUSH_S:
                            self.progress.emit(event)
                            sent_at = time.monotonic()
            finally:  # everything reaches the GUI before ``finished``
                starts.flush()
                results.flush()
            if latest is not None and not self.control.cancelled:
                self.progress.emit(latest)

        self.start("analysis", work)

    def prioritise(self, path: Path) -> bool:
        """Analyse ``path`` next; False if this job can no longer take it."""
        with self._lock:
            if not self.running or self.control.cancelled:
                return False
            if self._pipeline is None:
                self._early.append(path)
                return True
            pipeline = self._pipeline
        return pipeline.prioritise(path)


# The command an Apply in the app records in the journal, as the command line records its own.
APP_APPLY = "gui apply"


class WriteJob(BackgroundJob):
    """Writes go through GenreWriter, whose single writer thread means two never race."""

    written = Signal(list)  # list[WriteResult]
    batch_done = Signal(object)  # the journal's batch id, or None

    def apply(self, writer: GenreWriter, requests: list[WriteRequest], aliases: list[tuple[str, str]]) -> None:
        """``aliases``: the renames and merges the batch carries out, saved with it."""
        self.start("write", lambda: self._report(write_renaming(writer, requests, APP_APPLY, aliases)))

    def undo(self, writer: GenreWriter, batch: int) -> None:
        """Undo ``batch``, taking back the aliases it saved."""
        self.start("undo", lambda: self._report(undo_batch(writer, batch)))

    def _report(self, results: Iterable[WriteResult]) -> None:
        batch_id = None
        batch = Batcher(self.written.emit, max_items=50)
        for result in results:
            batch_id = result.batch
            batch.add(result)
            # Between files, never inside one: what is not written stays planned in
            # the journal, where `genre-tagger finish` can complete it.
            if self.control.cancelled:
                break
        batch.flush()
        self.batch_done.emit(batch_id)


class JobOwner(QObject):
    """A control that runs one background job at a time and answers for the latest one."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: BackgroundJob | None = None

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def cancel(self) -> None:
        """Stop the job at its next safe point: a file being written is finished first."""
        if self.job is not None and self.job.running:
            self.job.cancel()

    def wait(self, timeout_s: float) -> None:
        """Let the job end, for at most ``timeout_s`` (for shutdown)."""
        if self.job is not None:
            self.job.wait(timeout_s=timeout_s)

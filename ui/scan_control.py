"""The scans that add folders and files to the review, each on a worker thread of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tagger.review.session import ReviewSession
from ui.status_bar import StatusBar
from ui.workers import ScanJob


class ScanControl(QObject):
    """Starts scans, hands the rows they find to the session, and says when the last one has ended."""

    changed = Signal()  # a scan started or ended: what the actions allow may differ
    all_ended = Signal()  # no scan runs any more: the new rows can take their place under the sort and filter

    def __init__(self, session: ReviewSession, status: StatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.status = status
        self._jobs: list[ScanJob] = []
        # Folders and files added since the app started, which discarding the last review keeps.
        self.added_this_start: list[Path] = []

    @property
    def running(self) -> bool:
        """Whether a scan has not ended yet: it stops being running once its ending is handled."""
        return bool(self._jobs)

    def add(self, paths: list[Path], then: Callable[[], None] | None = None) -> ScanJob:
        """Scan ``paths`` in the background; rows appear as files are found, and ``then``
        runs once the scan has ended, unless it was cancelled."""
        paths = [p.absolute() for p in paths]  # one row per file, however it was named
        self.session.add_roots(paths)
        self.added_this_start += [p for p in paths if p not in self.added_this_start]
        job = ScanJob(self)
        job.found.connect(self.session.add)
        job.failed.connect(self.status.notify)
        job.finished.connect(lambda cancelled: self._ended(job, then, cancelled))
        self._jobs.append(job)
        job.run(paths, self.session.known_paths(), self.session.settings.separator)
        self.status.notify("Scanning " + ", ".join(str(p) for p in paths[:3]) + ("…" if len(paths) > 3 else ""))
        self.changed.emit()
        return job

    def _ended(self, job: ScanJob, then: Callable[[], None] | None, cancelled: bool) -> None:
        self._jobs.remove(job)
        if not self._jobs:
            self.all_ended.emit()
        if then is not None and not cancelled:
            then()
        self.changed.emit()

    def cancel(self) -> None:
        for job in self._jobs:
            if job.running:
                job.cancel()

    def wait(self, timeout_s: float) -> None:
        """Let each scan end, for at most ``timeout_s`` each (for shutdown)."""
        for job in list(self._jobs):
            job.wait(timeout_s=timeout_s)

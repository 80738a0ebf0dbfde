"""Apply and undo: the writes to the files, one batch at a time, on the single background writer."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from tagger.review.items import ReviewItem
from tagger.review.session import ReviewSession
from tagger.tags import WriteMode
from tagger.text import plural
from ui.status_bar import StatusBar
from ui.workers import JobOwner, WriteJob


class WriteControl(JobOwner):
    """Writes the accepted rows, or undoes a batch, on a worker thread, one batch at a
    time, and gives the session what each file holds afterwards."""

    changed = Signal()  # a batch started or ended: what the actions allow may differ
    ended = Signal()  # a batch ended, written or undone: what the files hold changed

    def __init__(self, session: ReviewSession, status: StatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.status = status
        self._errors: list[str] = []  # this batch's failures, for its closing message

    def apply(self, items: list[ReviewItem] | None, mode: WriteMode) -> None:
        """Write the accepted rows (or those of ``items``) in ``mode``, chosen per batch."""
        if self.running:
            self.status.notify("Still writing the previous batch")
            return
        requests = self.session.write_requests(items)
        if not requests:
            self.status.notify("Nothing accepted to write: accept or edit rows first")
            return
        writer = self.session.writer(mode)
        job = self._start(f"Writing {plural(len(requests), 'file')}…")
        job.written.connect(lambda results: self._errors.extend(self.session.take_written(results)))
        job.batch_done.connect(self._applied)
        job.apply(writer, requests, self.session.renames_in(requests))
        self.changed.emit()

    def undo(self, batch: int) -> None:
        """Undo ``batch`` (confirmed already)."""
        if self.running:
            self.status.notify("Still writing the previous batch")
            return
        job = self._start(f"Undoing batch {batch}…")
        job.written.connect(lambda results: self._errors.extend(self.session.take_undone(results, batch)))
        job.batch_done.connect(lambda _: self._ended(f"Undid batch {batch}"))
        job.undo(self.session.writer(), batch)
        self.changed.emit()

    def _start(self, message: str) -> WriteJob:
        job = WriteJob(self)
        job.failed.connect(self.status.notify)
        job.finished.connect(lambda _: self.changed.emit())
        self.job = job
        self._errors = []
        self.status.notify(message)
        return job

    def _applied(self, batch: int | None) -> None:
        self.session.applied(batch)
        self._ended(f"Apply finished (journal batch {batch})" if batch is not None else None)

    def _ended(self, done: str | None) -> None:
        errors = self._errors
        if errors:
            self.status.notify(f"{done or 'Writing stopped'}; {plural(len(errors), 'file')} not written, "
                               f"the last: {errors[-1]}")
        elif done:
            self.status.notify(done)
        self.changed.emit()
        self.ended.emit()

"""Apply and undo: the writes to the files, one batch at a time, on the single background writer."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QObject, Signal

from tagger.review.items import ReviewItem
from tagger.review.session import ReviewSession
from tagger.tags import WriteMode
from tagger.text import plural
from tagger.writing.writer import WriteResult, WriteStatus
from ui.status_bar import StatusBar
from ui.workers import JobOwner, WriteJob


def applied_text(outcomes: Counter[WriteStatus]) -> str | None:
    """What an Apply wrote, in words; None where it wrote nothing and found nothing to write."""
    written, held = outcomes[WriteStatus.WRITTEN], outcomes[WriteStatus.UNCHANGED]
    if written:
        return f"Wrote genres to {plural(written, 'file')}" + (f"; {held} already held theirs" if held else "")
    if held:
        return f"Nothing to write: {plural(held, 'file')} already held {'its' if held == 1 else 'their'} genres"
    return None


def undone_text(batch: int, outcomes: Counter[WriteStatus]) -> str:
    """What an undo put back, in words."""
    put_back, skipped = outcomes[WriteStatus.WRITTEN] + outcomes[WriteStatus.UNCHANGED], outcomes[WriteStatus.SKIPPED]
    text = f"Put back the genres of {plural(put_back, 'file')} as they were before batch {batch}"
    return text + (f"; {plural(skipped, 'file')} changed since, left as {'it is' if skipped == 1 else 'they are'}"
                   if skipped else "")


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
        self._outcomes: Counter[WriteStatus] = Counter()  # what became of this batch's files, likewise

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
        job.written.connect(lambda results: self._took(results, self.session.take_written(results)))
        job.batch_done.connect(self._applied)
        job.apply(writer, requests, self.session.renames_in(requests))
        self.changed.emit()

    def undo(self, batch: int) -> None:
        """Undo ``batch`` (confirmed already)."""
        if self.running:
            self.status.notify("Still writing the previous batch")
            return
        job = self._start(f"Undoing batch {batch}…")
        job.written.connect(lambda results: self._took(results, self.session.take_undone(results, batch)))
        job.batch_done.connect(lambda _: self._ended(undone_text(batch, self._outcomes)))
        job.undo(self.session.writer(), batch)
        self.changed.emit()

    def _start(self, message: str) -> WriteJob:
        job = WriteJob(self)
        job.failed.connect(self.status.notify)
        job.finished.connect(lambda _: self.changed.emit())
        self.job = job
        self._errors = []
        self._outcomes = Counter()
        self.status.notify(message)
        return job

    def _took(self, results: list[WriteResult], errors: list[str]) -> None:
        self._outcomes.update(r.status for r in results)
        self._errors.extend(errors)

    def _applied(self, batch: int | None) -> None:
        self.session.applied(batch)
        self._ended(applied_text(self._outcomes) if batch is not None else None)

    def _ended(self, done: str | None) -> None:
        errors = self._errors
        if errors:
            self.status.notify(f"{done + '; ' if done else ''}{plural(len(errors), 'file')} not written, "
                               f"the last: {errors[-1]}")
        elif done:
            self.status.notify(done)
        self.changed.emit()
        self.ended.emit()

"""The review kept between starts, and the bar that says it came back."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from tagger.review.session import ReviewSession, SavedSessionError
from tagger.text import plural
from ui.info_bar import InfoBar
from ui.panels import PanelHost

AUTOSAVE_MS = 10_000


class RestoredBar(InfoBar):
    """Says what came back, with Discard (forget it: the files stay as they are) and Keep."""

    discard_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("restored-review", parent)
        self.discard_button = self.add_button("Discard", "Forget the last review: its rows and decisions go; "
                                                         "no file changes")
        self.discard_button.clicked.connect(self.discard_requested.emit)
        self.keep_button = self.add_button("Keep")
        self.keep_button.clicked.connect(self.hide)

    def show_restored(self, rows: int, undecided: int) -> None:
        decisions = (f", with {plural(undecided, 'decision')} not written yet" if undecided
                     else "; nothing in it waits to be written")
        self.text.setText(f"<b>Your last review is back:</b> {plural(rows, 'file')}{decisions}.")
        self.show()


class KeptReview(QObject):
    """The review kept between starts: saved as the work goes on (a crash loses at most
    AUTOSAVE_MS of it), brought back at the next start, and discarded on request."""

    def __init__(self, host: PanelHost) -> None:
        super().__init__(host.window())
        self.host = host
        self.bar = RestoredBar()
        self.bar.discard_requested.connect(self.discard)
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._timer.timeout.connect(self.save)

    def restore(self) -> None:
        """Bring back the last review's rows and decisions; the analyses they rest on come
        back from the cache."""
        host = self.host
        try:
            rows = host.session.restore()
        except SavedSessionError as e:
            host.notify(f"Starting a new review: {e}")
            return
        if not rows:
            return
        host.apply_filter()
        self.bar.show_restored(len(rows), len(host.session.undecided_work()))
        waiting = [i.path for i in rows if i.awaiting_analysis]
        if waiting:
            host.analyse(waiting)

    def discard(self) -> None:
        """Forget the review: its rows go, the files stay as they are; what was opened since
        the start (the folder named on the command line, say) is listed again, undecided."""
        host = self.host
        if host.analysis.running:
            host.analysis.cancel()
            host.analysis.wait(timeout_s=30)
        host.session.clear()
        ReviewSession.discard_saved()
        self.bar.hide()
        if host.scans.added_this_start:
            host.add_paths(list(host.scans.added_this_start))
        host.notify("Discarded the last review; the files are as they are")

    def save_soon(self) -> None:
        """The review changed: keep it within AUTOSAVE_MS (not at every change of a burst)."""
        if not self._timer.isActive():
            self._timer.start()

    def save(self) -> None:
        self._timer.stop()
        session = self.host.session
        if not session.items:
            ReviewSession.discard_saved()
            return
        try:
            session.save()
        except OSError as e:
            self.host.notify(f"Could not keep the review for next time: {e}")

    def stop(self) -> None:
        self._timer.stop()

"""The review kept between starts, and the bar that says it came back, or that this window's is not kept."""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from tagger.review.saved import SavedReview
from tagger.review.session import SavedSessionError
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
        self.discard_button.show()
        self.keep_button.setText("Keep")
        self.show()

    def show_not_kept(self, reason: str) -> None:
        """Says that this window starts a new review that is not kept, and why: a bar, not a
        status line, since the first scan's message would replace that at once."""
        self.text.setText(f"<b>This window's review is not kept for next time:</b> {html.escape(reason)}.")
        self.discard_button.hide()  # the last review is not this window's to discard
        self.keep_button.setText("OK")
        self.show()


class KeptReview(QObject):
    """The review kept between starts: saved as the work goes on (a crash loses at most
    AUTOSAVE_MS of it), brought back at the next start, and discarded on request. Only
    the window whose process owns the saved review (``SavedReview``) does any of it."""

    def __init__(self, host: PanelHost, saved: SavedReview | None = None) -> None:
        super().__init__(host.window())
        self.host = host
        self.saved = saved or SavedReview()
        self.not_kept = ""  # why this window's review is not kept, where it is not
        try:
            if not self.saved.claim():
                self.not_kept = "another Genre Tagger window keeps the last review"
        except OSError as e:
            self.not_kept = f"the review cannot be kept ({e})"
        self.bar = RestoredBar()
        self.bar.discard_requested.connect(self.discard)
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._timer.timeout.connect(self.save)

    def restore(self) -> None:
        """Bring back the last review's rows and decisions; the analyses they rest on come
        back from the cache. A window that does not own the saved review leaves it alone."""
        host = self.host
        if self.not_kept:
            self.bar.show_not_kept(self.not_kept)
            return
        try:
            rows = self.saved.restore(host.session)
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
        self.forget()
        self.bar.hide()
        if host.scans.added_this_start:
            host.add_paths(list(host.scans.added_this_start))
        host.notify("Discarded the last review; the files are as they are")

    def forget(self) -> None:
        """Delete the saved review, where this window owns it."""
        if self.saved.owned:
            self.saved.discard()

    def save_soon(self) -> None:
        """The review changed: keep it within AUTOSAVE_MS (not at every change of a burst)."""
        if self.saved.owned and not self._timer.isActive():
            self._timer.start()

    def save(self) -> None:
        self._timer.stop()
        if not self.saved.owned:
            return
        try:
            self.saved.save(self.host.session)
        except OSError as e:
            self.host.notify(f"Could not keep the review for next time: {e}")

    def stop(self) -> None:
        """The window closes: no more saves, and another process may own the saved review."""
        self._timer.stop()
        self.saved.release()

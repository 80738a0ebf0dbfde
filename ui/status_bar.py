"""The status bar: a message, the progress of long work with its Cancel, and the row counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QWidget,
)

from tagger.analysis.pipeline import Progress
from tagger.review.items import ReviewItem, ReviewState
from tagger.text import plural
from ui.library import state_count

MESSAGE_MS = 8000
COUNTS_MS = 100
# Every state, in the order a person works through them: each row is counted once.
COUNTED = [ReviewState.NEW, ReviewState.ANALYSING, ReviewState.SUGGESTED, ReviewState.UNSURE, ReviewState.EDITED,
           ReviewState.ACCEPTED, ReviewState.WRITTEN, ReviewState.REJECTED, ReviewState.ERROR]


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


def finished_text(progress: Progress) -> str:
    text = f"Analysed {plural(progress.finished, 'file')} in {format_duration(progress.elapsed_s)}"
    return text + (f", {progress.failed} failed" if progress.failed else "")


def counts_text(items: Iterable[ReviewItem]) -> str:
    states = Counter(i.state for i in items)
    parts = [plural(sum(states.values()), "file")]
    parts += [state_count(s, states[s]) for s in COUNTED if states[s]]
    return " · ".join(parts)


def elide_words(text: str, fits: Callable[[str], bool]) -> str:
    """``text`` cut at a word boundary, with an ellipsis, so that ``fits(result)``."""
    if fits(text):
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        shortened = " ".join(words).rstrip(",;:") + "…"
        if fits(shortened):
            return shortened
    return "…"


class MessageLabel(QLabel):
    """A message that never runs into its neighbours: cut at a word, whole in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_message(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def message(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics, width = self.fontMetrics(), max(self.width() - 4, 0)
        self.setText(elide_words(self._full, lambda t: metrics.horizontalAdvance(t) <= width))


class StatusBar(QStatusBar):
    """The window's status bar: messages, the progress of long work with its Cancel, and the rows' counts."""

    def __init__(self, cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.message_label = MessageLabel()
        self.addWidget(self.message_label, 1)
        self._clear_timer = QTimer(self, singleShot=True, interval=MESSAGE_MS)
        self._clear_timer.timeout.connect(lambda: self.message_label.set_message(""))
        self.progress_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(cancel)
        self.counts = QLabel()
        self.counts.setFrameShape(QFrame.Shape.StyledPanel)  # kept apart from the progress text beside it
        for widget in (self.progress_label, self.progress, self.cancel_button):
            self.addPermanentWidget(widget)
            widget.hide()
        self.addPermanentWidget(self.counts)
        self._count_items: Callable[[], Iterable[ReviewItem]] = list
        self._counts_timer = QTimer(self, singleShot=True, interval=COUNTS_MS)
        self._counts_timer.timeout.connect(lambda: self.set_counts(self._count_items()))

    def notify(self, message: str) -> None:
        self.message_label.set_message(message)
        self._clear_timer.start()

    def start_progress(self, total: int | None, text: str) -> None:
        self.progress.setRange(0, total or 0)
        self.progress.setValue(0)
        self.progress_label.setText(text)
        for widget in (self.progress, self.progress_label, self.cancel_button):
            widget.show()

    def show_progress(self, progress: Progress) -> None:
        if progress.total is not None:
            self.progress.setMaximum(progress.total)
        self.progress.setValue(progress.finished)
        self.progress_label.setText(progress_text(progress))

    def end_progress(self, text: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.progress_label.setText(text)
        self.progress_label.setVisible(bool(text))

    def set_counts(self, items: Iterable[ReviewItem]) -> None:
        self._counts_timer.stop()
        self.counts.setText(counts_text(items))

    def counts_soon(self, items: Callable[[], Iterable[ReviewItem]]) -> None:
        """Count ``items()`` once the current burst of changes is over: a count walks every row."""
        self._count_items = items
        if not self._counts_timer.isActive():
            self._counts_timer.start()

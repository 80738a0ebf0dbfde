"""The "Your genres" dialog: what was learned from the person's tags, and how well it does.

Every figure comes from the model's LearnReport, measured in cross-validation by
album: each album's tracks were left out of training in turn and suggested for, so
a figure says how the model does on music it has not seen.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tagger.learning.learned import (
    FEW_EXAMPLES,
    LearnedModel,
    LearnReport,
    ReliabilityBin,
    in_plain_words,
)

FEW = "(few examples)"  # marks a genre learned from fewer than FEW_EXAMPLES files


def percent(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"


def summary_html(model: LearnedModel) -> str:
    """What was learned and how well it does, in plain words; the exact figures are in
    the tables and the notes below it."""
    report = model.report
    when = time.strftime(" on %d %b %Y, %H:%M", time.localtime(model.trained_at)) if model.trained_at else ""
    learned = (f"<b>Learned {len(model.genres)} genres from {report.files} tagged files</b>{when}"
               f" ({report.seconds:.1f} s).")
    if report.folds < 2:
        return (learned + "<br>No tagged file could be held out and tested, so there are no agreement figures. "
                "Tag files on more albums and learn again.")
    words = in_plain_words(report)
    held_out = "album" if report.grouping == "album" else "file"
    tested = f", on {report.tested} files" if report.tested else ""
    text = (learned + f"<br>Tested by leaving each {held_out} out of training in turn ({report.folds} folds)"
            f"{tested}; on music it had not seen, its first suggestion was")
    text += "".join(f"<br>&nbsp;•&nbsp;{figure_html(line)}" for line in words.figures)
    if report.grouping != "album":
        text += ("<br><i>Most of your genres sit on one album or two, so whole albums could not be held out: "
                 "these figures describe more tracks of albums you tagged, and promise less for new albums.</i>")
    if report.untested:
        text += (f"<br>{report.untested} files could not be tested: no other album carries their genres.")
    if words.classifier:
        text += f"<br>{html.escape(sentence(words.classifier))}"
    if words.advice:
        text += "<br><i>What would help: " + html.escape("; ".join(words.advice)) + ".</i>"
    return text


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def figure_html(line: str) -> str:
    """A figure's line with its leading percentage in bold."""
    head, _, rest = line.partition(" ")
    if head.endswith("%"):
        return f"<b>{html.escape(head)}</b> {html.escape(rest)}"
    return html.escape(line)


def exact_figures(report: LearnReport) -> str:
    """The figures behind the plain words, unrounded."""
    if report.folds < 2:
        return "– (no files were held out)"
    parts = [f"top-1 agreement {report.top1:.1%}, top-3 agreement {report.top3:.1%}"
             + (f" on {report.tested} held-out files" if report.tested else "")]
    if not math.isnan(report.expected_calibration_error):
        low, high = report.calibration_interval
        interval = "" if math.isnan(low) else f" (90% of resamplings: {low:.1%}–{high:.1%})"
        parts.append(f"expected calibration error {report.expected_calibration_error:.1%}{interval}")
    parts.append(f"temperature {report.temperature:.2f}")
    return "; ".join(parts)


def candidates_text(report: LearnReport) -> str:
    """Every classifier cross-validation tried, best first, with its exact figures."""
    if not report.candidates:
        return "– (no classifier was chosen by cross-validation)"
    return "\n".join(f"{c.name}: {c.top1:.1%} right first time, {c.top3:.1%} in the top three, log loss "
                     f"{c.log_loss:.3f}" + (" (chosen)" if i == 0 else "")
                     for i, c in enumerate(report.candidates))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], tips: Sequence[str] = ()) -> QTableWidget:
    widget = QTableWidget(len(rows), len(headers))
    widget.setHorizontalHeaderLabels(list(headers))
    for column, tip in enumerate(tips):
        widget.horizontalHeaderItem(column).setToolTip(tip)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = QTableWidgetItem(text)
            if c > 0:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, cell)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    widget.verticalHeader().hide()
    widget.verticalHeader().setDefaultSectionSize(widget.fontMetrics().height() + 8)
    widget.setAlternatingRowColors(True)
    # Never squeezed to a sliver: the header and a few rows always show.
    widget.setMinimumHeight(widget.horizontalHeader().sizeHint().height()
                            + min(max(len(rows), 1), 4) * widget.verticalHeader().defaultSectionSize() + 4)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return widget


class ReliabilityChart(QWidget):
    """How often the first suggestion was right, per band of stated confidence; on
    the diagonal, "80%" is right 80% of the time."""

    def __init__(self, bins: Sequence[ReliabilityBin], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bins = list(bins)
        self.setMinimumHeight(130)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Bars: how often the first suggestion was right, per band of the confidence it was given.\n"
                        "Dashed line: where a perfectly calibrated model's bars would end.")

    def sizeHint(self) -> QSize:
        return QSize(300, 150)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        line = self.fontMetrics().height()
        margin = self.fontMetrics().horizontalAdvance("100%") + 6
        plot = QRectF(margin, line + 4, self.width() - margin - 6, self.height() - 2 * line - 10)
        painter.fillRect(plot, palette.color(QPalette.ColorRole.Base))
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(plot)
        bar = QColor(palette.color(QPalette.ColorRole.Highlight))
        for b in self.bins:
            left = plot.left() + plot.width() * b.low
            width = plot.width() * (b.high - b.low)
            height = plot.height() * b.accuracy
            painter.fillRect(QRectF(left + 1, plot.bottom() - height, width - 2, height), bar)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.WindowText), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.top()))
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        small = QRectF(plot.left(), plot.bottom() + 2, plot.width(), line)
        painter.drawText(small, Qt.AlignmentFlag.AlignLeft, "0%")
        painter.drawText(small, Qt.AlignmentFlag.AlignHCenter, "stated confidence")
        painter.drawText(small, Qt.AlignmentFlag.AlignRight, "100%")
        painter.drawText(QRectF(0, plot.top() - line / 2, margin - 4, line), Qt.AlignmentFlag.AlignRight, "100%")
        painter.drawText(QRectF(0, plot.bottom() - line / 2, margin - 4, line), Qt.AlignmentFlag.AlignRight, "0%")
        painter.drawText(QRectF(plot.left(), 0, plot.width(), line), Qt.AlignmentFlag.AlignLeft,
                         "bars: how often right · dashed: ideal")


def pairs_text(report: LearnReport, limit: int = 8) -> str:
    if not report.confusions:
        return "none" if report.folds >= 2 else "– (no files were held out)"
    shown = [f"{tagged} → {suggested} ({n} file{'s' if n != 1 else ''})" for tagged, suggested, n in
             report.confusions[:limit]]
    return "; ".join(shown) + (f"; and {len(report.confusions) - limit} more" if len(report.confusions) > limit else "")


def counts_text(counts: dict[str, int], limit: int = 20) -> str:
    if not counts:
        return "none"
    shown = [f"{name or '(empty)'} ({n})" for name, n in list(counts.items())[:limit]]
    return ", ".join(shown) + (f" and {len(counts) - limit} more" if len(counts) > limit else "")


class YourGenresDialog(QDialog):
    """The LearnReport of the learned model, and a button that forgets the model."""

    forget_requested = Signal()

    def __init__(self, model: LearnedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.confirm: Callable[[str], bool] = self._ask
        report = model.report
        self.setWindowTitle("Your genres")
        self.summary = QLabel(summary_html(model))
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.genres = table(
            ["Genre", "Files", "Precision", "Recall"],
            [[g.genre, f"{g.files} {FEW}" if g.few else str(g.files), percent(g.precision), percent(g.recall)]
             for g in report.genres],
            ["Your genre, in the spelling your files use most",
             "Tagged files that carry it; “few examples”: learned from fewer than "
             f"{FEW_EXAMPLES} files, so its figures and confidences say little yet",
             "Of the files whose first suggestion was this genre, how many carry it",
             "Of the files that carry this genre, how many got it as their first suggestion"],
        )
        for row, g in enumerate(report.genres):
            self.genres.item(row, 0).setToolTip(g.genre)  # whole, where the column elides it
            if g.few:
                self.genres.item(row, 1).setToolTip(
                    f"Learned from {g.files} files, fewer than {FEW_EXAMPLES}: its figures and confidences say "
                    "little yet. Tag a few more files of it and learn again.")
        genre_box = QGroupBox("Per genre")
        QVBoxLayout(genre_box).addWidget(self.genres)

        self.calibration = table(
            ["Stated confidence", "Files", "Mean stated", "Right"],
            [[f"{b.low:.0%}–{b.high:.0%}", str(b.files), percent(b.confidence), percent(b.accuracy)]
             for b in report.reliability],
            ["The confidence given to a file's first suggestion", "Files whose first suggestion fell in this band",
             "Their average stated confidence", "How often that first suggestion was one of the file's genres"],
        )
        if report.reliability:
            low, high = report.calibration_interval
            interval = "" if math.isnan(low) else f" (between {low:.1%} and {high:.1%} on a library this size)"
            self.ece = QLabel(f"Expected calibration error: <b>{report.expected_calibration_error:.1%}</b>{interval}"
                              " — the average gap between the stated confidence and how often it was right.")
        else:
            self.ece = QLabel("No calibration figures: no file could be held out and tested.")
        self.ece.setWordWrap(True)
        self.chart = ReliabilityChart(report.reliability)
        calibration_box = QGroupBox("Calibration: is “80%” right 80% of the time?")
        calibration_layout = QVBoxLayout(calibration_box)
        calibration_layout.addWidget(self.calibration, 1)
        calibration_layout.addWidget(self.chart)
        calibration_layout.addWidget(self.ece)

        columns = QHBoxLayout()
        columns.addWidget(genre_box, 1)
        columns.addWidget(calibration_box, 1)

        self.confusions = QLabel(pairs_text(report))
        self.thin = QLabel(counts_text(report.thin))
        self.junk = QLabel(counts_text(report.junk))
        self.exact = QLabel(exact_figures(report))
        self.classifiers = QLabel(candidates_text(report))
        notes = QGroupBox("Also")
        notes_layout = QVBoxLayout(notes)
        for title, label in (("Often confused with (tagged → suggested instead)", self.confusions),
                             ("Not learned, too few tagged files", self.thin),
                             ("Ignored, not genres", self.junk),
                             ("Exact figures", self.exact),
                             ("Classifiers tried, best first", self.classifiers)):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            notes_layout.addWidget(QLabel(f"<b>{title}:</b>"))
            notes_layout.addWidget(label)

        self.forget_button = QPushButton("Forget Learned Model…")
        self.forget_button.setToolTip("Remove the learned model; suggestions come from the bundled vocabulary again")
        self.forget_button.clicked.connect(self.ask_forget)
        close = QPushButton("Close")
        close.setDefault(True)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.forget_button)
        buttons.addStretch()
        buttons.addWidget(close)

        # The report is longer than a small screen: it scrolls, rather than squeezing its
        # tables and chart onto each other.
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.summary)
        body.addLayout(columns, 1)
        body.addWidget(notes)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self.scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        self.resize(900, 720)

    def _ask(self, question: str) -> bool:
        return QMessageBox.question(self, "Your genres", question) == QMessageBox.StandardButton.Yes

    def ask_forget(self) -> None:
        if self.confirm(f"Forget the genres learned from {self.model.report.files} tagged files? Suggestions "
                        "then come from the bundled vocabulary; your files are not touched."):
            self.forget_requested.emit()

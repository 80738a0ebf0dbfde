"""Dialogs: the genre editor, the settings, accepting the confident rows, and the card
for a single dropped file."""

from __future__ import annotations

import html
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tagger.analysis.models import Device
from tagger.audio.excerpt import Depth
from tagger.genres.vocabulary import genre_key
from tagger.review.items import ReviewItem, ReviewState
from tagger.review.session import ReviewSession
from tagger.settings import EvidenceChoice, Settings
from tagger.tags import DEFAULT_SEPARATOR, MULTI_VALUE_NOTES, MultiValue, WriteMode
from tagger.tags.base import dedupe
from tagger.text import plural
from ui.charts import ChipStrip, SourceLegend
from ui.chips import item_chips
from ui.detail import AnalysisView, track_name, vertical_scroll, wrappable
from ui.playback import ExcerptPlayer
from ui.window_state import fit_on_screen

# How many of the rows' best candidates the editor offers as one-click picks.
QUICK_PICKS = 5
# The least "Learn a genre from at least" offers: a genre on one file cannot be tested.
LEAST_MIN_FILES = 2


def percent_box(value: float) -> QSpinBox:
    """A confidence (0.0–1.0) in whole percent, as the table shows it."""
    box = QSpinBox()
    box.setRange(0, 100)
    box.setSingleStep(5)
    box.setSuffix(" %")
    box.setValue(round(value * 100))
    return box


def quick_picks(items: list[ReviewItem], count: int = QUICK_PICKS) -> list[tuple[str, float]]:
    """The genres the rows' analyses suggest most, best first, each with its confidence:
    over several rows its mean over all of them (a row that lacks it counts as 0)."""
    names: dict[str, str] = {}
    for item in items:
        for candidate in item.candidates(count):
            if candidate.suggestion is not None:
                names.setdefault(genre_key(candidate.genre), candidate.genre)
    means = [(genre, sum(item.confidence_of(genre) or 0.0 for item in items) / len(items))
             for genre in names.values()]
    return sorted(means, key=lambda pick: -pick[1])[:count]


class Spread(Enum):
    """What OK does with a genre that only some of the rows have."""

    KEEP = "keep"
    ALL = "all"
    NONE = "none"


def failed_text(items: list[ReviewItem]) -> str:
    """What an edit does to the rows of ``items`` that failed; empty where none did."""
    failed = [i for i in items if i.state is ReviewState.ERROR]
    if not failed:
        return ""
    if len(items) == 1:
        return (f"This file failed ({failed[0].error_summary}): it keeps these genres, but stays marked, and Apply "
                "leaves it alone until it is analysed again without an error (Analyse All retries it).")
    return (f"{len(failed)} of the {len(items)} tracks failed (the first: {failed[0].error_summary}): they keep "
            "these genres, but stay marked, and Apply leaves them alone until they are analysed again without an "
            "error (Analyse All retries them).")


class GenreEditor(QDialog):
    """Edit the genres of one row or several. The list holds the genres every row gets
    (completed from the vocabulary and the library); over several rows a genre only some
    of them have stays on those, or goes to all, or comes off all, and a line says what
    OK will do."""

    def __init__(self, items: list[ReviewItem], known: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not items:
            raise ValueError("GenreEditor needs at least one row to edit")
        self.setWindowTitle("Edit genres")
        self.items = list(items)
        self._starts = [dedupe(item.proposed or item.current_genres) for item in self.items]
        several = len(self.items) > 1
        self._shared, partial = self._spread_of_starts()

        self.heading = QLabel(f"<b>{plural(len(self.items), 'track')}</b>" if several
                              else f"<b>{html.escape(track_name(self.items[0]))}</b>")
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        if not several:  # over several rows each keeps its own order, so only one row's can be dragged
            self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)  # order matters to players
        self.list.addItems(self._shared)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("Add a genre…")
        completer = QCompleter(QStringListModel(sorted(set(known), key=str.casefold), self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.entry.setCompleter(completer)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_entry)
        remove = QPushButton("Remove")
        remove.setShortcut("Del")
        remove.clicked.connect(lambda: [self.list.takeItem(self.list.row(i)) for i in self.list.selectedItems()])
        row = QHBoxLayout()
        row.addWidget(self.entry)
        row.addWidget(self.add_button)
        row.addWidget(remove)

        self.picks: dict[str, QPushButton] = {}
        picks_row = QHBoxLayout()
        for genre, confidence in quick_picks(self.items):
            button = QPushButton(f"+ {genre} {confidence:.0%}")
            button.setAutoDefault(False)
            button.setToolTip(f"Add {genre}: {confidence:.0%} confident"
                              + (f" on average over the {len(self.items)} tracks" if several else ""))
            button.clicked.connect(lambda checked=False, genre=genre: self.add(genre))
            self.picks[genre] = button
            picks_row.addWidget(button)
        picks_row.addStretch()

        # Over several rows: the genres only some have, each with what OK does with it.
        self.partial: dict[str, QComboBox] = {}
        self._partial_count: dict[str, int] = {}
        partial_box = QGroupBox("On some of the tracks")
        grid = QGridLayout(partial_box)
        for line, (genre, count) in enumerate(partial):
            choice = QComboBox()
            choice.addItem(f"Keep on those {count}", Spread.KEEP)
            choice.addItem(f"Give to all {len(self.items)}", Spread.ALL)
            choice.addItem("Remove from all", Spread.NONE)
            choice.currentIndexChanged.connect(self._changed)
            grid.addWidget(QLabel(f"{genre} — on {count} of {len(self.items)} tracks"), line, 0)
            grid.addWidget(choice, line, 1)
            self.partial[genre] = choice
            self._partial_count[genre] = count
        partial_box.setVisible(bool(partial))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setVisible(several)
        self.failed_note = QLabel(failed_text(self.items))  # an edit cannot mend a file that failed: say so first
        self.failed_note.setWordWrap(True)
        self.failed_note.setTextFormat(Qt.TextFormat.PlainText)
        self.failed_note.setVisible(bool(self.failed_note.text()))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        # Return adds what was typed, and only on an empty field does it mean OK.
        self.entry.textChanged.connect(self._pick_default)
        self.list.model().rowsInserted.connect(self._changed)
        self.list.model().rowsRemoved.connect(self._changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        if several:
            layout.addWidget(QLabel(f"On all {len(self.items)} tracks:"))
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addLayout(picks_row)
        layout.addWidget(partial_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.failed_note)
        layout.addWidget(buttons)
        self._pick_default("")
        self._changed()
        self.entry.setFocus()  # typing a genre works at once

    def _spread_of_starts(self) -> tuple[list[str], list[tuple[str, int]]]:
        """The starting genres every row has, and those only some have with how many."""
        names: dict[str, str] = {}
        counts: dict[str, int] = {}
        for start in self._starts:
            for genre in start:
                key = genre_key(genre)
                names.setdefault(key, genre)
                counts[key] = counts.get(key, 0) + 1
        shared = [names[k] for k in names if counts[k] == len(self._starts)]
        return shared, [(names[k], counts[k]) for k in names if counts[k] < len(self._starts)]

    def _pick_default(self, text: str) -> None:
        typing = bool(text.strip())
        self.add_button.setDefault(typing)
        self.ok_button.setDefault(not typing)

    def add_entry(self) -> None:
        self.add(self.entry.text())
        self.entry.clear()

    def add(self, genre: str) -> None:
        """Give ``genre`` to every row: into the list, or a partial genre to all."""
        name = " ".join(genre.split())
        key = genre_key(name)
        partial = next((g for g in self.partial if genre_key(g) == key), None)
        if partial is not None:
            self.partial[partial].setCurrentIndex(self.partial[partial].findData(Spread.ALL))
        elif name and key not in {genre_key(g) for g in self.genres()}:
            self.list.addItem(name)

    def genres(self) -> list[str]:
        """The genres in the list: those every row gets, in order."""
        return dedupe(self.list.item(i).text() for i in range(self.list.count()))

    def spread(self, genre: str) -> Spread:
        """What OK does with ``genre``, one that only some rows have."""
        return self.partial[genre].currentData()

    def _given_to_all(self) -> list[str]:
        return dedupe(self.genres() + [g for g in self.partial if self.spread(g) is Spread.ALL])

    def edits(self) -> list[tuple[ReviewItem, list[str]]]:
        """Each row and the genres it gets. One row gets the list in its order; over
        several each keeps its own genres that stay, in its order, and then gains the rest."""
        if len(self.items) == 1:
            return [(self.items[0], self.genres())]
        given = self._given_to_all()
        staying = {genre_key(g) for g in given} | {
            genre_key(g) for g in self.partial if self.spread(g) is Spread.KEEP}
        return [(item, dedupe([g for g in start if genre_key(g) in staying] + given))
                for item, start in zip(self.items, self._starts)]

    def summary_text(self) -> str:
        """What OK does to several rows, in words."""
        count = len(self.items)
        given = self._given_to_all()
        if not any(genres for _, genres in self.edits()):
            return f"Add or pick a genre to give the {count} tracks"
        parts = [f"OK gives all {count} tracks {', '.join(given)}" if given
                 else f"OK adds no genre to all {count} tracks"]
        listed = {genre_key(g) for g in self.genres()}
        dropped = [g for g in self._shared if genre_key(g) not in listed]
        if dropped:
            parts.append(f"{', '.join(dropped)} {'comes' if len(dropped) == 1 else 'come'} off all {count}")
        for genre, have in self._partial_count.items():
            holders = f"the {have} that {'has' if have == 1 else 'have'} it"
            if self.spread(genre) is Spread.KEEP:
                parts.append(f"{genre} stays on {holders}")
            elif self.spread(genre) is Spread.NONE:
                parts.append(f"{genre} comes off {holders}")
        return "; ".join(parts)

    def _changed(self) -> None:
        given = {genre_key(g) for g in self._given_to_all()}
        for genre, button in self.picks.items():
            button.setEnabled(genre_key(genre) not in given)
        # An edit with nothing in it would write nothing: OK waits for a genre.
        self.ok_button.setEnabled(any(genres for _, genres in self.edits()))
        if len(self.items) > 1:
            self.summary.setText(self.summary_text())


class SettingsDialog(QDialog):
    """The person's settings, each with its words: device, depth, thresholds, how genres are written."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.device = QComboBox()
        self.device.addItems([d.value for d in Device])
        self.device.setCurrentText(settings.device)
        self.depth = QComboBox()
        self.depth.addItems([d.value for d in Depth])
        self.depth.setCurrentText(settings.depth)
        self.max_genres = QSpinBox()
        self.max_genres.setRange(1, 10)
        self.max_genres.setValue(settings.max_genres)
        self.min_confidence = percent_box(settings.min_confidence)
        self.write_mode = QComboBox()
        self.write_mode.addItems([m.value for m in WriteMode])
        self.write_mode.setCurrentText(settings.write_mode)
        self.separator = QLineEdit(settings.separator)
        self.separator.setMaxLength(5)
        self.multi_value = QComboBox()
        self.multi_value.addItem("One value per genre (the standard)", MultiValue.SEPARATE.value)
        self.multi_value.addItem("One value, joined with the separator", MultiValue.JOINED.value)
        self.multi_value.setCurrentIndex(self.multi_value.findData(settings.multi_value))
        # What players show of the style chosen, said under the choice as it changes.
        self.multi_value_note = QLabel()
        self.multi_value_note.setWordWrap(True)
        self.multi_value_note.setTextFormat(Qt.TextFormat.PlainText)
        # The row keeps the longer note's height: the shorter one stays under its choice.
        self.multi_value_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.multi_value.currentIndexChanged.connect(self._show_multi_value_note)
        self._show_multi_value_note()
        self.provenance = QCheckBox("Record which model suggested the genres, in a separate tag")
        self.provenance.setChecked(settings.provenance)
        self.evidence = QComboBox()
        self.evidence.addItem("audio with album, artist and folders", EvidenceChoice.CONTEXT)
        self.evidence.addItem("audio alone", EvidenceChoice.AUDIO)
        self.evidence.setCurrentIndex(self.evidence.findData(settings.evidence))
        self.evidence.setToolTip("With album, artist and folders, an untagged track on an album whose other tracks "
                                 "are tagged is offered their genres too, as are the genres of the artist's other "
                                 "albums and of a folder named after a genre; the detail panel says what each gave")
        self.learn_min_files = QSpinBox()
        # One file cannot be tested against anything: a genre needs two to be learned.
        self.learn_min_files.setRange(LEAST_MIN_FILES, 100)
        self.learn_min_files.setValue(settings.learn_min_files)
        self.learn_min_files.setSuffix(" tagged files")
        self.learn_min_files.setToolTip("Learn from Tagged Files leaves out genres on fewer files than this; "
                                        "they are listed in Your Genres")
        self.offer_learning = QCheckBox("Offer to learn my genres once enough files are tagged")
        self.offer_learning.setChecked(settings.offer_learning)
        form = QFormLayout(self)
        form.addRow("Device:", self.device)
        form.addRow("Analysis depth:", self.depth)
        form.addRow("Most genres to write:", self.max_genres)
        form.addRow("Least confidence to propose:", self.min_confidence)
        form.addRow("Write mode:", self.write_mode)
        form.addRow("Several genres as:", self.multi_value)
        form.addRow("", self.multi_value_note)
        form.addRow("Separator:", self.separator)
        form.addRow(self.provenance)
        form.addRow("Suggestions use:", self.evidence)
        form.addRow("Learn a genre from at least:", self.learn_min_files)
        form.addRow(self.offer_learning)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._window = settings.window

    def _show_multi_value_note(self) -> None:
        self.multi_value_note.setText(MULTI_VALUE_NOTES[MultiValue(self.multi_value.currentData())])

    def settings(self) -> Settings:
        return Settings(
            device=self.device.currentText(), depth=self.depth.currentText(), max_genres=self.max_genres.value(),
            min_confidence=self.min_confidence.value() / 100, write_mode=self.write_mode.currentText(),
            separator=self.separator.text() or DEFAULT_SEPARATOR, multi_value=self.multi_value.currentData(),
            provenance=self.provenance.isChecked(),
            learn_min_files=self.learn_min_files.value(), offer_learning=self.offer_learning.isChecked(),
            evidence=self.evidence.currentData(), window=self._window,
        )


class AcceptAboveDialog(QDialog):
    """Accept Confident Rows: a confidence, and a preview of how many undecided rows
    that accepts, kept current while analyses come in."""

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accept confident rows")
        self.session = session
        self._stop_listening: Callable[[], None] | None = None
        # Where suggestions are proposed: it accepts the rows that are suggested, and no fewer.
        self.confidence = percent_box(session.settings.min_confidence)
        self.confidence.valueChanged.connect(self._preview)
        self.preview = QLabel()
        self.preview.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        explanation = QLabel("Accept every undecided row whose best genre reaches this confidence, "
                             "with its genres that reach it.")
        explanation.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(explanation)
        form.addRow("Least confidence:", self.confidence)
        form.addRow(self.preview)
        form.addRow(buttons)
        self._preview()

    def threshold(self) -> float:
        return self.confidence.value() / 100

    def _preview(self) -> None:
        undecided = sum(i.state in (ReviewState.SUGGESTED, ReviewState.UNSURE) for i in self.session.items)
        count = len(self.session.above(self.threshold()))
        self.preview.setText(f"Accepts {count} of {plural(undecided, 'undecided row')}")
        self.ok_button.setEnabled(count > 0)

    # Analyses that finish while the dialog is open change what it would accept.
    def showEvent(self, event: QShowEvent) -> None:
        if self._stop_listening is None:
            self._stop_listening = self.session.subscribe(lambda change: self._preview())
        self._preview()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        super().hideEvent(event)


class CheckCard(QDialog):
    """The result of checking one file: its candidate genres, which a click chooses
    or unchooses, their confidences, the timeline, and a button that writes the
    chosen genres to that file."""

    apply_requested = Signal(Path)
    toggled_genre = Signal(Path, str)  # a click on a chip: the window toggles that genre of this file
    edit_requested = Signal(Path)

    def __init__(self, path: Path, player: ExcerptPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Check: {path.name}")
        self.heading = QLabel(f"<b>{html.escape(path.name)}</b><br><small>{wrappable(path.parent)}</small>")
        self.heading.setWordWrap(True)
        self.summary = QLabel("Analysing…")
        self.summary.setWordWrap(True)
        self.chips = ChipStrip()  # the candidates, each marked with its source; the chosen ones solid
        self.chips.toggled.connect(lambda genre: self.toggled_genre.emit(self.path, genre))
        self.legend = SourceLegend()
        self.now = QLabel()
        self.view = AnalysisView(player)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Type genres of your own, or change their order")
        self.edit_button.setEnabled(False)
        self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.path))
        self.apply_button = QPushButton("Write genres")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(lambda: self.apply_requested.emit(self.path))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addStretch()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.chips)
        layout.addWidget(self.legend)
        layout.addWidget(self.now)
        layout.addWidget(self.view)
        layout.addStretch()  # what a card shows sits together at the top, whatever its height
        # On a short screen (or a large scale) the card scrolls, and its buttons stay in view.
        body = QWidget()
        self.scroll = vertical_scroll(self.content, body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(body)
        margin = layout.contentsMargins().left()
        buttons.setContentsMargins(margin, 0, margin, margin)  # the content's own margin is above them
        outer.addLayout(buttons)
        self.resize(560, 480)

    def show_item(self, item: ReviewItem) -> None:
        suggesting = item.analysis is not None and item.state not in (
            ReviewState.ERROR, ReviewState.WRITTEN, ReviewState.NEW, ReviewState.ANALYSING)
        for widget in (self.chips, self.legend, self.now):
            widget.setVisible(suggesting)
        # Without an analysis the charts would be empty blocks; the summary says why there is none.
        self.view.setVisible(item.analysis is not None or item.state is ReviewState.ANALYSING)
        self.summary.setText(card_summary(item))
        if suggesting:
            self.chips.set_chips(item_chips(item))
            self.legend.set_sources([c.source for c in self.chips.chips()])
            self.now.setText("Now in the file: " + (", ".join(item.current_genres) or "none"))
        self.chips.setToggleable(suggesting)
        self.edit_button.setEnabled(suggesting)
        self.view.show_analysis(item.path, item.analysis, item.suggestions)
        writable = bool(item.proposed) and item.state in (ReviewState.SUGGESTED, ReviewState.ACCEPTED)
        self.apply_button.setEnabled(writable)
        if writable:
            self.apply_button.setText(f"Write {plural(len(item.proposed), 'genre')}")
        elif item.state is ReviewState.WRITTEN:
            self.apply_button.setText("Written")
        else:
            self.apply_button.setText("Nothing to write" if suggesting else "Write genres")
        # As tall as what it now shows (a broken or a written file's card has little), as far
        # as its screen has room.
        self.layout().activate()
        chrome = self.height() - self.scroll.viewport().height()
        self.resize(self.width(), self.content.heightForWidth(self.scroll.viewport().width()) + chrome)
        fit_on_screen(self)


def card_summary(item: ReviewItem) -> str:
    """The line above a checked file's chips: where it stands, or why there are none."""
    if item.state is ReviewState.ERROR:
        return f"<b>Cannot use this file:</b> {html.escape(item.error or '')}"
    if item.state is ReviewState.WRITTEN:
        return "Written: " + (", ".join(item.current_genres) or "no genres")
    if item.state is ReviewState.ANALYSING:
        return "Analysing…"
    if item.state is ReviewState.NEW:
        return "Not analysed: the analysis was cancelled"
    if item.analysis is None:
        return "Not analysed yet"
    if item.state is ReviewState.UNSURE:
        return "<b>Unsure:</b> no genre reached the threshold; click one to choose it"
    if item.edited:
        return ("<b>Chosen by you:</b> <small>(click a genre to choose it or not)</small>" if item.proposed
                else "<b>None chosen:</b> click a genre to choose it")
    return "<b>Suggested:</b> <small>(click a genre to choose it or not)</small>"

"""Dialogs: the genre editor, the settings, and the card for a single dropped file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QCompleter, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
    QHBoxLayout, QLabel, QLineEdit, QListWidget, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from tagger.excerpt import Depth
from tagger.model import DEVICES
from tagger.review import ReviewItem, ReviewState
from tagger.settings import Settings
from tagger.tags import WriteMode
from tagger.tags.base import dedupe
from ui.charts import ChipStrip, SourceLegend
from ui.detail import AnalysisView, ExcerptPlayer
from ui.library import item_chips


class GenreEditor(QDialog):
    """Edit the genres to write: completes names from the taxonomy and the library."""

    def __init__(self, genres: list[str], known: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit genres")
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)  # order matters to players
        self.list.addItems(genres)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("Add a genre…")
        completer = QCompleter(QStringListModel(sorted(set(known), key=str.casefold), self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.entry.setCompleter(completer)
        self.entry.returnPressed.connect(self.add_entry)
        add = QPushButton("Add")
        add.clicked.connect(self.add_entry)
        remove = QPushButton("Remove")
        remove.setShortcut("Del")
        remove.clicked.connect(lambda: [self.list.takeItem(self.list.row(i)) for i in self.list.selectedItems()])
        row = QHBoxLayout()
        row.addWidget(self.entry)
        row.addWidget(add)
        row.addWidget(remove)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def add_entry(self) -> None:
        name = " ".join(self.entry.text().split())
        if name and name.casefold() not in {g.casefold() for g in self.genres()}:
            self.list.addItem(name)
        self.entry.clear()

    def genres(self) -> list[str]:
        return dedupe(self.list.item(i).text() for i in range(self.list.count()))


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.device)
        self.depth = QComboBox()
        self.depth.addItems([d.value for d in Depth])
        self.depth.setCurrentText(settings.depth)
        self.max_genres = QSpinBox()
        self.max_genres.setRange(1, 10)
        self.max_genres.setValue(settings.max_genres)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.0, 1.0)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.setValue(settings.min_confidence)
        self.write_mode = QComboBox()
        self.write_mode.addItems([m.value for m in WriteMode])
        self.write_mode.setCurrentText(settings.write_mode)
        self.separator = QLineEdit(settings.id3v23_separator)
        self.separator.setMaxLength(5)
        self.provenance = QCheckBox("Record which model suggested the genres, in a separate tag")
        self.provenance.setChecked(settings.provenance)
        self.learn_min_files = QSpinBox()
        self.learn_min_files.setRange(1, 100)
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
        form.addRow("ID3v2.3 separator:", self.separator)
        form.addRow(self.provenance)
        form.addRow("Learn a genre from at least:", self.learn_min_files)
        form.addRow(self.offer_learning)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._window = settings.window

    def settings(self) -> Settings:
        return Settings(
            device=self.device.currentText(), depth=self.depth.currentText(), max_genres=self.max_genres.value(),
            min_confidence=round(self.min_confidence.value(), 2), write_mode=self.write_mode.currentText(),
            id3v23_separator=self.separator.text() or "; ", provenance=self.provenance.isChecked(),
            learn_min_files=self.learn_min_files.value(), offer_learning=self.offer_learning.isChecked(),
            window=self._window,
        )


class CheckCard(QDialog):
    """The result of checking one file: its genres, their confidences, the timeline,
    and a button that writes the proposed genres to that file."""

    apply_requested = Signal(Path)

    def __init__(self, path: Path, player: ExcerptPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.setWindowTitle(f"Check: {path.name}")
        self.heading = QLabel(f"<b>{path.name}</b><br><small>{path.parent}</small>")
        self.heading.setWordWrap(True)
        self.summary = QLabel("Analysing…")
        self.summary.setWordWrap(True)
        self.chips = ChipStrip()  # the suggested genres, each marked with its source
        self.legend = SourceLegend()
        self.now = QLabel()
        self.view = AnalysisView(player)
        self.apply_button = QPushButton("Apply to this file")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(lambda: self.apply_requested.emit(self.path))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.chips)
        layout.addWidget(self.legend)
        layout.addWidget(self.now)
        layout.addWidget(self.view)
        layout.addLayout(buttons)
        self.resize(560, 480)

    def show_item(self, item: ReviewItem) -> None:
        suggesting = item.analysis is not None and item.state not in (
            ReviewState.ERROR, ReviewState.WRITTEN, ReviewState.NEW, ReviewState.ANALYSING)
        for widget in (self.chips, self.legend, self.now):
            widget.setVisible(suggesting)
        if item.state is ReviewState.ERROR:
            self.summary.setText(f"<b>Cannot use this file:</b> {item.error}")
        elif item.state is ReviewState.WRITTEN:
            self.summary.setText("Written: " + (", ".join(item.current_genres) or "no genres"))
        elif item.state is ReviewState.NEW:
            self.summary.setText("Not analysed: the analysis was cancelled")
        elif item.state is ReviewState.ANALYSING:
            self.summary.setText("Analysing…")
        elif item.analysis is not None:
            self.summary.setText("<b>Suggested:</b>")  # the chips below, or "none confident enough"
            self.chips.set_chips(item_chips(item))
            self.now.setText("Now in the file: " + (", ".join(item.current_genres) or "none"))
        self.view.show_analysis(item.path, item.analysis)
        self.apply_button.setEnabled(bool(item.proposed) and item.state in (
            ReviewState.SUGGESTED, ReviewState.EDITED, ReviewState.ACCEPTED))

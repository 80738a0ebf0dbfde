"""The bar above the table after a start that brought the last review back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from tagger.session import plural
from ui.info_bar import InfoBar


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

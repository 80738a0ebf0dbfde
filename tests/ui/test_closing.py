"""Closing the window: the shutdown (questions, saving, stopping the jobs) runs once, however
often the closed window is closed again."""

from __future__ import annotations

import warnings
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from tagger.review.items import ReviewItem
from ui.main_window import MainWindow


def test_a_closed_window_closed_again_asks_nothing_and_stops_nothing_twice(qtbot, analyzer):
    window = MainWindow(make_analyzer=lambda device: analyzer)
    qtbot.addWidget(window)
    item = ReviewItem(Path("/m/song.flac"), ["Pop"])
    window.session.add([item])
    window.session.edit([item], ["Jazz"])  # a decision not written: closing asks about it
    asked = []
    window.ask_keep_review = lambda undecided: asked.append(undecided) or QMessageBox.StandardButton.Discard
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # disconnecting the actions' timer twice warned
        assert window.close()
        assert window.close()
    assert asked == [1]

"""Driving the main window offscreen: opening it, waiting for its jobs, and files to give it."""

from __future__ import annotations

from pathlib import Path

import mutagen
import soundfile as sf
from PySide6.QtWidgets import QMessageBox

from support.audio import tone
from ui.main_window import MainWindow

WAIT_MS = 60_000


def shown_window(qtbot, analyzer) -> MainWindow:
    """The main window, shown, with ``analyzer`` for its models and its questions answered."""
    w = MainWindow(make_analyzer=lambda device: analyzer)
    w.confirm = lambda question: True  # closing mid-work is confirmed, as a user would
    w.ask_keep_review = lambda undecided: QMessageBox.StandardButton.Discard  # no modal box left open
    qtbot.addWidget(w)
    w.show()
    return w


def scanned(qtbot, window: MainWindow, paths: list[Path]) -> None:
    """Add ``paths`` to the window's library and wait for their scans."""
    window.add_paths(paths)
    qtbot.waitUntil(lambda: not window.scans.running, timeout=WAIT_MS)


def analysed(qtbot, window: MainWindow) -> None:
    """Wait for the window's analysis to end."""
    qtbot.waitUntil(lambda: window.analysis.job is not None and not window.analysis.running, timeout=WAIT_MS)
    qtbot.wait(50)  # the last queued signals


def written(qtbot, window: MainWindow) -> None:
    """Wait for the window's writes to end."""
    qtbot.waitUntil(lambda: window.writes.job is not None and not window.writes.running, timeout=WAIT_MS)
    qtbot.wait(50)


def loaded(qtbot, window: MainWindow) -> None:
    """Wait for the models (and the learned model) that the window loads as it opens."""
    qtbot.waitUntil(lambda: not window.analysis.loading.running, timeout=WAIT_MS)
    qtbot.wait(50)


def tagged_audio(path: Path, genre: str | None = None, album: str | None = None, album_artist: str | None = None,
                 artist: str | None = None, title: str | None = None, seconds: float = 4.0,
                 freq: float = 440.0) -> Path:
    """A mono FLAC of a chord at ``freq`` with the tags given (and no others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, 22050, 1, freq=freq), 22050)
    audio = mutagen.File(path)
    for key, value in (("genre", genre), ("album", album), ("albumartist", album_artist), ("artist", artist),
                       ("title", title)):
        if value:
            audio[key] = value
    audio.save()
    return path

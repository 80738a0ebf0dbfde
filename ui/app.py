"""Starting the desktop app: ``genre-tagger``, ``genre-tagger gui [PATH...]``, ``genre-tagger --demo``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tagger.resources import demo_copy
from tagger.text import printable, write_lines
from ui.setup_check import startup_notes

if TYPE_CHECKING:
    from ui.main_window import MainWindow
    from ui.single_instance import Launch


# QtMultimedia's uncategorised start-up messages.
MULTIMEDIA_NOTES = ("PulseAudioService:", "No QtMultimedia backends found.")


def multimedia_noise(category: str | None, message: str) -> bool:
    """Whether a Qt message is QtMultimedia's start-up talk: the optional libraries it did
    not find (PipeWire, VA-API), that it has no media backend (the app needs none), a sound
    server it could not reach. The side panel says what playback lacks; -v shows these."""
    return (category or "").startswith("qt.multimedia") or message.startswith(MULTIMEDIA_NOTES)


def forward_qt_message(mode: object, context: object, message: str) -> None:
    """Qt's messages, straight to the real stderr rather than through DecoderNoteFilter's pipe:
    Qt aborts right after a fatal one, before the filter's thread could pass it on."""
    from PySide6.QtCore import qFormatLogMessage

    if multimedia_noise(getattr(context, "category", None), message):
        return
    try:
        # Qt's own messages run over several lines; a file name in one can hold controls.
        write_lines(sys.stderr, qFormatLogMessage(mode, context, message).split("\n"))
        sys.stderr.flush()
    except (OSError, ValueError):  # no stderr left to tell
        pass


@contextlib.contextmanager
def quiet_decoders() -> Iterator[None]:
    """Keep decoders' notes on damaged files (mpg123's "Note: Illegal Audio-MPEG-Header...")
    off the terminal and the session's log while the app runs, unless -v asked for them."""
    from PySide6.QtCore import qInstallMessageHandler

    from tagger.audio.decode import DecoderNoteFilter, decoder_notes_shown

    if decoder_notes_shown():
        yield
        return
    with DecoderNoteFilter():
        previous = qInstallMessageHandler(forward_qt_message)
        try:
            yield
        finally:
            qInstallMessageHandler(previous)


def open_launch(window: MainWindow, launch: Launch) -> None:
    """Open what a launch named: the demo samples, one file's check card, or files and folders in the library."""
    if launch.demo:
        samples = demo_copy()
        window.add_paths([samples], then=window.analyse_all)
        window.notify(f"Demo: copies of the bundled samples in {samples}; "
                      "writing to them leaves the originals alone")
    elif launch.paths:
        window.open_paths(list(launch.paths))


def take_launch(window: MainWindow, launch: Launch) -> None:
    """A later launch's files and folders: the window comes forward and opens them."""
    from PySide6.QtCore import Qt

    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()
    open_launch(window, launch)


def run(paths: list[Path], demo: bool = False) -> int:
    for note in startup_notes():
        print(f"genre-tagger: {note}", file=sys.stderr)
    with quiet_decoders():
        from PySide6.QtWidgets import QApplication

        from tagger.review.saved import SavedReview
        from ui.main_window import MainWindow
        from ui.single_instance import HandOver, InstanceServer, Launch, find_window, server_name

        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("Genre Tagger")
        # Inside a Flatpak the desktop file is named by the app id; elsewhere genre-tagger.desktop.
        app.setDesktopFileName(os.environ.get("FLATPAK_ID", "genre-tagger"))
        launch, name, saved = Launch.of(paths, demo), server_name(), SavedReview()
        handed = find_window(name, launch, saved)
        if handed is HandOver.OPENED:
            print("genre-tagger: Genre Tagger is open already; its window "
                  + ("opens what you named" if paths or demo else "comes forward"), file=sys.stderr)
            return 0
        if handed is HandOver.NO_ANSWER:
            # What was sent waits in the socket: the window opens it once its event loop runs again.
            print("genre-tagger: Genre Tagger is open already but its window is not answering; "
                  "it opens what you named once it responds", file=sys.stderr)
            return 1
        server = InstanceServer(name, app)
        if saved.owned and not server.listen():
            print(printable(f"genre-tagger: a second launch will open a second window ({server.error()})"),
                  file=sys.stderr)
        from tagger.writing.journal import JournalError

        try:
            window = MainWindow(saved=saved)
        except JournalError as e:  # no journal, no undo: the app does not open without one
            from PySide6.QtWidgets import QMessageBox

            print(printable(f"genre-tagger: {e}"), file=sys.stderr)
            QMessageBox.critical(None, "Genre Tagger", str(e))
            return 1
        server.launched.connect(lambda later: take_launch(window, later))
        window.show()
        open_launch(window, launch)
        return app.exec()

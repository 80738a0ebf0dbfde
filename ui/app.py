"""Starting the desktop app: ``genre-tagger``, ``genre-tagger gui [PATH...]``, ``genre-tagger --demo``."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from tagger.resources import samples_dir


def display_problem() -> str | None:
    """Why a window cannot open here, or None; Qt would abort the process instead."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        return ("no display to open the window on; on a server use the subcommands "
                "(genre-tagger suggest, apply, …), see genre-tagger --help")
    return None


def forward_qt_message(mode: object, context: object, message: str) -> None:
    """Qt's messages, straight to the real stderr rather than through DecoderNoteFilter's pipe:
    Qt aborts right after a fatal one, before the filter's thread could pass it on."""
    from PySide6.QtCore import qFormatLogMessage

    try:
        sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # no stderr left to tell
        pass


@contextlib.contextmanager
def quiet_decoders() -> Iterator[None]:
    """Keep decoders' notes on damaged files (mpg123's "Note: Illegal Audio-MPEG-Header...")
    off the terminal and the session's log while the app runs, unless -v asked for them."""
    from PySide6.QtCore import qInstallMessageHandler

    from tagger.audio import DecoderNoteFilter, decoder_notes_shown

    if decoder_notes_shown():
        yield
        return
    with DecoderNoteFilter():
        previous = qInstallMessageHandler(forward_qt_message)
        try:
            yield
        finally:
            qInstallMessageHandler(previous)


def run(paths: list[Path], demo: bool = False) -> int:
    with quiet_decoders():
        from PySide6.QtWidgets import QApplication

        from ui.main_window import MainWindow

        app = QApplication.instance() or QApplication(sys.argv[:1])
        app.setApplicationName("Genre Tagger")
        app.setDesktopFileName("genre-tagger")
        window = MainWindow()
        window.show()
        if demo:
            window.add_paths([samples_dir()], then=window.analyse_all)
        elif paths:
            window.open_paths(paths)
        return app.exec()

"""Starting the desktop app: ``genre-tagger``, ``genre-tagger gui [PATH...]``, ``genre-tagger --demo``."""

from __future__ import annotations

import os
import sys
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


def run(paths: list[Path], demo: bool = False) -> int:
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

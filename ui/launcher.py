"""The ``genre-tagger`` program: the window for ``gui`` (and for no command), every other
command to the Qt-free tagger.cli. Qt loads only when the window opens."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tagger.cli import main as run_command_line
from tagger.cli.options import EXIT_USAGE


def open_window(paths: list[Path], demo: bool) -> int:
    from ui.app import run
    from ui.setup_check import display_problem

    problem = display_problem()
    if problem:
        print(f"genre-tagger: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return run(paths, demo)


def main(argv: Sequence[str] | None = None) -> int:
    return run_command_line(argv, open_window=open_window)

"""The ``genre-tagger`` command line: its parser, made of each command module's own, and
the run of the command it names."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tagger import __version__
from tagger.audio.decode import DecoderNoteFilter, show_decoder_notes
from tagger.cli import (
    apply,
    cache,
    finish,
    genres,
    history,
    journal,
    learn,
    normalise,
    rename,
    suggest,
    undo,
)
from tagger.cli import set as set_command
from tagger.cli.options import EXIT_BROKEN_PIPE, EXIT_FILE_ERRORS, EXIT_USAGE
from tagger.cli.output import CurrentStderrHandler, Output
from tagger.files.state import StateError
from tagger.text import printable

# Opens the desktop app on these paths (with the demo samples?) and returns its exit status.
WindowOpener = Callable[[list[Path], bool], int]
# Each registers its subparser, whose ``func`` runs it; `--help` lists them in this order.
COMMANDS = (suggest, set_command, apply, learn, cache, genres, normalise, rename, journal, history, undo, finish)


def version_text() -> str:
    """The app's version and the versions of its models: the fp32 ones, whose int8 variants
    (which --precision auto runs only where the CPU does int8 well) add "+int8-timbral"."""
    from tagger.analysis.models import MODEL_NAMES, read_onnx_metadata
    from tagger.resources import models_dir

    try:
        models = ", ".join(
            f"{name} {read_onnx_metadata(models_dir() / f'{name}.onnx')['genre_tagger.model_version']}"
            for name in MODEL_NAMES
        )
    except (OSError, ValueError, KeyError) as e:  # a broken install still says which version it is
        models = f"unreadable: {e}"
    return f"genre-tagger {__version__} (models: {models})"


class VersionAction(argparse.Action):
    """--version, which reads the model files only when asked, and prints on one line
    (argparse's own action rewraps the text to the terminal's width)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version of Genre Tagger and of its bundled models, and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        Output(sys.stdout).write(printable(version_text()) + "\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the app's options, ``gui``, and every command module's subparser."""
    parser = argparse.ArgumentParser(
        prog="genre-tagger",
        description="Suggest genre tags for music files with a bundled neural model. "
                    "Without a command, the desktop app opens.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--demo", action="store_true", help="open the desktop app with the bundled demo samples")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # gui has no run of its own: main hands it to the window opener it was given.
    gui = commands.add_parser("gui", help="open the desktop app (the default)",
                              description="Open the desktop app; one FILE is checked at once, folders are added.")
    gui.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="a file to check, or folders to add")
    gui.add_argument("-v", "--verbose", action="store_true", help="show decoders' notes on damaged files")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, open_window: WindowOpener | None = None) -> int:
    """Run one command line. ``gui`` (and no command) call ``open_window``: the
    ``genre-tagger`` program (ui.launcher) passes the app's, so that this package
    never imports Qt; without it they say where the app is."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    finally:
        Output(sys.stdout).flush()  # --help or --version into a closed pipe is no error
    verbose = getattr(args, "verbose", False)
    show_decoder_notes(verbose)
    # Decoders' own notes on damaged files (mpg123's "Note: Trying to resync...") only with -v.
    # The app filters them itself (ui/app.py), passing Qt's last words before it aborts
    # (no usable display plugin, say) straight to the terminal.
    quiet = args.command not in (None, "gui") and not verbose
    terminal = args.command not in (None, "gui")  # the app handles its own signals
    with DecoderNoteFilter() if quiet else contextlib.nullcontext(), \
            stop_on_terminate() if terminal else contextlib.nullcontext():
        out, err = Output(sys.stdout), Output(sys.stderr)
        try:
            return run_command(args, verbose, out, err, open_window)
        except BrokenPipeError:  # output that bypassed the wrappers
            out.broken_pipe()
            return EXIT_BROKEN_PIPE
        except KeyboardInterrupt as e:
            # The write in flight was finished and recorded before the journal closed.
            signal_number = e.args[0] if e.args and isinstance(e.args[0], int) else signal.SIGINT
            print(f"genre-tagger {args.command}: stopped by {signal.Signals(signal_number).name}; a file being "
                  "written was finished first. 'genre-tagger finish' completes an unfinished batch.", file=err)
            return 128 + signal_number
        finally:
            out.flush()
            err.flush()


@contextlib.contextmanager
def stop_on_terminate() -> Iterator[None]:
    """SIGTERM stops a command the way Ctrl-C does: the write in flight finishes and is recorded,
    where the default action killed the process mid-batch and left its temporary copy behind."""
    def interrupt(signal_number: int, frame: object) -> None:
        raise KeyboardInterrupt(signal_number)

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (a test's): nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_command(args: argparse.Namespace, verbose: bool, out: Output, err: Output,
                open_window: WindowOpener | None) -> int:
    if args.command in (None, "gui"):
        if open_window is None:
            print("genre-tagger: the desktop app opens with `genre-tagger` or `python -m ui`; "
                  "`python -m tagger.cli` runs the command-line commands only", file=err)
            return EXIT_USAGE
        return open_window(getattr(args, "paths", []), args.demo)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[CurrentStderrHandler()])
    try:
        return args.func(args, out, err)
    except StateError as e:
        print(printable(f"genre-tagger {args.command}: {e}"), file=err)
        return EXIT_FILE_ERRORS

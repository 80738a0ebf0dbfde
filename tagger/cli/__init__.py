"""The ``genre-tagger`` command line."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from tagger import __version__
from tagger.analysis.analyzer import Analysis, Analyzer, FileResult
from tagger.analysis.models import DEVICES, PRECISIONS
from tagger.analysis.pipeline import AnalysisPipeline
from tagger.audio.decode import DecoderNoteFilter, show_decoder_notes
from tagger.audio.excerpt import Depth
from tagger.cli.cleanup import add_cleanup_commands, run_cleanup_command
from tagger.cli.journal import (
    add_journal_command,
    close_journal,
    open_journal,
    run_journal_command,
)
from tagger.files.scan import ScanEvent, scan
from tagger.files.state import StateError, check_savable
from tagger.genres.suggestion import (
    DEFAULT_MAX_GENRES,
    DEFAULT_MIN_CONFIDENCE,
    STANDOUT_DESCRIPTOR,
    GenreSuggestion,
)
from tagger.learning.learned import DEFAULT_MIN_FILES, MODEL_CHOICES, UNLIKE_LIBRARY
from tagger.library.collection import LearnOutcome, read_collection
from tagger.library.context import ContextIndex, sibling_paths
from tagger.resources import samples_dir
from tagger.review.items import ReviewState
from tagger.review.session import ReviewSession
from tagger.settings import EVIDENCE, Settings
from tagger.tags import (
    MultiValue,
    TagSnapshot,
    WriteMode,
    WriteOptions,
    tags_or_problem,
)
from tagger.text import printable, write_lines
from tagger.writing.journal import Journal, when
from tagger.writing.writer import SUCCEEDED, WriteStatus

# Descriptors are shown only with clear evidence: well above a typical track's level.
DESCRIPTOR_MIN_CONFIDENCE = 0.5
EXIT_OK, EXIT_FILE_ERRORS, EXIT_USAGE = 0, 1, 2
# What a shell reports for a program killed by SIGPIPE (128 + 13): suggest stops when
# its reader goes away (`| head`). A write batch finishes and keeps its own status.
EXIT_BROKEN_PIPE = 141
# Opens the desktop app on these paths (with the demo samples?) and returns its exit status.
WindowOpener = Callable[[list[Path], bool], int]


def confidence(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--depth", choices=[d.value for d in Depth], default=Depth.ADAPTIVE.value,
        help="adaptive: a few patches, more while the genre is open (default); fast: a fixed few; "
             "full: every 3 s patch, building on a cached analysis",
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where inference runs (default auto)")
    parser.add_argument(
        "--precision", choices=PRECISIONS, default="auto",
        help="model weights: int8 is 1.6x faster on CPUs, fp32 exact (default auto: int8 on CPU, fp32 on GPU)",
    )
    parser.add_argument("--threads", type=positive_int, help="files analysed at once (default: CPU cores)")
    parser.add_argument("--no-cache", action="store_true", help="analyse again, ignoring and not filling the cache")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log which execution provider is used; show decoders' notes on damaged files")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", choices=MODEL_CHOICES, default="auto",
        help="auto: your own genres where `learn` made a model, else the bundled vocabulary (default); "
             "base: the bundled vocabulary only; library: the learned model, or fail",
    )
    parser.add_argument(
        "--evidence", choices=EVIDENCE, default="context",
        help="context: the audio, and the genres of the file's album mates, its artist's other albums "
             "and genre-named folders (default); audio: the audio's opinion alone",
    )


def add_write_options(parser: argparse.ArgumentParser, dry_run: bool = True) -> None:
    parser.add_argument("--mode", choices=[m.value for m in WriteMode], default=WriteMode.REPLACE.value,
                        help="replace: exactly these genres (default); merge: add them to the existing ones")
    if dry_run:
        parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    parser.add_argument("--separator", default=WriteOptions.id3v23_separator, metavar="TEXT",
                        help="joins several genres in ID3v2.3 tags, and in joined storage (default '; ')")
    parser.add_argument("--multi-value", choices=[m.value for m in MultiValue], default=MultiValue.SEPARATE.value,
                        help="separate: one value per genre, the standard (default); joined: one value joined "
                             "with the separator, for players that read only one value")
    parser.add_argument("--no-provenance", action="store_true",
                        help="do not record that the genre came from Genre Tagger")
    parser.add_argument("--keep-mtime", action="store_true", help="keep the files' modification times")
    parser.add_argument("--force-undecodable", action="store_true",
                        help="RISKY: also write files whose audio does not decode, so that no check can show "
                             "the write left their audio intact")
    parser.add_argument("--json", action="store_true", help="print JSON Lines, one object per file")


def version_text() -> str:
    """The app's version and the versions of the models that the CPU default runs (int8)."""
    from tagger.analysis.models import MODEL_NAMES, int8_path, read_onnx_metadata
    from tagger.resources import models_dir

    try:
        models = ", ".join(
            f"{name} {read_onnx_metadata(int8_path(models_dir() / f'{name}.onnx'))['genre_tagger.model_version']}"
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
    parser = argparse.ArgumentParser(
        prog="genre-tagger",
        description="Suggest genre tags for music files with a bundled neural model. "
                    "Without a command, the desktop app opens.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--demo", action="store_true", help="open the desktop app with the bundled demo samples")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = commands.add_parser("gui", help="open the desktop app (the default)",
                              description="Open the desktop app; one FILE is checked at once, folders are added.")
    gui.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="a file to check, or folders to add")
    gui.add_argument("-v", "--verbose", action="store_true", help="show decoders' notes on damaged files")
    suggest = commands.add_parser(
        "suggest", help="analyse files or folders and print genre suggestions (writes nothing)",
        description="Analyse audio files (folders are scanned recursively) and print genre suggestions.",
    )
    suggest.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="audio files or folders")
    suggest.add_argument("--demo", action="store_true", help="analyse the bundled demo samples")
    suggest.add_argument("--by-album", action="store_true",
                         help="one result per album: its tracks' analyses and tags agree on its genres")
    suggest.add_argument("--json", action="store_true", help="print JSON Lines, one object per file")
    suggest.add_argument("--top", type=positive_int, default=3, metavar="K", help="genres per file (default 3)")
    suggest.add_argument(
        "--min-confidence", type=confidence, default=0.0, metavar="X",
        help="hide genres below this confidence, 0..1 (default 0)",
    )
    add_analysis_options(suggest)
    add_model_option(suggest)

    set_ = commands.add_parser("set", help="write the given genres into files",
                               description="Write genres into audio files (journalled, undoable).")
    set_.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    set_.add_argument("--genre", action="append", required=True, metavar="NAME", help="a genre; repeat for more")
    set_.add_argument("-v", "--verbose", action="store_true", help="show decoders' notes on damaged files")
    add_write_options(set_)

    apply = commands.add_parser(
        "apply", help="analyse files and write the suggestions that pass the threshold",
        description="Analyse audio files and write their suggested genres (journalled, undoable).",
    )
    apply.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="audio files or folders")
    apply.add_argument("--min-confidence", type=confidence, default=DEFAULT_MIN_CONFIDENCE, metavar="X",
                       help=f"write genres at least this confident (default {DEFAULT_MIN_CONFIDENCE})")
    apply.add_argument("--max-genres", type=positive_int, default=DEFAULT_MAX_GENRES, metavar="N",
                       help=f"write at most N genres per file (default {DEFAULT_MAX_GENRES})")
    apply.add_argument("--by-album", action="store_true",
                       help="write each album's agreed genres to all its tracks")
    add_analysis_options(apply)
    add_model_option(apply)
    add_write_options(apply)

    learn = commands.add_parser(
        "learn", help="learn your own genres from the files you already tagged",
        description="Analyse what is not cached under PATH, learn the genres your tagged files carry, "
                    "store the model, and print how well it does in cross-validation by album.",
    )
    learn.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="audio files or folders")
    learn.add_argument("--min-files", type=positive_int, default=DEFAULT_MIN_FILES, metavar="N",
                       help=f"learn only genres with at least N tagged files (default {DEFAULT_MIN_FILES})")
    learn.add_argument("--forget", action="store_true", help="remove the learned model")
    learn.add_argument("--json", action="store_true", help="print the report as one JSON object")
    add_analysis_options(learn)

    cache = commands.add_parser("cache", help="report on or empty the analysis cache")
    cache.add_argument("action", choices=["info", "clear"])

    add_cleanup_commands(commands)

    add_journal_command(commands)
    history = commands.add_parser("history", help="list the batches of writes in the undo journal")
    history.add_argument("--json", action="store_true", help="print JSON Lines, one object per batch")
    for name, text in [("undo", "restore the genres a batch replaced (default: the last one)"),
                       ("finish", "finish an interrupted batch (default: the last one)")]:
        command = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        command.add_argument("batch", nargs="?", type=positive_int, metavar="BATCH", help="a batch id from history")
        if name == "undo":
            command.add_argument("--root", type=Path, metavar="FOLDER",
                                 help="the folder that held the batch's files was moved or renamed to FOLDER")
        add_write_options(command, dry_run=False)
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
        return run_terminal_command(args, out, err)
    except StateError as e:
        print(printable(f"genre-tagger {args.command}: {e}"), file=err)
        return EXIT_FILE_ERRORS


def run_terminal_command(args: argparse.Namespace, out: Output, err: Output) -> int:
    if args.command == "suggest":
        paths = list(args.paths)
        if args.demo:
            paths.append(samples_dir())
        if not paths:
            print("genre-tagger suggest: give at least one PATH, or --demo", file=err)
            return EXIT_USAGE
        try:
            return run_suggest(args, paths, out, err)
        except LookupError as e:
            print(printable(f"genre-tagger suggest: {e.args[0]}"), file=err)
            return EXIT_USAGE
    if args.command == "history":
        return run_history(args, out, err)
    if args.command == "journal":
        return run_journal_command(args, out, err)
    if args.command == "cache":
        return run_cache(args, out)
    if args.command == "learn":
        return run_learn(args, out, err)
    if args.command in ("genres", "normalise", "normalize", "rename"):
        return run_cleanup_command(args, out, err)
    return run_write_command(args, out, err)


def make_analyzer(args: argparse.Namespace, err: TextIO) -> Analyzer:
    """The analyzer the options ask for, with the learned model where ``--model`` wants
    it; LookupError if ``--model library`` finds none it can use."""
    from tagger.analysis.analyzer import open_analyzer
    from tagger.learning.learned import LearnedModelError

    analyzer = open_analyzer(args.device, args.threads, args.precision, cached=not args.no_cache)
    try:
        _, problem = analyzer.use_stored_model(getattr(args, "model", "base"))
    except LearnedModelError as e:
        raise LookupError(str(e)) from None
    if problem:
        err.write(printable(f"genre-tagger: suggesting from the bundled vocabulary only: {problem}") + "\n")
    return analyzer


def run_suggest(args: argparse.Namespace, paths: list[Path], out: TextIO, err: TextIO) -> int:
    analyzer = make_analyzer(args, err)
    progress = Progress(err)
    table = None if args.json else Table(out)
    failures = 0
    analysed = 0
    started = time.perf_counter()
    context = None if args.by_album else context_index(paths, args)
    results = AnalysisPipeline(analyzer, Depth(args.depth)).results(scan(paths), progress.start)
    records = album_records(results, args) if args.by_album else suggest_records(results, args, context)
    for record in records:
        tracks = record.get("tracks", [record])
        failures += sum(t["status"] == "error" for t in tracks)
        analysed += sum(t["status"] == "ok" for t in tracks)
        progress.clear()
        if table and args.by_album:
            table.album(record)
        elif table:
            table.row(record)
        else:
            out.write(json_line(record) + "\n")
        out.flush()
        if getattr(out, "broken", False):  # nobody reads on: stop, quietly, as `head` expects
            results.close()  # cancels the analysis and joins its threads
            progress.clear()
            return EXIT_BROKEN_PIPE
    progress.clear()
    elapsed = time.perf_counter() - started
    err.write(
        f"{analysed} file(s) analysed in {elapsed:.1f} s on {analyzer.models.provider} "
        f"({analyzer.models.precision}), {failures} problem(s)\n"
    )
    return EXIT_FILE_ERRORS if failures else EXIT_OK


def suggest_records(results: Iterator[FileResult], args: argparse.Namespace,
                    context: ContextIndex | None) -> Iterator[dict[str, Any]]:
    for result in results:
        if result.error is not None:
            yield {"path": str(result.path), "status": "error", "error": result.error}
            continue
        record = analysis_record(result.analysis, args.top, args.min_confidence, tags_or_problem(result.path))
        if context is not None and result.analysis.music_detected:
            record["audio_genres"] = record["genres"]
            record["genres"] = genre_records(context.combine(result.path, result.analysis.genres), args.top,
                                             args.min_confidence)
        yield record


def context_index(paths: Sequence[Path], args: argparse.Namespace) -> ContextIndex | None:
    """The tags of the files under ``paths`` (and beside files named directly), as
    context for their suggestions; None where ``--evidence audio`` wants none."""
    if args.evidence == "audio":
        return None
    folders = sibling_paths(paths)
    return ContextIndex.of((f.path, f.tags) for f in read_collection([*paths, *folders]))


def analysis_record(analysis: Analysis, top: int, min_confidence: float,
                    tags: tuple[TagSnapshot | None, str | None]) -> dict[str, Any]:
    """The file's record, with ``tags`` as tags_or_problem read them."""
    snapshot, tag_error = tags
    current = list(snapshot.genres) if snapshot else []
    record: dict[str, Any] = {
        "path": str(analysis.path),
        "status": "ok",
        "genres": genre_records(analysis.genres, top, min_confidence),
        "model": analysis.model,
        "descriptors": [
            {"descriptor": d.name, "kind": d.kind, "confidence": round(d.confidence, 3)}
            for d in analysis.descriptors
            if d.confidence >= DESCRIPTOR_MIN_CONFIDENCE
        ],
        "current_genres": current,
        "music_detected": analysis.music_detected,
        "duration_s": round(analysis.duration_s, 2),
        "depth": analysis.depth.value,
        "patches_analysed": analysis.patches_analysed,
        "total_patches": analysis.total_patches,
        "segments": [
            {"start_s": round(s.start_s, 2), "end_s": round(s.end_s, 2),
             "genre": s.genres[0].genre, "confidence": round(s.genres[0].confidence, 3)}
            for s in analysis.segments
        ],
        "models": [f"{m.name} {m.version}" for m in analysis.models],
        "provider": analysis.provider,
        "seconds": round(analysis.timings.total_s, 3),
        "cached": analysis.cached,
    }
    if not analysis.music_detected:
        record["message"] = "no music detected (silence or near-silence)"
    elif analysis.unlike_library:
        record["message"] = UNLIKE_LIBRARY
    if tag_error:
        record["tag_error"] = tag_error
    return record


def genre_records(genres: Sequence[GenreSuggestion], top: int, min_confidence: float) -> list[dict[str, Any]]:
    records = []
    for g in genres[:top]:
        if g.confidence >= min_confidence:
            record = {"genre": g.genre, "confidence": round(g.confidence, 3), "family": g.family, "source": g.source}
            if g.evidence:
                record["evidence"] = {source: round(value, 3) for source, value in g.evidence}
            records.append(record)
    return records


def album_records(results: Iterator[FileResult], args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """One record per album, once every file is analysed: its consensus and its tracks."""
    from tagger.library.collection import albums

    for group in albums(results):
        album = group.album
        tracks = []
        for result, advice, tags in zip(group.results, album.tracks, group.tags):
            if result.error is not None:
                tracks.append({"path": str(result.path), "status": "error", "error": result.error})
                continue
            record = analysis_record(result.analysis, args.top, args.min_confidence, tags)
            record["own_genres"] = record["genres"]
            record["genres"] = genre_records(advice.genres, args.top, args.min_confidence)
            record["album_pull"] = round(advice.pull, 2)
            if advice.disagrees:
                record["disagrees_with_album"] = True
            tracks.append(record)
        yield {"album": album.name, "status": "error" if all(t["status"] == "error" for t in tracks) else "ok",
               "genres": genre_records(album.genres, args.top, args.min_confidence), "tracks": tracks,
               "votes": album.votes}


def write_options(args: argparse.Namespace) -> WriteOptions:
    return WriteOptions(
        mode=WriteMode(args.mode), id3v23_separator=args.separator, multi_value=MultiValue(args.multi_value),
        provenance=not args.no_provenance, keep_mtime=args.keep_mtime,
        force_undecodable=args.force_undecodable,
    )


def run_write_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """set, apply, undo and finish: every file gets a result line, in order."""
    from tagger.writing.writer import GenreWriter, WriteRequest, provenance_text

    journal = open_journal(err)
    writer = GenreWriter(journal, write_options(args))
    records: list[dict[str, Any]] = []
    dry_run = getattr(args, "dry_run", False)
    try:
        if args.command in ("set", "apply"):
            command = command_line(args.command, args)
            # Recorded before scanning, so that a kill while scanning or analysing leaves an
            # unfinished batch and a following undo does not revert the batch before it.
            batch = None if dry_run else writer.start(command)
            if args.command == "set":
                events = list(scan(args.paths))
                records += [problem_record(e) for e in events if e.problem]
                provenance = None if args.no_provenance else provenance_text({"source": "set"})
                requests = [WriteRequest(e.path, args.genre, provenance=provenance) for e in events if not e.problem]
            else:
                requests = apply_requests(args, records, err, journal)
            results = writer.write(requests, command, dry_run, batch)
        elif args.command == "undo":
            summary = writer.batch_to_undo(args.batch)
            err.write(printable(f"undoing batch {summary.id} ({summary.command}, {when(summary.created)}, "
                                f"{summary.files} file(s))") + "\n")
            results = writer.undo(summary.id, args.root)
        else:
            results = writer.finish(args.batch)
        for record in records:
            emit(record, args.json, out)
        for result in results:
            record = {"path": str(result.path), "status": result.status.value,
                      "old_genres": result.old_genres, "new_genres": result.new_genres}
            if result.message:
                record["error" if result.failed else "message"] = result.message
            if result.batch is not None:
                record["batch"] = result.batch
            records.append(record)
            emit(record, args.json, out)
    except LookupError as e:
        print(printable(f"genre-tagger {args.command}: {e.args[0]}"), file=err)
        return EXIT_USAGE
    finally:
        close_journal(journal)
    failures = sum(r["status"] == WriteStatus.ERROR for r in records)
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    err.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n" if counts else "nothing to do\n")
    return EXIT_FILE_ERRORS if failures else EXIT_OK


def apply_requests(args: argparse.Namespace, records: list[dict[str, Any]], err: TextIO,
                   journal: Journal) -> list:
    """Analyse the files and accept, through a review session, what reaches the threshold."""
    from tagger.review.session import ReviewSession

    analyzer = make_analyzer(args, err)
    progress = Progress(err)
    session = ReviewSession(Settings(max_genres=args.max_genres, min_confidence=args.min_confidence,
                                     provenance=not args.no_provenance, evidence=args.evidence), journal)
    context = None if args.by_album else context_index(args.paths, args)
    if context is not None:
        session.use_context(context)
    results = AnalysisPipeline(analyzer, Depth(args.depth)).results(scan(args.paths), progress.start)
    if args.by_album:
        requests = album_requests(session, results, args, records)
        progress.clear()
        return requests
    requests = []
    for result in results:
        progress.clear()
        item = session.review(result)
        if item.state is ReviewState.ERROR:
            records.append({"path": str(result.path), "status": "error", "error": item.error})
        elif not result.analysis.music_detected or not session.accept_above(args.min_confidence, [item]):
            reason = ("no music detected" if not result.analysis.music_detected
                      else f"no genre reaches confidence {args.min_confidence:g}")
            records.append({"path": str(result.path), "status": "skipped", "message": reason})
        else:
            requests += session.write_requests([item])
    progress.clear()
    return requests


def album_requests(session: ReviewSession, results: Iterator[FileResult], args: argparse.Namespace,
                   records: list[dict[str, Any]]) -> list:
    """Each album's accepted genres, for every track of it that was analysed."""
    from tagger.library.collection import albums
    from tagger.review.items import accepted_genres

    requests = []
    for group in albums(results):
        accepted = accepted_genres(group.album.genres, args.min_confidence, args.max_genres)
        for result in group.results:
            item = session.review(result)
            if item.state is ReviewState.ERROR:
                records.append({"path": str(result.path), "status": "error", "error": item.error})
            elif not item.accept_album(accepted):
                records.append({"path": str(result.path), "status": "skipped",
                                "message": f"no genre of the album {group.album.name} reaches confidence "
                                           f"{args.min_confidence:g}"})
            else:
                requests += session.write_requests([item])
    return requests


def problem_record(event: ScanEvent) -> dict[str, Any]:
    return {"path": str(event.path), "status": "error", "error": event.problem}


def command_line(name: str, args: argparse.Namespace) -> str:
    return " ".join([name, *(str(p) for p in args.paths)])[:500]


def emit(record: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json_line(record) + "\n")
    else:
        lines = [f"{record['status']:<9} {record['path']}"]
        if "new_genres" in record and record["status"] in SUCCEEDED:
            lines.append(f"          {', '.join(record['old_genres']) or '(no genre)'} -> "
                         f"{', '.join(record['new_genres']) or '(no genre)'}")
        detail = record.get("error") or record.get("message")
        if detail:
            lines.append(f"          {detail}")
        write_lines(out, lines)
    out.flush()


def run_learn(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagger.learning.learned import NothingToLearn, default_model_path, forget
    from tagger.library.collection import learn

    if args.forget:
        removed = forget()
        out.write(printable(f"removed the learned model {default_model_path()}") + "\n" if removed
                  else "nothing was learned\n")
        return EXIT_OK
    paths = args.paths or learned_roots()
    if not paths:
        print("genre-tagger learn: give at least one PATH (or --forget)", file=err)
        return EXIT_USAGE
    # Learning takes minutes: a model that could not be stored would be learned for nothing.
    check_savable("the learned model", default_model_path())
    if not args.paths:
        err.write(printable("genre-tagger learn: learning again from " + ", ".join(map(str, paths))) + "\n")
    analyzer = make_analyzer(args, err)
    progress = Progress(err)
    try:
        outcome = learn(paths, analyzer, Depth(args.depth), args.min_files, progress.start,
                        on_plan=lambda plan: err.write(printable(f"genre-tagger learn: {plan.text()}") + "\n"))
    except NothingToLearn as e:
        progress.clear()
        print(printable(f"genre-tagger learn: {e}"), file=err)
        return EXIT_FILE_ERRORS
    progress.clear()
    path = outcome.model.save()
    report = outcome.model.report
    if args.json:
        out.write(json_line({"model": str(path), "genres": outcome.model.genres, "scanned": outcome.scanned,
                             "tagged": outcome.tagged, "report": report.to_json(),
                             "problems": [{"path": str(p), "error": e} for p, e in outcome.problems]}) + "\n")
    else:
        write_lines(out, learn_summary(outcome, path))
    for problem_path, error in outcome.problems:
        err.write(printable(f"genre-tagger learn: {problem_path}: {error}") + "\n")
    return EXIT_OK


def learned_roots() -> list[Path]:
    """The folders the stored model learned from, whatever analysis models or version of
    Genre Tagger it was made by: so that after an update, a plain `learn` learns again
    from the same music."""
    from tagger.learning.learned import stored_roots

    return [Path(root) for root in stored_roots()]


def learn_summary(outcome: LearnOutcome, path: Path) -> list[str]:
    """The report in plain words, with how sure each figure is, then the exact figures."""
    from tagger.learning.learned import in_plain_words

    model, report = outcome.model, outcome.model.report
    lines = [f"learned {len(model.genres)} genres from {report.files} tagged files "
             f"({outcome.tagged} tagged of {outcome.scanned} scanned) in {report.seconds:.1f} s; saved {path}"]
    words = in_plain_words(report)
    if report.folds >= 2:
        held = "album" if report.grouping == "album" else "file"
        lines.append(f"tested on {report.tested} tagged files, each {held} left out of learning in turn "
                     f"(cross-validation by {report.grouping}, {report.folds} folds):")
    lines += [f"  {line}" for line in words.figures + ([words.classifier] if words.classifier else [])]
    lines += [f"to do: {line}" for line in words.advice]
    if report.grouping != "album":
        lines.append("  most genres sit on one album or two, so single files were held out, not albums: "
                     "these figures promise less for new albums")
    if report.untested:
        lines.append(f"  {report.untested} file(s) not tested: no other album carries their genres")
    lines.append(f"  {'genre':<28} {'files':>6} {'precision':>10} {'recall':>7}")
    for g in report.genres:
        lines.append(f"  {g.genre[:28]:<28} {g.files:>6} {percent(g.precision):>10} {percent(g.recall):>7}"
                     + ("  few examples" if g.few else ""))
    if report.reliability:
        lines.append(f"calibration: expected calibration error {report.expected_calibration_error:.1%} "
                     f"(temperature {report.temperature:.2f})")
        lines.append(f"  {'stated':<10} {'files':>6} {'mean':>6} {'right':>6}")
        for b in report.reliability:
            stated = f"{b.low:.0%}-{b.high:.0%}"
            lines.append(f"  {stated:<10} {b.files:>6} {b.confidence:>6.0%} {b.accuracy:>6.0%}")
    if report.confusions:
        lines.append("most confused: " + ", ".join(f"{a} -> {b} ({n})" for a, b, n in report.confusions[:8]))
    if report.thin:
        lines.append("not learned, too few files: " + counted(report.thin, 20))
    if report.junk:
        lines.append("ignored, not genres: " + counted({g or "(empty)": n for g, n in report.junk.items()}, 10))
    return lines


def counted(counts: dict[str, int], shown: int) -> str:
    """``A (3), B (2)``, the first ``shown`` of them, and how many more."""
    text = ", ".join(f"{name} ({n})" for name, n in list(counts.items())[:shown])
    return text + (f" and {len(counts) - shown} more" if len(counts) > shown else "")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def run_cache(args: argparse.Namespace, out: TextIO) -> int:
    from tagger.analysis.cache import AnalysisCache

    cache = AnalysisCache()
    try:
        if args.action == "clear":
            out.write(printable(f"removed {cache.clear()} cached analyses from {cache.path}") + "\n")
        else:
            info = cache.info()
            out.write(printable(f"{info.entries} cached analyses, {info.bytes / 1e6:.1f} MB, in {info.path}") + "\n")
    finally:
        cache.close()
    return EXIT_OK


def run_history(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagger.writing.journal import BatchState

    journal = open_journal(err)
    batches = journal.batches()
    if not batches and not args.json:
        out.write("the undo journal is empty\n")
    for batch in batches:
        if args.json:
            out.write(json_line({"batch": batch.id, "time": when(batch.created), "command": batch.command,
                                 "mode": batch.mode, "state": batch.state, "files": batch.counts}) + "\n")
        else:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(batch.counts.items())) or "no files"
            unfinished = "" if batch.state is BatchState.DONE else "  UNFINISHED"
            out.write(printable(f"{batch.id:>5}  {when(batch.created)}  {batch.mode:<7}  {counts}  "
                                f"({batch.command}){unfinished}") + "\n")
    journal.close()
    return EXIT_OK


# json.dumps escapes C0 controls, but without ensure_ascii it leaves DEL and the C1 controls
# raw, and U+009B starts a terminal command as ESC [ does. Those characters occur only
# inside JSON strings, so as \u escapes the values stay exact.
JSON_CONTROL_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x7F, 0xA0)}


def json_line(record: dict[str, Any]) -> str:
    line = json.dumps(record, ensure_ascii=False).translate(JSON_CONTROL_ESCAPES)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # A file name that is not valid UTF-8 (surrogate-escaped by Python) cannot be
        # written raw; \u escapes keep the line valid JSON that round-trips in Python.
        line = json.dumps(record)
    return line


class Table:
    """The plain, human-readable output."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.width = shutil.get_terminal_size((100, 20)).columns

    def album(self, record: dict[str, Any]) -> None:
        write = self.out.write
        write(printable(f"{record['album']}  ({len(record['tracks'])} track(s))") + "\n")
        write("    album: " + (genre_line(record["genres"]) or "no genre above the confidence threshold") + "\n")
        for track in record["tracks"]:
            self.row(track, indent="    ")

    def row(self, record: dict[str, Any], indent: str = "") -> None:
        write = self.out.write
        write(indent + printable(record["path"]) + "\n")
        indent += "    "
        if record["status"] == "error":
            write(indent + printable(f"error: {record['error']}") + "\n")
            return
        if not record["music_detected"]:
            write(f"{indent}{record['message']}\n")
        elif record["genres"]:
            write(indent + genre_line(record["genres"]) + "\n")
        else:
            write(f"{indent}no genre above the confidence threshold\n")
        if record["music_detected"] and record.get("message"):
            write(indent + printable(record["message"]) + "\n")
        details = []
        standout = [d for d in record["descriptors"] if d["confidence"] >= STANDOUT_DESCRIPTOR]
        if standout:
            details.append("sounds: " + ", ".join(d["descriptor"] for d in standout[:5]))
        details.append("now tagged: " + (", ".join(record["current_genres"]) or "(no genre)"))
        write(indent + printable(" | ".join(details)) + "\n")


def genre_line(genres: list[dict[str, Any]]) -> str:
    """Genres with their confidence; where sources mix, each but the learned ones says
    what vouched for it most (base, album, artist, folder)."""
    mixed = len({g["source"] for g in genres}) > 1
    marked = [f"{g['genre']} {g['confidence']:.0%}"
              + (f" ({g['source']})" if mixed and g["source"] != "library" else "") for g in genres]
    return printable("   ".join(marked))


class Output:
    """Standard output or error whose reader may go away (`genre-tagger ... | head`).

    A write after that is dropped instead of raising BrokenPipeError, and ``broken``
    says so: a write batch goes on to its end, ``suggest`` stops. The descriptor is
    pointed at /dev/null, so Python's own flush at exit finds nothing to complain
    about ("Exception ignored ... BrokenPipeError")."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self.stream.write(text)
            except OSError as e:
                self._failed(e)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.stream.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, error: OSError) -> None:
        if not isinstance(error, BrokenPipeError) and error.errno != errno.EPIPE:
            raise error
        self.broken_pipe()

    def broken_pipe(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self.stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError):  # a stream without a descriptor (a test's capture)
            pass

    def isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class CurrentStderrHandler(logging.StreamHandler):
    """Logs to whatever ``sys.stderr`` is when a record comes (DecoderNoteFilter swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(TerminalFormatter("genre-tagger: %(message)s"))

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        if not isinstance(sys.exc_info()[1], BrokenPipeError):  # stderr gone: nowhere to tell
            super().handleError(record)


class TerminalFormatter(logging.Formatter):
    """Messages name files and folders, so they are printable; a traceback keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


class Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.started = 0
        self.enabled = err.isatty()

    def start(self, path: Path) -> None:
        self.started += 1
        if self.enabled:
            line = f"[{self.started}] {path.name}"
            self.err.write("\r" + printable(line)[:79].ljust(79))
            self.err.flush()

    def clear(self) -> None:
        if self.enabled:
            self.err.write("\r" + " " * 79 + "\r")
            self.err.flush()


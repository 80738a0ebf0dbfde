"""``apply``: analyse files and write the suggestions that pass the threshold."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tagger.analysis.analyzer import FileResult
from tagger.analysis.pipeline import AnalysisPipeline
from tagger.audio.excerpt import Depth
from tagger.cli.batches import new_batch, write_batch
from tagger.cli.options import (
    add_analysis_options,
    add_model_option,
    add_write_options,
    confidence,
    context_index,
    make_analyzer,
    positive_int,
    write_options,
)
from tagger.cli.output import ProgressLine
from tagger.files.scan import scan
from tagger.genres.suggestion import DEFAULT_MAX_GENRES, DEFAULT_MIN_CONFIDENCE
from tagger.review.items import ReviewState
from tagger.review.session import ReviewSession
from tagger.settings import Settings
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest


def add_parser(commands: Any) -> None:
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
    apply.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Apply as the app's Apply does: a review session accepts what reaches the threshold
    and builds the writer, so both write exactly what was accepted."""
    sessions: list[ReviewSession] = []

    def session_writer(journal: Journal) -> GenreWriter:
        sessions.append(ReviewSession(Settings(max_genres=args.max_genres, min_confidence=args.min_confidence,
                                               provenance=not args.no_provenance, evidence=args.evidence),
                                      journal))
        return sessions[0].writer(options=write_options(args))

    def requests(writer: GenreWriter, records: list[dict[str, Any]]) -> list[WriteRequest]:
        return accepted_requests(args, records, err, sessions[0])

    return write_batch(args, out, err, new_batch(args, requests), session_writer)


def accepted_requests(args: argparse.Namespace, records: list[dict[str, Any]], err: TextIO,
                      session: ReviewSession) -> list[WriteRequest]:
    """Analyse the files and accept, through the review session, what reaches the threshold."""
    analyzer = make_analyzer(args, err)
    progress = ProgressLine(err)
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
        if item.state is ReviewState.ERROR or result.analysis is None:
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
                   records: list[dict[str, Any]]) -> list[WriteRequest]:
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

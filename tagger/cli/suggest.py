"""``suggest``: analyse files and print their genre suggestions, writing nothing."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from tagger.analysis.analyzer import Analysis, FileResult
from tagger.analysis.pipeline import AnalysisPipeline
from tagger.audio.excerpt import Depth
from tagger.cli.options import (
    EXIT_BROKEN_PIPE,
    EXIT_FILE_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    add_analysis_options,
    add_model_option,
    confidence,
    context_index,
    make_analyzer,
    positive_int,
)
from tagger.cli.output import ProgressLine, Table, json_line
from tagger.files.scan import scan
from tagger.genres.suggestion import GenreSuggestion
from tagger.learning.learned import UNLIKE_LIBRARY
from tagger.library.context import ContextIndex
from tagger.resources import samples_dir
from tagger.tags import TagSnapshot, tags_or_problem
from tagger.text import printable

# Descriptors are shown only with clear evidence: well above a typical track's level.
DESCRIPTOR_MIN_CONFIDENCE = 0.5


def add_parser(commands: Any) -> None:
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
    suggest.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths = list(args.paths)
    if args.demo:
        paths.append(samples_dir())
    if not paths:
        print("genre-tagger suggest: give at least one PATH, or --demo", file=err)
        return EXIT_USAGE
    try:
        return suggest(args, paths, out, err)
    except LookupError as e:
        print(printable(f"genre-tagger suggest: {e.args[0]}"), file=err)
        return EXIT_USAGE


def suggest(args: argparse.Namespace, paths: list[Path], out: TextIO, err: TextIO) -> int:
    analyzer = make_analyzer(args, err)
    progress = ProgressLine(err)
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
        analysis = result.analysis
        if analysis is None:
            yield {"path": str(result.path), "status": "error", "error": result.error}
            continue
        record = analysis_record(analysis, args.top, args.min_confidence, tags_or_problem(result.path))
        if context is not None and analysis.music_detected:
            record["audio_genres"] = record["genres"]
            record["genres"] = genre_records(context.combine(result.path, analysis.genres), args.top,
                                             args.min_confidence)
        yield record


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
            if result.analysis is None:
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

"""``learn``: learn the person's own genres from the files they tagged, and report how well it does."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from tagger.audio.excerpt import Depth
from tagger.cli.options import (
    EXIT_FILE_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    add_analysis_options,
    make_analyzer,
    positive_int,
)
from tagger.cli.output import ProgressLine, json_line
from tagger.files.state import check_savable
from tagger.learning.learned import DEFAULT_MIN_FILES
from tagger.library.collection import LearnOutcome
from tagger.text import printable, write_lines


def add_parser(commands: Any) -> None:
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
    learn.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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
    progress = ProgressLine(err)
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

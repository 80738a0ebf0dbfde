"""What the commands share in their command lines: exit codes, argument types, the option
groups, and what the options ask for."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tagger.analysis.analyzer import Analyzer
from tagger.analysis.models import Device, Precision
from tagger.audio.excerpt import Depth
from tagger.learning.learned import ModelChoice
from tagger.library.collection import read_collection
from tagger.library.context import ContextIndex, sibling_paths
from tagger.settings import EvidenceChoice
from tagger.tags import MULTI_VALUE_NOTES, MultiValue, WriteMode, WriteOptions
from tagger.text import printable

EXIT_OK, EXIT_FILE_ERRORS, EXIT_USAGE = 0, 1, 2
# What a shell reports for a program killed by SIGPIPE (128 + 13): suggest stops when
# its reader goes away (`| head`). A write batch finishes and keeps its own status.
EXIT_BROKEN_PIPE = 141


def confidence(text: str) -> float:
    """An argument between 0 and 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def positive_int(text: str) -> int:
    """An argument of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """How the audio is analysed: depth, device, precision, threads, cache, -v."""
    parser.add_argument(
        "--depth", type=Depth, choices=list(Depth), default=Depth.ADAPTIVE,
        help="adaptive: a few patches, more while the genre is open (default); fast: a fixed few; "
             "full: every 3 s patch, building on a cached analysis",
    )
    parser.add_argument("--device", type=Device, choices=list(Device), default=Device.AUTO,
                        help="where inference runs (default auto)")
    parser.add_argument(
        "--precision", type=Precision, choices=list(Precision), default=Precision.AUTO,
        help="model weights: fp32 exact; int8 1.4-1.6x faster only on CPUs with int8 dot products (AVX-512 VNNI, "
             "measured on an AMD EPYC), no faster and less faithful without them (default auto: int8 where the "
             "CPU has them and a one-off check finds it faithful, else fp32)",
    )
    parser.add_argument("--threads", type=positive_int, help="files analysed at once (default: CPU cores)")
    parser.add_argument("--no-cache", action="store_true", help="analyse again, ignoring and not filling the cache")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log which execution provider is used; show decoders' notes on damaged files")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """Which genres are suggested, and from what evidence."""
    parser.add_argument(
        "--model", type=ModelChoice.named, choices=list(ModelChoice), default=ModelChoice.AUTO,
        help="auto: your own genres where `learn` made a model, else the bundled vocabulary (default); "
             "base: the bundled vocabulary only; learned: the learned model, or fail ('library' still "
             "means learned)",
    )
    parser.add_argument(
        "--evidence", type=EvidenceChoice, choices=list(EvidenceChoice), default=EvidenceChoice.CONTEXT,
        help="context: the audio, and the genres of the file's album mates, its artist's other albums "
             "and genre-named folders (default); audio: the audio's opinion alone",
    )


def add_write_options(parser: argparse.ArgumentParser, dry_run: bool = True, given_genres: bool = True) -> None:
    """How a command writes genres. Those it is given (set, apply, undo, finish) take a mode,
    a storage and provenance; normalise and rename write what each file's plan says."""
    if given_genres:
        parser.add_argument("--mode", choices=[m.value for m in WriteMode], default=WriteMode.REPLACE.value,
                            help="replace: exactly these genres (default); merge: add them to the existing ones")
    if dry_run:
        parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    add_separator(parser)
    if given_genres:
        parser.add_argument("--multi-value", choices=[m.value for m in MultiValue],
                            default=MultiValue.SEPARATE.value,
                            help=multi_value_help("separate: one value per genre (default)"))
        parser.add_argument("--no-provenance", action="store_true",
                            help="do not record that the genre came from Genre Tagger")
    parser.add_argument("--keep-mtime", action="store_true", help="keep the files' modification times")
    parser.add_argument("--force-undecodable", action="store_true",
                        help="RISKY: also write files whose audio does not decode, so that no check can show "
                             "the write left their audio intact")
    parser.add_argument("--json", action="store_true", help="print JSON Lines, one object per file")


def multi_value_help(separate: str) -> str:
    """``--multi-value``'s help: each storage style, ``separate`` naming the first, with what readers show of it."""
    return (f"{separate}. {MULTI_VALUE_NOTES[MultiValue.SEPARATE]} joined: one value joined with the separator. "
            f"{MULTI_VALUE_NOTES[MultiValue.JOINED]}")


def add_separator(parser: argparse.ArgumentParser) -> None:
    """The text that joins several genres in one value, where a format or storage joins them."""
    parser.add_argument("--separator", default=WriteOptions.separator, metavar="TEXT",
                        help="joins several genres in ID3v2.3 tags, and in joined storage (default '; ')")


def add_batch_argument(parser: argparse.ArgumentParser) -> None:
    """The batch that undo and finish take, the last one where none is given."""
    parser.add_argument("batch", nargs="?", type=positive_int, metavar="BATCH", help="a batch id from history")


def write_options(args: argparse.Namespace) -> WriteOptions:
    """The WriteOptions that add_write_options' options ask for."""
    return WriteOptions(
        mode=WriteMode(args.mode), separator=args.separator, multi_value=MultiValue(args.multi_value),
        provenance=not args.no_provenance, keep_mtime=args.keep_mtime,
        force_undecodable=args.force_undecodable,
    )


def make_analyzer(args: argparse.Namespace, err: TextIO) -> Analyzer:
    """The analyzer the options ask for, with the learned model where ``--model`` wants
    it; LookupError if ``--model learned`` finds none it can use."""
    from tagger.analysis.analyzer import open_analyzer
    from tagger.learning.learned import LearnedModelError

    analyzer = open_analyzer(args.device, args.threads, args.precision, cached=not args.no_cache)
    try:
        _, problem = analyzer.use_stored_model(getattr(args, "model", ModelChoice.BASE))
    except LearnedModelError as e:
        raise LookupError(str(e)) from None
    if problem:
        err.write(printable(f"genre-tagger: suggesting from the bundled vocabulary only: {problem}") + "\n")
    return analyzer


def context_index(paths: Sequence[Path], args: argparse.Namespace) -> ContextIndex | None:
    """The tags of the files under ``paths`` (and beside files named directly), as
    context for their suggestions; None where ``--evidence audio`` wants none."""
    if args.evidence is EvidenceChoice.AUDIO:
        return None
    folders = sibling_paths(paths)
    return ContextIndex.of((f.path, f.tags) for f in read_collection([*paths, *folders]))

"""What other programs show after Genre Tagger writes into real tag-library test files.

    python benchmarks/reader_corpus.py [FIXTURES] [--multi-value separate|joined] [--tree PATH]

Copies every file of FIXTURES (default ../shared/fixtures/tagged, the 891 files of
../shared/README.md) into a scratch folder, writes "Interop Jazz" and "Second Genre" into
each with ``GenreWriter``, as ``genre-tagger set`` does, and reads every written file back
with FFmpeg (PyAV's and the system's ffprobe), TagLib (kid3-cli) and exiftool
(tests/support/readers.py, which tests/tags/test_readers.py uses too). It prints, by the
file's extension and reader, how many written files show the first written genre, only a
written genre but not first, their old genre, some other genre, or none; a reader that
shows no tag of the file at all, not even its title, is counted apart, as is one not
installed. Then it lists each file that shows its old genre or none. Issue 26 found 31 of
76 WAV, Monkey's Audio, WavPack and TrueAudio files showing none or the old one in
FFmpeg 5.1.

--tree writes with another source tree's writer (an older checkout, say), to compare.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRITTEN = ["Interop Jazz", "Second Genre"]
VERDICTS = ("first", "written", "old", "other", "none", "no tags", "-")


def verdict(shown, old: list[str], holds_title: bool, shown_genres) -> str:
    """How one reader's view of one written file reads: a VERDICTS word."""
    if shown is None:
        return "-"
    if not shown.genre:
        return "no tags" if not shown.title and holds_title else "none"
    genres = shown_genres(shown.genre)
    if genres and set(genres) <= set(WRITTEN):
        return "first" if genres[0] == WRITTEN[0] else "written"
    if old and {g.casefold() for g in genres} & {g.casefold() for g in old}:
        return "old"
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures", nargs="?", type=Path, default=REPO.parent / "shared" / "fixtures" / "tagged")
    parser.add_argument("--multi-value", default="separate", choices=["separate", "joined"])
    parser.add_argument("--tree", type=Path, default=REPO, help="the source tree whose writer writes")
    args = parser.parse_args()
    if not args.fixtures.is_dir():
        print(f"reader_corpus: no fixtures at {args.fixtures} (see ../shared/README.md)", file=sys.stderr)
        return 2
    sys.path[:0] = [str(args.tree), str(REPO / "tests")]
    from support import readers

    from tagger.tags import MultiValue, WriteOptions, read_tags, tags_or_problem
    from tagger.writing.journal import Journal
    from tagger.writing.writer import GenreWriter, WriteRequest

    for name, version in readers.versions().items():
        print(f"- {name}: {version}")
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    failures: list[str] = []
    written = tried = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        journal = Journal(folder / "journal.sqlite3")
        writer = GenreWriter(journal, WriteOptions(multi_value=MultiValue(args.multi_value)))
        try:
            sources = sorted(p for p in args.fixtures.rglob("*") if p.is_file() and p.suffix.lower() != ".tsv")
            for index, source in enumerate(sources):
                copy = folder / "files" / f"{index:04d}{source.suffix}"
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(source, copy)
                snapshot, _ = tags_or_problem(copy)
                if snapshot is None:
                    continue
                tried += 1
                (result,) = writer.write([WriteRequest(copy, WRITTEN)], "reader corpus")
                if result.status != "written":
                    continue
                written += 1
                holds_title = bool(read_tags(copy).title)
                extension = source.suffix.lower() or "(none)"
                for reader, read in readers.READERS.items():
                    try:
                        shown = read(copy)
                    except Exception as error:  # a reader failing on one file is a figure, not a stop
                        shown = readers.Shown("", "")
                        failures.append(f"{reader} failed on {source.relative_to(args.fixtures)}: {error}")
                    word = verdict(shown, snapshot.genres, holds_title, readers.shown_genres)
                    counts[extension, reader][word] += 1
                    if word in ("old", "none"):
                        failures.append(f"{reader} shows {word} ({shown.genre!r}) for "
                                        f"{source.relative_to(args.fixtures)} (was {snapshot.genres})")
        finally:
            journal.close()
    print(f"\n{written} of {tried} readable files written ({args.multi_value}); counts: "
          + ", ".join(VERDICTS) + "\n")
    print("| extension | reader | " + " | ".join(VERDICTS) + " |")
    print("| --- | --- |" + " ---: |" * len(VERDICTS))
    for (extension, reader), counter in sorted(counts.items()):
        print(f"| {extension} | {reader} | " + " | ".join(str(counter[v]) for v in VERDICTS) + " |")
    totals = {reader: Counter() for reader in readers.READERS}
    for (_, reader), counter in counts.items():
        totals[reader].update(counter)
    for reader, counter in totals.items():
        print(f"| all | {reader} | " + " | ".join(str(counter[v]) for v in VERDICTS) + " |")
    print(f"\n{len(failures)} old, none or failed:")
    for line in failures:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

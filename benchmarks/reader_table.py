"""What other programs show after Genre Tagger writes two genres: the table in docs/formats.md.

    python benchmarks/reader_table.py [--tree PATH]

Makes one file of every kind the test suite makes (tests/support/tagfiles.py: KINDS and
MORE_KINDS, each holding the genre "Rock"), writes "Interop Jazz" and "Second Genre" into
it through ``GenreWriter``, as ``genre-tagger set`` does, once stored as separate values and
once joined, and prints a Markdown table of what FFmpeg (PyAV's, and the system's ffprobe),
TagLib (kid3-cli) and exiftool show as its genre (tests/support/readers.py, which
tests/tags/test_readers.py uses too), after the versions of the readers.

In the table A is "Interop Jazz" and B "Second Genre", written as the reader shows them:
"A; B" is one value joined by us, "A;B" and "A | B" are two values FFmpeg joined or printed
twice, "A/B" and "A|B" are exiftool's and kid3-cli's joins, "AB" two values run together.
"none" is no genre; "no tags" a reader that shows no tag of that file, not even its title;
"-" a reader that is not installed.

--tree writes with another source tree's writer (an older checkout, say), to compare.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The kinds in the order of the table, with what a person would call them.
KIND_NAMES = {
    "mp3-id3v24": "MP3, ID3v2.4",
    "mp3-id3v23": "MP3, ID3v2.3",
    "mp3-id3v22": "MP3, ID3v2.2",
    "mp3-id3v1": "MP3, ID3v1 alone (gains ID3v2.3)",
    "mp3-untagged": "MP3, untagged (gains ID3v2.3)",
    "mp3-id3v24-id3v1": "MP3, ID3v2.4 and ID3v1",
    "wav": "WAV, id3 chunk (ID3v2.3)",
    "wav-sndfile-info": "WAV, id3 chunk and LIST/INFO with IGNR (libsndfile's)",
    "wav-sndfile-info-no-genre": "WAV, id3 chunk and LIST/INFO without IGNR (libsndfile's)",
    "wav-info": "WAV, id3 chunk and LIST/INFO with IGNR after it",
    "aiff": "AIFF, ID3v2.4",
    "dsf": "DSF, ID3v2.4",
    "true-audio": "True Audio, ID3v2.4",
    "true-audio-id3v1": "True Audio, ID3v2.4 and ID3v1",
    "flac": "FLAC",
    "ogg-vorbis": "Ogg Vorbis",
    "opus": "Opus",
    "ogg-flac": "Ogg FLAC",
    "m4a-aac": "MP4 (AAC)",
    "m4a-alac": "MP4 (ALAC)",
    "wma": "WMA (ASF)",
    "wavpack": "WavPack, APEv2",
    "wavpack-id3v1": "WavPack, APEv2 and ID3v1",
    "monkeys-audio": "Monkey's Audio, APEv2",
    "monkeys-audio-id3v1": "Monkey's Audio, APEv2 and ID3v1",
}
WRITTEN = ["Interop Jazz", "Second Genre"]


def cell(shown, holds_title: bool) -> str:
    if shown is None:
        return "-"
    if not shown.title and not shown.genre and holds_title:
        return "no tags"
    if not shown.genre:
        return "none"
    text = shown.genre.replace(WRITTEN[0], "A").replace(WRITTEN[1], "B")
    return f"`{text}`".replace("|", "\\|")  # a pipe ends a Markdown table's cell, in code too


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the source tree whose writer writes")
    args = parser.parse_args()
    sys.path[:0] = [str(args.tree), str(REPO / "tests")]
    from support import readers, tagfiles

    from tagger.tags import MultiValue, WriteOptions, read_tags
    from tagger.writing.journal import Journal
    from tagger.writing.writer import GenreWriter, WriteRequest

    # A kind added to the test suite since this list was written is shown by its own name, last.
    kinds = {**KIND_NAMES, **{kind: kind for kind in [*tagfiles.KINDS, *tagfiles.MORE_KINDS] if kind not in KIND_NAMES}}
    for name, version in readers.versions().items():
        print(f"- {name}: {version}")
    print()
    print("| file | stored | " + " | ".join(readers.READERS) + " |")
    print("| --- | --- |" + " --- |" * len(readers.READERS))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        journal = Journal(folder / "journal.sqlite3")
        try:
            for kind, name in kinds.items():
                for style in MultiValue:
                    path = tagfiles.make(folder / style.value, kind)
                    writer = GenreWriter(journal, WriteOptions(multi_value=style))
                    (result,) = writer.write([WriteRequest(path, WRITTEN)], "reader table")
                    if result.status != "written":
                        print(f"| {name} | {style.value} | not written: {result.message} |")
                        continue
                    holds_title = bool(read_tags(path).title)
                    cells = [cell(read(path), holds_title) for read in readers.READERS.values()]
                    print(f"| {name} | {style.value} | " + " | ".join(cells) + " |", flush=True)
        finally:
            journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What other programs show after a write: two genres written into one file of every kind
the suite makes (tagfiles.KINDS and MORE_KINDS: every tag system, and the layouts that carry
a second genre field), in both storage styles, then read back by FFmpeg (through PyAV, and
the system's ffprobe), TagLib (kid3-cli) and exiftool (tests/support/readers.py).

A reader must show a genre that was written and none other: not the file's old genre, not
none. FFmpeg, and every reader of a joined value, must show the first genre first. Where a
reader shows a trailing ID3v1 tag instead of the file's main tag, it must show the genre
that tag's byte names, which must not be the old genre or none (ID3v1 holds one genre from
a fixed list). A program that is not installed, or that shows no tag of the file at all
(not even the title it holds), is skipped with the reason. docs/formats.md tabulates what
each reader shows (benchmarks/reader_table.py).
"""

from __future__ import annotations

import pytest
from mutagen.id3 import TCON
from support import readers, tagfiles
from support.writes import write_one

from tagger.tags import MultiValue, WriteOptions, read_tags
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter

WRITTEN = ["Interop Jazz", "Second Genre"]
OLD = "Rock"  # every kind holds it before the write
V1_TITLE = "v1 title"  # the title of every ID3v1 tag tagfiles makes
KINDS = [*tagfiles.KINDS, *tagfiles.MORE_KINDS]
FFMPEG = ("FFmpeg (PyAV)", "ffprobe")

# What a reader cannot show whatever we write: skipped with the reason, not marked as a failure
# to mend (a strict mark would break on a reader version that does better).
RUNS_APE_VALUES_TOGETHER = ("exiftool runs separate APEv2 values together ('Interop JazzSecond Genre'): the "
                            "reason to store them joined (docs/formats.md)")
READER_LIMITS = {("exiftool", kind, MultiValue.SEPARATE): RUNS_APE_VALUES_TOGETHER
                 for kind in ("monkeys-audio", "monkeys-audio-id3v1")}
# (reader, kind) or (reader, kind, style): a failure to mend, marked strictly. None is left of
# issue 26's (the WAV INFO genre and the ID3v1 genre byte are kept in step now).
EXPECTED_FAILURES: dict[tuple, str] = {}


def case(reader: str, kind: str, style: MultiValue):
    reason = EXPECTED_FAILURES.get((reader, kind)) or EXPECTED_FAILURES.get((reader, kind, style))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(reader, kind, style, marks=marks, id=f"{reader}-{kind}-{style.value}")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """``written(kind, style)``: a file of ``kind`` that WRITTEN was written into, stored in ``style``;
    each made and written once for the module."""
    folder = tmp_path_factory.mktemp("readers")
    journals, made = {}, {}

    def write(kind: str, style: MultiValue):
        if (kind, style) not in made:
            if style not in journals:
                journals[style] = Journal(folder / f"journal-{style.value}.sqlite3")
            writer = GenreWriter(journals[style], WriteOptions(multi_value=style))
            path = tagfiles.make(folder / style.value, kind)
            result = write_one(writer, path, WRITTEN)
            assert result.status == "written", result.message
            made[kind, style] = path
        return made[kind, style]

    yield write
    for journal in journals.values():
        journal.close()


def id3v1_genre(path) -> str | None:
    """The genre a trailing ID3v1 tag's byte names ("" for one outside the list); None without the tag."""
    data = path.read_bytes()
    if data[-128:-125] != b"TAG":
        return None
    number = data[-1]
    return TCON.GENRES[number] if number < len(TCON.GENRES) else ""


@pytest.mark.parametrize("reader, kind, style",
                         [case(reader, kind, style) for reader in readers.READERS for kind in KINDS
                          for style in MultiValue])
def test_each_reader_shows_the_written_genres_and_no_other(written, reader, kind, style):
    path = written(kind, style)
    shown = readers.READERS[reader](path)
    if shown is None:
        pytest.skip(f"{reader} is not installed")
    if not shown.title and read_tags(path).title:
        pytest.skip(f"{reader} shows no tag of this file, not even its title")
    genres = readers.shown_genres(shown.genre)
    if (reader, kind, style) in READER_LIMITS and not set(genres) <= set(WRITTEN):
        pytest.skip(READER_LIMITS[reader, kind, style])
    v1 = id3v1_genre(path)
    if v1 is not None and shown.title == V1_TITLE and shown.genre == v1:
        assert v1 not in ("", OLD), f"{reader} shows the ID3v1 tag's genre {v1!r}"
        return
    assert genres and set(genres) <= set(WRITTEN), f"{reader} shows {shown.genre!r}"
    if reader in FFMPEG or style is MultiValue.JOINED:
        assert genres[0] == WRITTEN[0], f"{reader} shows {shown.genre!r}"
    if style is MultiValue.JOINED:
        assert genres == WRITTEN, f"{reader} shows {shown.genre!r}"


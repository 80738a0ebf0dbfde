"""The genre byte of a trailing ID3v1 tag (MP3, TrueAudio, WavPack and the other APEv2 files):
the ID3v1 genre nearest the first genre written, so that FFmpeg, which reads that tag in
TrueAudio and WavPack files, shows a genre; everything else in the tag stays as it was,
and an undo puts the byte back."""

import io
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.apev2 import APEv2
from mutagen.id3 import TCON
from support import tagfiles
from support.ape import ape_tag
from support.id3 import id3v1
from support.paths import SHARED
from support.writes import write_one

from tagger.tags import MultiValue, WriteOptions, aperaw, read_tags
from tagger.tags.id3v1 import ID3V1_UNKNOWN_GENRE, id3v1_block, id3v1_genre_byte, restore_id3v1
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter

V1 = id3v1(b"v1 title", b"v1 artist", b"v1 album", b"v1 comment", 17)
CORPUS = SHARED / "fixtures" / "tagged"


@pytest.mark.parametrize("genres, nearest", [
    (["Interop Jazz", "Second Genre"], "Jazz"),  # unknown: the genre its last word names
    (["bebop", "Second Genre"], "Bebop"),  # in the ID3v1 list, in any case
    (["Hip Hop"], "Hip-Hop"),  # another spelling of a listed genre
    (["Ambient Techno"], "Ambient"),  # its parent in the vocabulary
    (["K-Pop"], "Pop"),  # its family
    (["Funk Metal"], "Heavy Metal"),  # its grandparent, where its parent (Alternative Metal) is not listed
    (["Afrobeat"], "Other"),  # known, but neither it nor an ancestor is listed
    (["Second Genre", "Jazz"], "Other"),  # the first value decides, and nothing is near it
])
def test_the_id3v1_genre_is_the_one_nearest_the_first_genre(genres, nearest):
    assert TCON.GENRES[id3v1_genre_byte(genres)] == nearest


def test_only_no_genre_at_all_is_none():
    assert id3v1_genre_byte([]) == ID3V1_UNKNOWN_GENRE


def make_tta(folder: Path) -> Path:
    """A TrueAudio file, as FFmpeg writes it (with an APEv2 tag naming the encoder)."""
    path = folder / "track.tta"
    signal = (tagfiles.audio_data()[:, 0] * 32767).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("tta", rate=tagfiles.RATE, layout="stereo")
        for start in range(0, len(signal), 2048):
            frame = av.AudioFrame.from_ndarray(np.repeat(signal[start:start + 2048], 2)[None, :], format="s16",
                                               layout="stereo")
            frame.sample_rate = tagfiles.RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def with_id3v1(folder: Path, kind: str, genre: int = 17) -> Path:
    """A file of ``kind`` (a tagfiles kind, or "tta") ending in an ID3v1 tag whose genre is ``genre``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = make_tta(folder) if kind == "tta" else tagfiles.make(folder, kind)
    if kind == "mp3-id3v1":  # which has one of its own
        path.write_bytes(path.read_bytes()[:-1] + bytes([genre]))
    else:
        with open(path, "ab") as f:
            f.write(V1[:-1] + bytes([genre]))
    return path


def ffmpeg_genre(path: Path) -> str | None:
    with av.open(str(path)) as container:
        return next((value for key, value in container.metadata.items() if key.lower() == "genre"), None)


KINDS = ["wavpack", "tta", "mp3-id3v24", "mp3-id3v23", "mp3-id3v1"]


@pytest.mark.parametrize("style", list(MultiValue))
@pytest.mark.parametrize("genres", [["Interop Jazz", "Second Genre"], ["Bebop", "Second Genre"]],
                         ids=["not listed", "listed"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_write_sets_the_nearest_id3v1_genre_and_ffmpeg_shows_a_genre(tmp_path, kind, genres, style):
    path = with_id3v1(tmp_path, kind)
    block = path.read_bytes()[-128:]
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        assert write_one(GenreWriter(journal, WriteOptions(multi_value=style)), path, genres).status == "written"
    finally:
        journal.close()
    data = path.read_bytes()
    nearest = id3v1_genre_byte(genres)
    assert (data[-128:-1], data[-1]) == (block[:-1], nearest)
    assert nearest != ID3V1_UNKNOWN_GENRE
    # FFmpeg shows the ID3v1 genre where it reads that tag (TrueAudio, WavPack), the first written elsewhere.
    shown = ffmpeg_genre(path)
    assert shown is not None and (shown == TCON.GENRES[nearest] or shown.startswith(genres[0])), shown


@pytest.mark.parametrize("kind", KINDS)
def test_undo_puts_the_id3v1_genre_byte_back(tmp_path, writer, kind):
    # Blues in ID3v1 beside another genre in the main tag: the genres alone do not tell the byte.
    path = with_id3v1(tmp_path, kind, genre=0)
    before = path.read_bytes()
    assert write_one(writer, path, ["Interop Jazz", "Second Genre"]).status == "written"
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes()[-128:] == before[-128:]
    assert path.read_bytes() == before


@pytest.mark.parametrize("spelling", ["GENRE", "genre"])
def test_apev2_keeps_the_spelling_of_its_genre_key(tmp_path, writer, spelling):
    path = with_id3v1(tmp_path, "wavpack")
    tags = APEv2(path)
    value = tags.pop("Genre")
    tags[spelling] = value
    tags.save(path)
    with open(path, "ab") as f:  # saving the APEv2 tag dropped it
        f.write(V1)
    before = path.read_bytes()
    assert write_one(writer, path, ["Interop Jazz", "Second Genre"]).status == "written"
    assert [key for key in APEv2(path) if key.lower() == "genre"] == [spelling]
    assert read_tags(path).genres == ["Interop Jazz", "Second Genre"]
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def corpus_files_with_id3v1() -> list[Path]:
    files = []
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and path.name != "MANIFEST.tsv":
            with open(path, "rb") as f:
                if id3v1_block(f) is not None:
                    files.append(path)
    return files


@pytest.mark.shared
@pytest.mark.corpus
def test_corpus_files_with_an_id3v1_tag_get_the_nearest_genre_and_get_it_back(tmp_path, writer):
    """Every corpus file ending in an ID3v1 tag that takes a write: the byte is the nearest genre,
    the rest of the tag is unchanged, FFmpeg shows a genre where it read the file's tags at
    all, and undo puts the tag back byte for byte."""
    if not CORPUS.is_dir():
        pytest.skip(f"needs {CORPUS} (the tag-library corpus), which is absent here")
    genres = ["Interop Jazz", "Second Genre"]
    written = []
    for index, source in enumerate(corpus_files_with_id3v1()):
        path = tmp_path / f"{index}{source.suffix}"
        shutil.copyfile(source, path)
        block = path.read_bytes()[-128:]
        try:
            with av.open(str(path)) as container:
                read_by_ffmpeg = bool(container.metadata)
        except av.FFmpegError:
            read_by_ffmpeg = False
        if write_one(writer, path, genres).status != "written":
            continue
        written.append(source)
        data = path.read_bytes()
        assert (data[-128:-1], data[-1]) == (block[:-1], id3v1_genre_byte(genres)), source
        if read_by_ffmpeg:
            assert ffmpeg_genre(path), source
        assert [result.status for result in writer.undo()] == ["written"], source
        assert path.read_bytes()[-128:] == block, source
    assert len(written) >= 50


# The 128 bytes at the end of a file that are, and are not, an ID3v1 tag

def apev2_tag_of_131_bytes() -> bytes:
    """An APEv2 tag whose header's "TAG" (of "APETAGEX") lies 128 bytes from its end."""
    tag = ape_tag([("Title", b"t" * 53)])
    assert len(tag) == 131 and tag[3:6] == b"TAG"
    return tag


def test_a_file_that_is_only_an_id3v1_tag_has_one():
    assert id3v1_block(io.BytesIO(V1)) == V1


@pytest.mark.parametrize("before", [b"audio" * 40, b""], ids=["after audio", "the whole file"])
def test_the_middle_of_an_apev2_magic_is_no_id3v1_tag(before):
    data = before + apev2_tag_of_131_bytes()
    assert id3v1_block(io.BytesIO(data)) is None
    assert aperaw.find_tag(io.BytesIO(data)) is not None


def test_restoring_an_id3v1_tag_after_an_apev2_tag_keeps_the_apev2_tag(tmp_path):
    path = tmp_path / "track.wv"
    data = b"audio" * 40 + apev2_tag_of_131_bytes()
    path.write_bytes(data)
    restore_id3v1(str(path), V1, ["Jazz"])
    assert path.read_bytes() == data + V1[:-1] + bytes([8])


def test_a_wavpack_whose_apev2_tag_ends_in_what_looks_like_an_id3v1_tag_is_written_in_place(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wavpack")
    APEv2(path).delete()
    with open(path, "ab") as f:
        f.write(apev2_tag_of_131_bytes())
    before = path.read_bytes()
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert path.read_bytes() == before[:-131] + ape_tag([("Title", b"t" * 53), ("Genre", b"Jazz")])
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before

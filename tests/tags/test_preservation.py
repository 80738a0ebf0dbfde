"""A genre write changes the genre and nothing else, judged on raw bytes (issue 9, items 1-4).

The tags are assembled by hand here, so the tests hold frames that mutagen itself
cannot write or round-trip.
"""

import hashlib
import os
from dataclasses import replace

import pytest
import soundfile as sf
from support import tagfiles
from support.id3 import frame, id3v1, id3v2
from support.writes import write_one

from tagger.tags import read_tags
from tagger.writing.writer import GenreWriter, WriteRequest


def mp3(folder, name: str, tag: bytes = b"", trailer: bytes = b"") -> os.PathLike:
    """A real MP3 stream (encoded by libsndfile) between hand-made tags."""
    path = folder / name
    sf.write(os.fsencode(path), tagfiles.audio_data(), tagfiles.RATE, format="MP3")
    path.write_bytes(tag + path.read_bytes() + trailer)
    return path


def text(value: str) -> bytes:
    return b"\x00" + value.encode("latin-1")


def test_a_frame_mutagen_cannot_parse_survives_byte_for_byte(tmp_path, writer):
    # A date that is not ISO 8601: mutagen reads TDRC 'Oct 3, 1995' as empty and drops it.
    frames = [frame(4, "TIT2", b"\x03Title"), frame(4, "TDRC", b"\x03Oct 3, 1995"), frame(4, "TCON", b"\x03Rock")]
    path = mp3(tmp_path, "date.mp3", id3v2(4, frames))
    before = tagfiles.raw_id3_frames(path, skip_genre=True)
    assert ("TDRC", 0, b"\x03Oct 3, 1995") in before
    result = write_one(writer, path, ["Jazz", "Bebop"])
    assert result.status == "written", result.message
    assert tagfiles.raw_id3_frames(path, skip_genre=True) == before
    assert read_tags(path).genres == ["Jazz", "Bebop"]


def test_id3v22_keeps_its_sort_frames(tmp_path, writer):
    # iTunes' v2.2 sort frames; mutagen's v2.3 conversion deletes their v2.4 equivalents.
    frames = [frame(2, "TT2", text("Name")), frame(2, "TST", text("Sort Name")), frame(2, "TSA", text("Sort Album")),
              frame(2, "TSP", text("Sort Artist")), frame(2, "TCO", text("Heavy Metal"))]
    path = mp3(tmp_path, "itunes.mp3", id3v2(2, frames))
    before = tagfiles.raw_id3_frames(path, skip_genre=True)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "written", result.message
    assert tagfiles.raw_id3_frames(path, skip_genre=True) == before
    assert {f[0] for f in before} >= {"TST", "TSA", "TSP"}
    assert read_tags(path).genres == ["Jazz"]


@pytest.mark.parametrize("major", [2, 3, 4])
def test_a_tag_that_must_grow_moves_the_audio_intact(tmp_path, writer, major):
    path = mp3(tmp_path, f"v2{major}.mp3", id3v2(major, [frame(major, "TIT2" if major > 2 else "TT2", text("T"))], 0))
    from tagger.writing.probe import mpeg_audio_bytes

    audio = mpeg_audio_bytes(path)
    result = write_one(writer, path, ["A Genre Long Enough To Need A Bigger Tag" * 3])
    assert result.status == "written", result.message
    assert mpeg_audio_bytes(path) == audio
    assert read_tags(path).title == "T"


def test_id3v1_fields_other_than_the_genre_stay_byte_identical(tmp_path, writer):
    # The v1 tag disagrees with the v2 frames, as in real files: v1 must not be rebuilt from v2.
    v2 = id3v2(3, [frame(3, "TPE1", text("Lee Perry & Dub Syndicate")),
                   frame(3, "TALB", text("V.A. - Jahtarian Dubbers Vol. 3 [JTR CD06]")),
                   frame(3, "COMM", b"\x00eng\x00a v2 comment"), frame(3, "TCON", text("Reggae"))])
    v1 = id3v1(b"Secret Laboratory", b"Dub Syndicate", b"Jahtarian Dubbers Vol. 3", b"-|- v1 comment -|-", 16)
    path = mp3(tmp_path, "both.mp3", v2, v1)
    result = write_one(writer, path, ["Roots Dub Poetry"])
    assert result.status == "written", result.message
    data = path.read_bytes()
    assert data[-128:-1] == v1[:-1]
    assert data[-1] == 255  # no ID3v1 number for this genre
    write_one(writer, path, ["Roots Dub Poetry", "Reggae"])
    assert path.read_bytes()[-1] == 16  # the first genre that has one: Reggae


def test_wavpack_keeps_its_trailing_id3v1_tag(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wavpack")
    v1 = id3v1(b"v1 title", b"v1 artist", b"v1 album", b"v1 comment", 17)
    with open(path, "ab") as f:
        f.write(v1)
    apev2_before = tagfiles.other_tags(path)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "written", result.message
    data = path.read_bytes()
    assert data[-128:-1] == v1[:-1] and data[-1] == 8
    assert tagfiles.other_tags(path) == apev2_before
    assert read_tags(path).genres == ["Jazz"]


def test_a_write_that_would_change_another_frame_is_refused(tmp_path, writer, monkeypatch):
    """The raw check on the copy, not the splice alone, guards every format."""
    from tagger.tags.vorbis import VorbisFormat

    path = tagfiles.make(tmp_path, "flac")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    original = VorbisFormat.set_genres

    def also_retitle(self, audio, genres, options):
        audio.tags["TITLE"] = ["Changed"]
        return original(self, audio, genres, options)

    monkeypatch.setattr(VorbisFormat, "set_genres", also_retitle)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and "title" in result.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_splice_that_would_lose_a_frame_is_refused(tmp_path, writer, monkeypatch):
    """The raw comparison on the finished copy checks the splice itself."""
    import tagger.tags.id3 as id3

    path = tagfiles.make(tmp_path, "mp3-id3v24")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    real = id3.replaced_frames
    monkeypatch.setattr(id3, "replaced_frames",
                        lambda *args: [f for f in real(*args) if f.frame_id != "COMM"])
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and "COMM" in result.message
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("kind", ["mp3-id3v23", "mp3-id3v24", "wav", "aiff"])
def test_the_splice_ignores_what_mutagen_would_drop(tmp_path, writer, monkeypatch, kind):
    from tagger.tags.id3 import ID3Format

    path = tagfiles.make(tmp_path, kind)
    before = tagfiles.raw_tags(path)
    original = ID3Format.set_genres

    def drop_comment(self, audio, genres, options):
        audio.tags.delall("COMM")
        return original(self, audio, genres, options)

    monkeypatch.setattr(ID3Format, "set_genres", drop_comment)
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert tagfiles.raw_tags(path) == before
    assert read_tags(path).genres == ["Jazz"]


def dsf(folder, tag: bytes) -> os.PathLike:
    """A minimal DSF file (stereo DSD64, 4096 bytes a channel) with ``tag`` at its end."""
    audio = bytes((i * 37) & 0xFF for i in range(8192))
    fmt = (b"fmt " + (52).to_bytes(8, "little") + b"".join(v.to_bytes(4, "little") for v in (1, 0, 2, 2, 2822400, 1))
           + (4096 * 8).to_bytes(8, "little") + (4096).to_bytes(4, "little") + bytes(4))
    data = b"data" + (12 + len(audio)).to_bytes(8, "little") + audio
    offset = 28 + len(fmt) + len(data)
    head = b"DSD " + (28).to_bytes(8, "little") + (offset + len(tag)).to_bytes(8, "little") + offset.to_bytes(8, "little")
    path = folder / "track.dsf"
    path.write_bytes(head + fmt + data + tag)
    return path


def test_a_dsf_file_keeps_an_unparseable_frame_as_its_tag_grows(tmp_path, writer):
    frames = [frame(4, "TIT2", b"\x03Title"), frame(4, "TDRC", b"\x03Oct 3, 1995")]
    path = dsf(tmp_path, id3v2(4, frames, padding=0))
    body = path.read_bytes()[28:28 + 52 + 12 + 8192]
    genres = ["Jazz", "A Long Genre Name That Makes The Tag Grow"]
    # FFmpeg may not decode this synthetic DSD stream, so the audio is compared here, as bytes.
    (result,) = GenreWriter(writer.journal, replace(writer.options, force_undecodable=True)).write(
        [WriteRequest(path, genres)], "t")
    assert result.status == "written", result.message
    data = path.read_bytes()
    assert data[28:28 + len(body)] == body
    assert int.from_bytes(data[12:20], "little") == len(data)
    assert tagfiles.raw_tags(path)["id3v2"] == sorted(tagfiles.id3_frames_of(id3v2(4, frames), skip_genre=True))
    assert read_tags(path).genres == genres


def test_an_id3_chunk_outside_the_riff_container_is_not_taken_for_the_tag(tmp_path, writer):
    """Readers ignore bytes past the size a RIFF file declares; a write must not bring them in."""
    path = tmp_path / "stray.wav"
    sf.write(os.fsencode(path), tagfiles.audio_data(), tagfiles.RATE)
    stray = id3v2(3, [frame(3, "TIT2", text("Stray"))], padding=0)
    path.write_bytes(path.read_bytes() + b"id3 " + len(stray).to_bytes(4, "little") + stray)
    assert read_tags(path).title is None
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "written", result.message
    after = read_tags(path)
    assert (after.title, after.genres) == (None, ["Jazz"])


def test_a_flac_file_without_a_comment_block_gains_one(tmp_path, writer):
    import mutagen

    path = tmp_path / "bare.flac"
    sf.write(os.fsencode(path), tagfiles.audio_data(), tagfiles.RATE)
    mutagen.File(path).delete()  # drop the empty comment block libsndfile writes
    assert mutagen.File(path).tags is None
    blocks = tagfiles.raw_tags(path)["flac"]
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "written", result.message
    assert read_tags(path).genres == ["Jazz"]
    assert tagfiles.raw_tags(path)["flac"] == blocks

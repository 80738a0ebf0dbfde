"""ID3 (MP3, WAV, AIFF, DSF): what the format contract leaves to it. Several genres are
native in v2.4 and joined in v2.3; v2.2 stays v2.2; a file with only an ID3v1 tag, or none,
gains a v2.3 tag; numeric codes read as names; and the frames around the genre survive as
stored, judged on raw bytes (issue 9, items 1-4).

Many tags are assembled by hand here, so the tests hold frames that mutagen itself cannot
write or round-trip.
"""

import hashlib
import os
from dataclasses import replace

import mutagen
import pytest
import soundfile as sf
from support import tagfiles
from support.id3 import frame, id3v1, id3v2
from support.writes import write_one

from tagger.tags import WriteOptions, read_tags
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest

# The kinds of MP3 without an ID3v2 tag, which gain one; every tag system's own kinds keep
# the contract of test_format_contract.py.
WITHOUT_ID3V2 = ["mp3-id3v1", "mp3-untagged"]


@pytest.mark.parametrize("kind", WITHOUT_ID3V2)
def test_write_changes_only_the_genre(tmp_path, writer, kind):
    path = tagfiles.make(tmp_path, kind)
    before_tags = tagfiles.other_tags(path)
    before_audio = tagfiles.decoded_audio(path)
    before = read_tags(path)
    result = write_one(writer, path, ["Jazz", "Bebop"], provenance='{"tool":"test"}')
    assert result.status == "written", result.message
    after = read_tags(path)
    assert after.genres == ["Jazz", "Bebop"]
    assert after.provenance == '{"tool":"test"}'
    assert (after.artist, after.album, after.title) == (before.artist, before.album, before.title)
    if kind != "mp3-id3v1":  # it gains an ID3v2.3 tag beside its ID3v1 tag: see its own test
        assert tagfiles.other_tags(path) == before_tags
    assert (tagfiles.decoded_audio(path) == before_audio).all()


@pytest.mark.parametrize("kind, genres", [("mp3-id3v1", ["Rock"]), ("mp3-untagged", [])])
def test_numeric_and_duplicate_genres_read_as_names(tmp_path, kind, genres):
    assert read_tags(tagfiles.make(tmp_path, kind)).genres == genres


def test_id3v24_is_native_multi_value(tmp_path, writer):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-id3v24")
    write_one(writer, path, ["Jazz", "Bebop"])
    tags = ID3(path, translate=False)
    assert tags.version[:2] == (2, 4)
    assert tags.getall("TCON")[0].text == ["Jazz", "Bebop"]


def test_id3v23_stays_v23_with_joined_genres(tmp_path, writer):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-id3v23")
    write_one(writer, path, ["Jazz", "Bebop"])
    tags = ID3(path, translate=False)
    assert tags.version[:2] == (2, 3)
    assert tags.getall("TCON")[0].text == ["Jazz; Bebop"]
    assert tags.getall("TSOP") and tags.getall("TYER")


def test_separator_is_configurable(tmp_path):
    from mutagen.id3 import ID3

    journal = Journal(tmp_path / "j.sqlite3")
    writer = GenreWriter(journal, WriteOptions(separator=" / "))
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    write_one(writer, path, ["Jazz", "Bebop"])
    assert ID3(path, translate=False).getall("TCON")[0].text == ["Jazz / Bebop"]
    assert read_tags(path, separator=" / ").genres == ["Jazz", "Bebop"]


def test_id3v1_only_gains_v23_and_keeps_v1_consistent(tmp_path, writer):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-id3v1")
    v1_before = path.read_bytes()[-128:]
    result = write_one(writer, path, ["Jazz"])
    assert "an ID3v2.3 tag was added" in result.message
    tags = ID3(path, translate=False)
    assert tags.version[:2] == (2, 3)
    assert tags.getall("TIT2")[0].text == ["v1 title"]
    data = path.read_bytes()
    # Only the genre byte of the v1 tag changes: to the ID3v1 index of Jazz.
    assert data[-128:-1] == v1_before[:-1]
    assert data[-1] == 8


def test_id3v22_stays_v22_with_its_other_frames_byte_identical(tmp_path, writer):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-id3v22")
    before = read_tags(path)
    frames_before = tagfiles.raw_id3_frames(path)
    assert (before.title, before.artist, before.genres) == ("v2.2 title", "v2.2 artist", ["Rock"])
    result = write_one(writer, path, ["Jazz", "Bebop"])
    assert result.status == "written" and result.message is None
    tags = ID3(path, translate=False)
    assert tags.version[:2] == (2, 2)
    after = read_tags(path)
    assert (after.title, after.artist, after.genres) == ("v2.2 title", "v2.2 artist", ["Jazz", "Bebop"])
    assert tagfiles.raw_id3_frames(path, skip_genre=True) == [f for f in frames_before if f[0] != "TCO"]


def test_provenance_is_updated_not_piled_up(tmp_path, writer):
    import mutagen

    path = tagfiles.make(tmp_path, "mp3-id3v24")
    write_one(writer, path, ["Jazz"], provenance='{"run":1}')
    write_one(writer, path, ["Blues"], provenance='{"run":2}')
    assert len(mutagen.File(path).tags.getall("TXXX:GENRE_TAGGER")) == 1
    assert read_tags(path).provenance == '{"run":2}'
    write_one(writer, path, ["Blues", "Jazz"], provenance=None)
    assert read_tags(path).provenance is None


@pytest.mark.parametrize("kind", ["mp3-id3v23", "mp3-id3v24", "wav", "aiff"])
def test_numeric_id3_codes_are_read_as_stored(tmp_path, kind):
    # mutagen's translation would turn "17" into "Rock" as it loads: the stored values are the file's.
    from mutagen.id3 import TCON

    path = tagfiles.make(tmp_path, kind)
    audio = mutagen.File(path)
    audio.tags.delall("TCON")
    audio.tags.add(TCON(encoding=1, text=["17"]))
    audio.save(v2_version=audio.tags.version[1])
    tags = read_tags(path)
    assert tags.stored_genres == ["17"] and tags.genres == ["Rock"]


# -- tags assembled by hand ---------------------------------------------------------------------------

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
    assert data[-1] == 12  # Other: no ID3v1 genre is near this one (test_id3v1.py has the near ones)
    write_one(writer, path, ["Reggae", "Roots Dub Poetry"])
    assert path.read_bytes()[-1] == 16  # the first genre's: Reggae


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
    """A minimal DSF file, 4096 bytes of DSD a channel, with ``tag`` at its end."""
    return tagfiles.make_dsf(folder, tag, bytes((i * 37) & 0xFF for i in range(8192)))


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

"""APEv2 (WavPack, and beside ID3v2 in an MP3): what the format contract leaves to it."""

import json
import struct
from pathlib import Path

import pytest
from mutagen import apev2
from mutagen.id3 import TCON
from mutagen.wavpack import WavPack
from support import tagfiles
from support.ape import ape_tag, lyrics3v2
from support.id3 import id3v1
from support.writes import write_one

from tagger.tags import MultiValue, WriteOptions, aperaw, read_tags
from tagger.tags.apev2 import APEv2Format, has_apev2_tag, items_but_genre
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter


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


ITEMS = [("Title", b"A title long enough to sort last"), ("GENRE", b"Rock\0Pop"), ("Year", b"1999"),
         ("Custom", b"kept")]
TAIL = lyrics3v2(b"[00:01]la la") + id3v1(b"v1 title", b"v1 artist", b"v1 album", b"v1 comment", 17)


def wavpack_with_tail(folder) -> Path:
    """A WavPack file whose APEv2 tag is not in mutagen's order, followed by Lyrics3v2 and ID3v1 tags."""
    path = tagfiles.make(folder, "wavpack")
    apev2.delete(path)
    with open(path, "ab") as f:
        f.write(ape_tag(ITEMS) + TAIL)
    return path


def test_apev2_is_rewritten_in_place_and_what_follows_it_is_kept(tmp_path, writer):
    path = wavpack_with_tail(tmp_path)
    before = path.read_bytes()
    assert write_one(writer, path, ["Jazz", "Bebop"], provenance="note").status == "written"
    data = path.read_bytes()
    expected = ape_tag([ITEMS[0], ("GENRE", b"Jazz\0Bebop"), *ITEMS[2:], ("Genre Tagger", b"note")])
    assert data.endswith(expected + TAIL[:-1] + bytes([8]))  # the items in their order, Lyrics3v2 kept
    assert data[:-len(expected + TAIL)] == before[:-len(ape_tag(ITEMS) + TAIL)]
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


@pytest.mark.parametrize("tail", [b"", TAIL], ids=["nothing after", "Lyrics3v2 and ID3v1 after"])
def test_undo_removes_the_apev2_tag_a_write_added(tmp_path, writer, tail):
    path = tagfiles.make(tmp_path, "wavpack")
    apev2.delete(path)
    with open(path, "ab") as f:
        f.write(tail)
    before = path.read_bytes()
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert read_tags(path).genres == ["Jazz"]
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_a_tag_left_to_mutagen_may_not_take_a_lyrics3v2_tag_with_it(tmp_path, writer):
    # APEv1 is not rewritten in place; mutagen's save would cut what follows the tag.
    path = tagfiles.make(tmp_path, "wavpack")
    apev2.delete(path)
    with open(path, "ab") as f:
        f.write(ape_tag(ITEMS, version=1000) + TAIL)
    before = path.read_bytes()
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and "Lyrics3v2" in result.message
    assert path.read_bytes() == before


def mp3_with_apev2(folder, items: list[tuple[str, bytes]]) -> Path:
    path = tagfiles.make(folder, "mp3-id3v24")
    with open(path, "ab") as f:
        f.write(ape_tag(items) + TAIL)
    return path


def test_an_mp3s_apev2_genre_is_kept_in_step_with_its_id3v2_genre(tmp_path, writer):
    path = mp3_with_apev2(tmp_path, ITEMS)
    before = path.read_bytes()
    assert write_one(writer, path, ["Jazz", "Bebop"], provenance="note").status == "written"
    assert path.read_bytes().endswith(ape_tag([ITEMS[0], ("GENRE", b"Jazz\0Bebop"), *ITEMS[2:]]) + TAIL[:-1]
                                      + bytes([8]))
    assert read_tags(path).genres == ["Jazz", "Bebop"]
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_an_mp3s_apev2_tag_without_a_genre_gains_none(tmp_path, writer):
    items = [item for item in ITEMS if item[0] != "GENRE"]
    path = mp3_with_apev2(tmp_path, items)
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert path.read_bytes().endswith(ape_tag(items) + TAIL[:-1] + bytes([8]))


def test_a_genre_write_that_would_change_another_apev2_item_of_an_mp3_is_refused(tmp_path, writer, monkeypatch):
    path = mp3_with_apev2(tmp_path, ITEMS)
    before = path.read_bytes()
    real = aperaw.with_text

    def also_dropping_the_year(items, key, values):
        return tuple(item for item in real(items, key, values) if item.key != "Year")

    monkeypatch.setattr(aperaw, "with_text", also_dropping_the_year)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and "APEv2 tag" in result.message
    assert path.read_bytes() == before


@pytest.mark.parametrize("make", [wavpack_with_tail, lambda folder: mp3_with_apev2(folder, ITEMS)],
                         ids=["WavPack", "MP3"])
def test_undo_of_a_cleared_genre_puts_the_apev2_item_back_in_its_place(tmp_path, writer, make):
    path = make(tmp_path)
    before = path.read_bytes()
    assert write_one(writer, path, [], provenance=None).status == "written"
    assert "GENRE" not in [key.upper() for key in apev2.APEv2(path)]
    assert [result.status for result in writer.undo()] == ["written"]
    # (An ID3v2 genre frame a write removed comes back last among the frames, not in its place.)
    tail = len(ape_tag(ITEMS) + TAIL)
    assert path.read_bytes()[-tail:] == before[-tail:]


def test_an_mp3s_apev2_tag_that_does_not_parse_item_by_item_is_left_as_it_is(tmp_path, writer):
    path = mp3_with_apev2(tmp_path, ITEMS)
    data = bytearray(path.read_bytes())
    footer = len(data) - len(TAIL) - 32
    data[footer + 16] += 1  # one item more than the tag holds
    path.write_bytes(bytes(data))
    tail = bytes(data[-len(ape_tag(ITEMS) + TAIL):])
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert read_tags(path).genres == ["Jazz"]
    assert path.read_bytes()[-len(tail):-1] == tail[:-1]


def wavpack_with(folder, tag: bytes, tail: bytes = b"") -> Path:
    """A WavPack file whose only tags are ``tag`` and then ``tail``, as built here."""
    path = tagfiles.make(folder, "wavpack")
    apev2.delete(path)
    with open(path, "ab") as f:
        f.write(tag + tail)
    return path


def test_clearing_the_only_item_keeps_the_tag_it_was_in(tmp_path, writer):
    # The tag was there before the write, so the write leaves it, empty, for the undo to fill.
    path = wavpack_with(tmp_path, ape_tag([("Genre", b"Rock")]))
    before = path.read_bytes()
    assert write_one(writer, path, [], provenance=None).status == "written"
    assert path.read_bytes() == before[:-len(ape_tag([("Genre", b"Rock")]))] + ape_tag([])
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_the_id3v1_genre_follows_the_first_genre_of_a_value_joined_with_the_writers_separator(tmp_path):
    # "+" is no separator read_genres splits at by itself, so only the writer's separator splits it.
    path = wavpack_with(tmp_path, ape_tag([("Title", b"A title")]), TAIL)
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        writer = GenreWriter(journal, WriteOptions(separator=" + ", multi_value=MultiValue.JOINED))
        assert write_one(writer, path, ["Bebop", "Jazz"]).status == "written"
    finally:
        journal.close()
    assert apev2.APEv2(path)["Genre"] == "Bebop + Jazz"
    assert path.read_bytes()[-1] == TCON.GENRES.index("Bebop")


def test_a_tag_left_to_mutagen_keeps_the_spelling_of_its_genre_key(tmp_path, writer):
    path = wavpack_with(tmp_path, ape_tag([("GENRE", b"Rock"), ("Title", b"A title")], version=1000))
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert [key for key in apev2.APEv2(path) if key.lower() == "genre"] == ["GENRE"]


def test_no_genres_on_a_file_without_a_genre_item_is_no_error(tmp_path):
    path = wavpack_with(tmp_path, ape_tag([("Title", b"A title")]))
    audio = WavPack(path)
    APEv2Format().set_genres(audio, [], WriteOptions())
    assert "Genre" not in audio.tags


def test_the_undo_record_of_a_tag_left_to_mutagen_says_there_was_a_tag_and_its_id3v1_genre(tmp_path):
    path = wavpack_with(tmp_path, ape_tag([("Title", b"A title")], version=1000), TAIL)
    assert json.loads(APEv2Format().genre_field(str(path))) == {"v1_genre": 17, "tag": True}


def test_mutagen_finds_a_tag_where_there_is_one_and_none_where_there_is_none(tmp_path):
    assert has_apev2_tag(str(wavpack_with(tmp_path / "tagged", ape_tag([("Title", b"A title")]))))
    assert not has_apev2_tag(str(wavpack_with(tmp_path / "bare", b"")))


def test_why_an_mp3s_apev2_tag_is_left_as_it_is_is_given(tmp_path):
    path = mp3_with_apev2(tmp_path, [])
    data = path.read_bytes()
    at = len(data) - len(TAIL) - 32 + 8
    path.write_bytes(data[:at] + struct.pack("<I", 1000) + data[at + 4:])
    assert items_but_genre(str(path)) == "the APE tag is not APEv2"


def with_changed_byte(path: Path, offset: int) -> Path:
    """A copy of ``path`` with the byte ``offset`` from its end changed."""
    changed = path.with_name("changed" + path.suffix)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    changed.write_bytes(bytes(data))
    return changed


@pytest.mark.parametrize("offset, item", [
    (-2, "ID3v1 tag"),  # the ID3v1.1 track number, the byte before the genre
    (-128 - 16, "Lyrics3v2 tag"),  # the last byte of the lyrics
    (-len(TAIL) - 32 - 1, "year"),  # the last byte of the Year item's value
], ids=["ID3v1", "Lyrics3v2", "APEv2 item"])
def test_a_write_that_changes_more_than_the_genre_is_refused_naming_what_changed(tmp_path, offset, item):
    path = wavpack_with(tmp_path, ape_tag([("Title", b"A title"), ("Year", b"1999")]), TAIL)
    message = APEv2Format().check_preserved(str(path), str(with_changed_byte(path, offset)))
    assert message == f"the tag item(s) {item} would not survive the write unchanged"


def test_a_write_that_changes_only_the_genre_byte_is_not_refused(tmp_path):
    path = wavpack_with(tmp_path, ape_tag([("Title", b"A title")]), TAIL)
    assert APEv2Format().check_preserved(str(path), str(with_changed_byte(path, -1))) is None


def test_what_the_app_shows_is_read_from_the_items(tmp_path):
    # Split at the separator given, which read_genres does not split at by itself.
    items = [("Artist", b"An artist"), ("Album Artist", b"An album artist"), ("Album", b"An album"),
             ("Title", b"A title"), ("Track", b"3"), ("Disc", b"1"), ("Year", b"1999"),
             ("Genre", b"Jazz + Bebop"), ("Genre Tagger", b"note")]
    snapshot = read_tags(wavpack_with(tmp_path, ape_tag(items)), " + ")
    assert (snapshot.format, snapshot.genres, snapshot.stored_genres, snapshot.provenance) == (
        "WavPack", ["Jazz", "Bebop"], ["Jazz + Bebop"], "note")
    assert (snapshot.artist, snapshot.album_artist, snapshot.album, snapshot.title, snapshot.track, snapshot.disc,
            snapshot.year) == ("An artist", "An album artist", "An album", "A title", "3", "1", "1999")
    assert snapshot.duration_s is not None and snapshot.duration_s > 1


def test_an_album_artist_spelled_as_one_word_is_read(tmp_path):
    snapshot = read_tags(wavpack_with(tmp_path, ape_tag([("AlbumArtist", b"An album artist")])))
    assert snapshot.album_artist == "An album artist"

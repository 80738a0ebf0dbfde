"""Writes and undos of WAV files whose RIFF INFO chunk holds a genre (issue 26): the journal
records the INFO chunk's IGNR items as stored, undo puts them back byte for byte, and the
writer's check on the finished copy covers every other INFO item and chunk."""

import json

import pytest
from support import tagfiles
from support.writes import write_one

from tagger.tags import WriteOptions, open_tags, read_tags, riffinfo
from tagger.writing.writer import GenreWriter

GENRES = ["Interop Jazz", "Second Genre"]


def info_before_audio(path):
    """Move the file's INFO chunk in front of its data chunk, where a longer genre moves the audio."""
    data = path.read_bytes()
    chunks = tagfiles.riff_chunks(data)
    order = sorted(chunks, key=lambda chunk: {b"fmt ": 0, b"LIST": 1}.get(chunk[0], 2))
    body = b"WAVE" + b"".join(tagfiles.riff_item(chunk_id, chunk_data) for chunk_id, chunk_data in order)
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)


def with_ignr(path):
    tagfiles.add_riff_info(path, tagfiles.WAV_INFO)


def without_ignr(path):
    tagfiles.add_riff_info(path, [item for item in tagfiles.WAV_INFO if item[0] != b"IGNR"])


def two_chunks(path):
    tagfiles.add_riff_info(path, [(b"IART", b"First\0"), (b"IGNR", b"Rock\0")])
    tagfiles.add_riff_info(path, [(b"IGNR", b"Pop\0"), (b"INAM", b"Second\0")])


def unpadded_last_item(path):
    tagfiles.add_riff_info(path, [], body=tagfiles.riff_item(b"INAM", b"odd") + b"IART\x05\0\0\0Artis")


def odd_chunk_at_the_end(path):
    """An INFO chunk of odd size that ends the file without its pad byte, as some writers leave it."""
    body = b"INFO" + tagfiles.riff_item(b"IGNR", b"Rock\0") + b"IART\x05\0\0\0Artis"
    with open(path, "r+b") as f:
        f.seek(0, 2)
        f.write(b"LIST" + len(body).to_bytes(4, "little") + body)
        end = f.tell()
        f.seek(4)
        f.write((end - 8).to_bytes(4, "little"))


def before_the_audio(path):
    with_ignr(path)
    info_before_audio(path)


LAYOUTS = [with_ignr, without_ignr, two_chunks, unpadded_last_item, odd_chunk_at_the_end, before_the_audio]


def but_id3(data):
    """A WAV file's chunks but its ID3 chunk, as stored."""
    return [chunk for chunk in tagfiles.riff_chunks(data) if chunk[0].lower() != b"id3 "]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.__name__)
def test_undo_gives_the_wav_back_byte_for_byte(tmp_path, journal, layout):
    path = tagfiles.make(tmp_path, "wav")
    layout(path)
    before = path.read_bytes()
    writer = GenreWriter(journal)
    assert write_one(writer, path, GENRES).status == "written"
    tagfiles.assert_riff_layout(path)
    ignr = [data for items in tagfiles.riff_info_items(path) for item_id, data in items if item_id == b"IGNR"]
    assert ignr == [b"Interop Jazz; Second Genre\0"] * max(1, before.count(b"IGNR"))
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.__name__)
def test_writing_no_genres_removes_ignr_and_undo_gives_the_info_chunk_back(tmp_path, journal, layout):
    path = tagfiles.make(tmp_path, "wav")
    layout(path)
    before = path.read_bytes()
    writer = GenreWriter(journal)
    assert write_one(writer, path, []).status == "written"
    tagfiles.assert_riff_layout(path)
    assert b"IGNR" not in b"".join(item_id for items in tagfiles.riff_info_items(path) for item_id, _ in items)
    assert [result.status for result in writer.undo()] == ["written"]
    # The ID3 chunk gets its genre frame back last, not where it stood: ID3's way, not INFO's.
    assert but_id3(path.read_bytes()) == but_id3(before)


def test_undo_of_an_undo_writes_ignr_again(tmp_path, journal):
    path = tagfiles.make(tmp_path, "wav-info")
    writer = GenreWriter(journal)
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert write_one(writer, path, GENRES).status == "written"
    written = path.read_bytes()
    assert [result.status for result in writer.undo()] == ["written"]
    assert dict(tagfiles.riff_info_items(path)[0])[b"IGNR"] == b"Jazz\0"
    assert [result.status for result in writer.undo()] == ["written"]  # the undo, undone
    assert path.read_bytes() == written


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "recorded by an older version"])
def test_an_undo_puts_info_back_only_where_the_journal_recorded_it(tmp_path, recorded):
    """A journal entry from an older version records no INFO chunk: that write left INFO as
    it was, so its undo leaves it alone and puts back only the ID3 genre."""
    path = tagfiles.make(tmp_path, "wav-info")
    tag_format, audio = open_tags(path)
    field = json.loads(tag_format.genre_field(str(path)))
    if not recorded:
        del field["riff_info"]
    path.write_bytes(path.read_bytes().replace(b"IGNR\x05\0\0\0Rock\0", b"IGNR\x05\0\0\0Jazz\0"))
    options = WriteOptions(verbatim=True)
    tag_format.set_genres(audio, ["Rock"], options)
    tag_format.restore_field(audio, json.dumps(field))
    tag_format.save(audio, str(path), options)
    assert read_tags(path).stored_genres == ["(17)Rock"]
    assert dict(tagfiles.riff_info_items(path)[0])[b"IGNR"] == (b"Rock\0" if recorded else b"Jazz\0")


def test_info_chunks_are_put_back_only_where_the_file_holds_as_many_as_were_recorded(tmp_path):
    path = tagfiles.make(tmp_path, "wav-info")
    record = riffinfo.genre_record(str(path))
    tagfiles.add_riff_info(path, [(b"IART", b"Added\0")])
    before = path.read_bytes()
    with pytest.raises(riffinfo.InfoError) as refused:
        riffinfo.restore_genre(str(path), record)
    assert str(refused.value) == "the file has 2 INFO chunk(s) where 1 were recorded"
    assert path.read_bytes() == before


def test_a_save_that_changes_another_info_item_is_refused(tmp_path, journal, monkeypatch):
    from tagger.tags.id3 import ID3Format

    path = tagfiles.make(tmp_path, "wav-info")
    before = path.read_bytes()
    save = ID3Format.save

    def careless_save(self, audio, copy, options):
        save(self, audio, copy, options)
        with open(copy, "r+b") as f:
            data = f.read()
            f.seek(data.index(b"IART\x07\0\0\0Artist") + 8)
            f.write(b"ARTIST")

    monkeypatch.setattr(ID3Format, "save", careless_save)
    result = write_one(GenreWriter(journal), path, GENRES)
    assert result.status == "error"
    assert "the WAV file's INFO item IART would not survive the write unchanged" in result.message
    assert path.read_bytes() == before


def untagged(tmp_path, suffix, info=False):
    """A WAV or AIFF file without an ID3 chunk (a WAV, with ``info``, with an INFO chunk)."""
    import soundfile as sf

    path = tmp_path / f"untagged{suffix}"
    sf.write(path, tagfiles.audio_data(), tagfiles.RATE)
    if info:
        tagfiles.add_riff_info(path, tagfiles.WAV_INFO)
    return path


@pytest.mark.parametrize("suffix, info", [(".wav", False), (".wav", True), (".aiff", False)],
                         ids=["WAV", "WAV with INFO", "AIFF"])
def test_undo_takes_away_the_id3_chunk_a_write_added(tmp_path, journal, suffix, info):
    path = untagged(tmp_path, suffix, info)
    before = path.read_bytes()
    writer = GenreWriter(journal)
    assert write_one(writer, path, GENRES).status == "written"
    assert b"id3 " in path.read_bytes().lower()
    assert [result.status for result in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_an_added_id3_chunk_that_gained_other_frames_is_not_taken_away(tmp_path, journal):
    from mutagen.id3 import TCOM
    from mutagen.wave import WAVE

    path = untagged(tmp_path, ".wav", info=True)
    assert write_one(GenreWriter(journal), path, GENRES).status == "written"
    stripped = tmp_path / "stripped.wav"
    stripped.write_bytes(path.read_bytes())
    audio = WAVE(path)
    audio.tags.add(TCOM(encoding=3, text=["A. Composer"]))  # which the file did not hold before the write
    audio.save()
    WAVE(stripped).delete()
    tag_format, _ = open_tags(path)
    assert (tag_format.check_preserved(str(path), str(stripped))
            == "the ID3v2 tag would be removed with frames the ID3v1 tag does not hold")

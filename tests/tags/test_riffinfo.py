"""A WAV file's RIFF INFO chunk keeps its genre, IGNR, in step with the ID3 chunk's (issue 26).

FFmpeg 5.1 (ffprobe on Debian 12) shows INFO's IGNR and ignores the ID3 chunk where INFO
holds fields; the FFmpeg inside PyAV shows the ID3 chunk's genre. Every file here is made by
the test (support/tagfiles.py); the INFO chunks are assembled by hand.
"""

import json
import shutil
import subprocess

import av
import pytest
from support import tagfiles
from support.writes import write_one

from tagger.tags import open_tags, read_tags

GENRES = ["Interop Jazz", "Second Genre"]
JOINED = b"Interop Jazz; Second Genre\0"  # 27 bytes: an odd item, padded


def wav(tmp_path, info_items=None, body=None):
    """A WAV with an ID3v2.3 chunk holding "Rock" and, unless both are None, an INFO chunk."""
    path = tagfiles.make(tmp_path, "wav")
    if info_items is not None or body is not None:
        tagfiles.add_riff_info(path, info_items or [], body)
    return path


def ffprobe_genre(path):
    """The genre FFmpeg's own command-line reader shows; the test is skipped where it is absent."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(["ffprobe", "-v", "quiet", "-of", "json", "-show_entries", "format_tags", str(path)],
                         capture_output=True, text=True, check=True).stdout
    tags = json.loads(out).get("format", {}).get("tags", {})
    return next((value for key, value in tags.items() if key.lower() == "genre"), None)


def pyav_genre(path):
    with av.open(str(path)) as container:
        return container.metadata.get("genre")


def test_a_write_gives_ignr_the_genres_joined_in_its_place_and_keeps_every_other_item(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wav-info")
    assert write_one(writer, path, GENRES).status == "written"
    tagfiles.assert_riff_layout(path)
    expected = [(item_id, JOINED if item_id == b"IGNR" else data) for item_id, data in tagfiles.WAV_INFO]
    assert tagfiles.riff_info_items(path) == [expected]
    assert read_tags(path).stored_genres == ["Interop Jazz; Second Genre"]  # the ID3v2.3 chunk: one value


def info_without_ignr(tmp_path):
    return wav(tmp_path, [(b"IART", b"Artist\0"), (b"ISFT", b"Lavf61.7.100\0")])


@pytest.mark.parametrize("make, genres, before, after", [
    (lambda tmp_path: tagfiles.make(tmp_path, "wav-info"), GENRES, "Rock", "Interop Jazz; Second Genre"),
    # FFmpeg 5.1 reads INFO, which holds no genre, and so shows none.
    (info_without_ignr, GENRES, None, "Interop Jazz; Second Genre"),
    (lambda tmp_path: tagfiles.make(tmp_path, "wav-info"), ["Música Popular Brasileira"], "Rock",
     "Música Popular Brasileira"),
], ids=["IGNR", "no IGNR", "UTF-8"])
def test_ffmpeg_shows_the_new_genre_of_a_wav_with_info(tmp_path, writer, make, genres, before, after):
    path = make(tmp_path)
    assert ffprobe_genre(path) == before
    assert write_one(writer, path, genres).status == "written"
    assert ffprobe_genre(path) == after
    assert pyav_genre(path).split("; ")[0] == genres[0]


def test_info_without_ignr_gains_one_at_its_end(tmp_path, writer):
    path = info_without_ignr(tmp_path)
    items = tagfiles.riff_info_items(path)[0]
    assert write_one(writer, path, GENRES).status == "written"
    tagfiles.assert_riff_layout(path)
    assert tagfiles.riff_info_items(path) == [[*items, (b"IGNR", JOINED)]]


def test_a_wav_without_info_is_given_none(tmp_path, writer):
    path = wav(tmp_path)
    assert write_one(writer, path, GENRES).status == "written"
    assert tagfiles.riff_info_items(path) == []
    assert [chunk_id for chunk_id, _ in tagfiles.riff_chunks(path.read_bytes())] == [b"fmt ", b"data", b"id3 "]


def test_odd_items_keep_their_pad_bytes_and_an_unpadded_last_one_gains_one(tmp_path, writer):
    # A pad byte that is not zero, so that keeping it is seen; the last item has none, as some
    # writers leave it, and its INFO chunk's size is odd. The new IGNR comes after it.
    body = (tagfiles.riff_item(b"INAM", b"odd", b"\x7f") + tagfiles.riff_item(b"ICMT", b"even")
            + b"IART" + (5).to_bytes(4, "little") + b"Artis")
    path = wav(tmp_path, body=body)
    assert write_one(writer, path, GENRES).status == "written"
    tagfiles.assert_riff_layout(path)
    expected = (b"LIST" + (4 + len(body) + 1 + 8 + 28).to_bytes(4, "little") + b"INFO" + body + b"\0"
                + tagfiles.riff_item(b"IGNR", JOINED))
    assert expected in path.read_bytes()


def test_every_ignr_of_several_info_chunks_is_written(tmp_path, writer):
    path = wav(tmp_path, [(b"IART", b"First\0"), (b"IGNR", b"Rock\0")])
    tagfiles.add_riff_info(path, [(b"IGNR", b"Pop\0"), (b"INAM", b"Second\0")])
    assert write_one(writer, path, GENRES).status == "written"
    assert tagfiles.riff_info_items(path) == [[(b"IART", b"First\0"), (b"IGNR", JOINED)],
                                              [(b"IGNR", JOINED), (b"INAM", b"Second\0")]]


def test_an_info_genre_an_older_write_left_behind_is_brought_in_step(tmp_path, writer):
    path = wav(tmp_path)
    assert write_one(writer, path, GENRES).status == "written"
    # As a version that wrote the ID3 chunk alone left a WAV with INFO: its old genre there.
    tagfiles.add_riff_info(path, [(b"IART", b"Artist\0"), (b"IGNR", b"Rock\0")])
    assert write_one(writer, path, GENRES).status == "written"  # not "unchanged"
    assert tagfiles.riff_info_items(path) == [[(b"IART", b"Artist\0"), (b"IGNR", JOINED)]]
    assert write_one(writer, path, GENRES).status == "unchanged"


def test_a_wav_whose_info_genre_reads_as_its_id3_genre_is_unchanged(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wav-info")  # ID3: "(17)Rock"; INFO: "Rock"
    before = path.read_bytes()
    assert write_one(writer, path, ["Rock"]).status == "unchanged"
    assert path.read_bytes() == before


def test_ignr_is_utf8_as_ffmpeg_reads_it(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wav-info")
    assert write_one(writer, path, ["Música Popular Brasileira"]).status == "written"
    assert dict(tagfiles.riff_info_items(path)[0])[b"IGNR"] == "Música Popular Brasileira\0".encode()


@pytest.mark.parametrize("body, reason", [
    (tagfiles.riff_item(b"IART", b"Artist\0") + b"IGNR" + (200).to_bytes(4, "little") + b"Rock\0\0",
     "the INFO item IGNR runs past the end of its chunk"),
    (tagfiles.riff_item(b"IART", b"Artist\0") + b"IGN", "the INFO chunk ends inside an item's header"),
], ids=["item too long", "header cut short"])
def test_a_malformed_info_chunk_is_refused_and_the_file_left_untouched(tmp_path, writer, body, reason):
    path = wav(tmp_path, body=body)
    before = path.read_bytes()
    result = write_one(writer, path, GENRES)
    assert result.status == "error"
    assert result.message == (f"refused: the WAV file's INFO chunk, where players such as FFmpeg read its genre, "
                              f"does not parse ({reason}), so the file is left untouched")
    assert path.read_bytes() == before


def test_an_info_chunk_running_past_the_end_of_the_file_is_refused(tmp_path, writer):
    path = wav(tmp_path, [(b"IGNR", b"Rock\0")])
    data = bytearray(path.read_bytes())
    position = data.rindex(b"LIST")  # its size now claims 100 bytes more than there are
    data[position + 4:position + 8] = (int.from_bytes(data[position + 4:position + 8], "little") + 100).to_bytes(
        4, "little")
    data[4:8] = (len(data) + 100 - 8).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    result = write_one(writer, path, GENRES)
    assert result.status == "error" and "the INFO chunk runs past the end of the file" in result.message
    assert path.read_bytes() == bytes(data)


def test_a_read_only_wav_with_info_is_refused(tmp_path, writer):
    path = tagfiles.make(tmp_path, "wav-info")
    path.chmod(0o444)
    before = path.read_bytes()
    result = write_one(writer, path, GENRES)
    assert (result.status, result.message) == ("error", "the file is read-only")
    assert path.read_bytes() == before


def test_check_preserved_names_an_info_item_or_chunk_a_save_changed(tmp_path):
    original = tagfiles.make(tmp_path / "a", "wav-info")
    tag_format, _ = open_tags(original)
    changed_item = tmp_path / "item.wav"
    changed_item.write_bytes(original.read_bytes().replace(b"IART\x07\0\0\0Artist\0", b"IART\x07\0\0\0Artisx\0"))
    changed_audio = tmp_path / "audio.wav"
    data = bytearray(original.read_bytes())
    data[100] ^= 1  # a sample inside the data chunk
    changed_audio.write_bytes(bytes(data))
    changed_genre = tmp_path / "genre.wav"
    changed_genre.write_bytes(original.read_bytes().replace(b"IGNR\x05\0\0\0Rock\0", b"IGNR\x05\0\0\0Jazz\0"))
    assert (tag_format.check_preserved(str(original), str(changed_item))
            == "the WAV file's INFO item IART would not survive the write unchanged")
    assert (tag_format.check_preserved(str(original), str(changed_audio))
            == "the WAV file's data chunk would not survive the write unchanged")
    assert tag_format.check_preserved(str(original), str(changed_genre)) is None


def but_id3(data):
    """A WAV file's chunks but its ID3 chunk, as stored."""
    return [chunk for chunk in tagfiles.riff_chunks(data) if chunk[0].lower() != b"id3 "]


@pytest.mark.shared
@pytest.mark.corpus
def test_the_corpus_wavs_with_info_show_the_new_genre_and_undo_gives_info_back(tmp_path, writer):
    """Every WAV of ../shared/fixtures/tagged with an INFO chunk that takes a write: FFmpeg 5.1
    showed its old genre, or none, before INFO was kept in step."""
    from support.paths import SHARED

    corpus = SHARED / "fixtures" / "tagged"
    if not corpus.is_dir():
        pytest.skip("../shared/fixtures/tagged is absent")
    sources = [path for path in sorted(corpus.rglob("*")) if path.suffix.lower() == ".wav"
               and path.read_bytes()[:4] == b"RIFF" and tagfiles.riff_info_items(path)]
    with_ffprobe = shutil.which("ffprobe") is not None
    written = []
    for index, source in enumerate(sources):
        path = tmp_path / f"{index}.wav"
        shutil.copyfile(source, path)
        path.chmod(0o644)
        before, kept = path.read_bytes(), tagfiles.raw_tags(path)
        result = write_one(writer, path, GENRES)
        if result.status != "written":  # refused for reasons of its own, judged in test_corpus.py
            assert "INFO" not in result.message and path.read_bytes() == before, source
            continue
        written.append(source)
        ignr = [data for items in tagfiles.riff_info_items(path) for item_id, data in items if item_id == b"IGNR"]
        assert ignr and set(ignr) == {JOINED}, source
        assert tagfiles.raw_tags(path) == kept, source
        assert pyav_genre(path).split("; ")[0] == "Interop Jazz", source
        if with_ffprobe:
            assert ffprobe_genre(path) == "Interop Jazz; Second Genre", source
        assert [r.status for r in writer.undo()] == ["written"], source
        # Judged without the ID3 chunk, whose undo is ID3's: two of these WAVs hold an ID3v2.4
        # tag with an extended header, which a rewrite drops (id3raw.spliced).
        assert but_id3(path.read_bytes()) == but_id3(before), source
    assert len(written) == 31, written

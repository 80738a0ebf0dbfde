"""Vorbis comments (FLAC, Ogg Vorbis, Opus): what the format contract leaves to them."""

import os

import pytest
import soundfile as sf
from support import tagfiles
from support.writes import write_one

from tagger.tags import read_tags


@pytest.mark.parametrize("kind", ["flac", "opus", "ogg-vorbis"])
def test_vorbis_writes_one_field_per_genre(tmp_path, writer, kind):
    import mutagen

    path = tagfiles.make(tmp_path, kind)
    write_one(writer, path, ["Jazz", "Bebop"])
    genres = [value for key, value in mutagen.File(path).tags if key.lower() == "genre"]
    assert genres == ["Jazz", "Bebop"]


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

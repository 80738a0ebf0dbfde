"""MP4 (AAC and ALAC in .m4a): what the format contract leaves to it."""

import pytest
from support import tagfiles
from support.writes import write_one

from tagger.tags import read_tags


def test_display_fields(tmp_path):
    tags = read_tags(tagfiles.make(tmp_path, "m4a-aac"))
    assert (tags.artist, tags.album_artist, tags.album, tags.title, tags.track, tags.year) == (
        "Artist ★", "Album Artist", "Album", "Ünïcode title", "3", "1999")
    assert tags.duration_s == pytest.approx(2.0, abs=0.1)


def test_mp4_writes_several_values_in_one_atom(tmp_path, writer):
    import mutagen

    path = tagfiles.make(tmp_path, "m4a-alac")
    write_one(writer, path, ["Jazz", "Bebop"])
    assert mutagen.File(path).tags["\xa9gen"] == ["Jazz", "Bebop"]

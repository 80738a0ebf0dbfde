"""APEv2 (WavPack): what the format contract leaves to it."""

from support import tagfiles
from support.id3 import id3v1
from support.writes import write_one

from tagger.tags import read_tags


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

"""Reading and writing genres in every format, on files made in the test."""

import hashlib
import os

import mutagen
import pytest
from support import tagfiles
from support.writes import write_one

from tagger.files.identity import fingerprint
from tagger.tags import BrokenFile, UnsupportedFile, WriteMode, WriteOptions, read_tags
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


def test_display_fields(tmp_path):
    tags = read_tags(tagfiles.make(tmp_path, "m4a-aac"))
    assert (tags.artist, tags.album_artist, tags.album, tags.title, tags.track, tags.year) == (
        "Artist ★", "Album Artist", "Album", "Ünïcode title", "3", "1999")
    assert tags.duration_s == pytest.approx(2.0, abs=0.1)


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


def test_id3v23_separator_is_configurable(tmp_path):
    from mutagen.id3 import ID3

    journal = Journal(tmp_path / "j.sqlite3")
    writer = GenreWriter(journal, WriteOptions(id3v23_separator=" / "))
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    write_one(writer, path, ["Jazz", "Bebop"])
    assert ID3(path, translate=False).getall("TCON")[0].text == ["Jazz / Bebop"]
    assert read_tags(path, id3v23_separator=" / ").genres == ["Jazz", "Bebop"]


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


@pytest.mark.parametrize("kind", ["flac", "opus", "ogg-vorbis"])
def test_vorbis_writes_one_field_per_genre(tmp_path, writer, kind):
    import mutagen

    path = tagfiles.make(tmp_path, kind)
    write_one(writer, path, ["Jazz", "Bebop"])
    genres = [value for key, value in mutagen.File(path).tags if key.lower() == "genre"]
    assert genres == ["Jazz", "Bebop"]


def test_mp4_writes_several_values_in_one_atom(tmp_path, writer):
    import mutagen

    path = tagfiles.make(tmp_path, "m4a-alac")
    write_one(writer, path, ["Jazz", "Bebop"])
    assert mutagen.File(path).tags["\xa9gen"] == ["Jazz", "Bebop"]


def test_merge_appends_in_stable_order(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    writer = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE))
    path = tagfiles.make(tmp_path, "flac")
    result = write_one(writer, path, ["Jazz", "ROCK", "Bebop"])
    assert result.old_genres == ["Rock"]
    assert read_tags(path).genres == ["Rock", "Jazz", "Bebop"]
    assert write_one(writer, path, ["jazz"]).status == "unchanged"


def test_provenance_is_updated_not_piled_up(tmp_path, writer):
    import mutagen

    path = tagfiles.make(tmp_path, "mp3-id3v24")
    write_one(writer, path, ["Jazz"], provenance='{"run":1}')
    write_one(writer, path, ["Blues"], provenance='{"run":2}')
    assert len(mutagen.File(path).tags.getall("TXXX:GENRE_TAGGER")) == 1
    assert read_tags(path).provenance == '{"run":2}'
    write_one(writer, path, ["Blues", "Jazz"], provenance=None)
    assert read_tags(path).provenance is None


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_changed_file_is_refused(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    analysed = fingerprint(path)
    with open(path, "r+b") as f:  # another program edits the file afterwards
        f.seek(-1, os.SEEK_END)
        f.write(b"\x01")
    before = sha(path)
    result = write_one(writer, path, ["Jazz"], expected=analysed)
    assert result.status == "error" and "changed on disk since it was analysed" in result.message
    assert sha(path) == before


def test_unchanged_fingerprint_is_accepted(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    assert write_one(writer, path, ["Jazz"], expected=fingerprint(path)).status == "written"


@pytest.mark.parametrize("name, content, error", [
    ("empty.mp3", b"", BrokenFile),
    ("letter.mp3", b"plain text, not audio\n" * 40, BrokenFile),
    ("notes.txt", b"plain text, not audio\n" * 40, UnsupportedFile),
])
def test_unparseable_files_are_never_written(tmp_path, writer, name, content, error):
    path = tmp_path / name
    path.write_bytes(content)
    before = sha(path)
    with pytest.raises(error):
        read_tags(path)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and result.message
    assert sha(path) == before


def test_truncated_flac_is_refused_untouched(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    path.write_bytes(path.read_bytes()[:60])
    before = sha(path)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and "does not parse cleanly" in result.message
    assert sha(path) == before


def test_read_only_file_is_refused(tmp_path, writer):
    path = tagfiles.make(tmp_path, "ogg-vorbis")
    path.chmod(0o444)
    before = sha(path)
    result = write_one(writer, path, ["Jazz"])
    assert result.status == "error" and result.message == "the file is read-only"
    assert sha(path) == before


def test_read_only_folder_is_refused(shared_tmp):
    from support.privileges import run_unprivileged

    folder = shared_tmp / "album"
    folder.mkdir()
    path = tagfiles.make(folder, "flac")
    journal_dir = shared_tmp / "journal"
    journal_dir.mkdir(mode=0o777)
    journal_dir.chmod(0o777)
    path.chmod(0o666)
    folder.chmod(0o555)
    try:
        def attempt():
            journal = Journal(journal_dir / "j.sqlite3")
            (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "test")
            return result.status, result.message
        status, message = run_unprivileged(attempt)
    finally:
        folder.chmod(0o755)
    assert status == "error" and "folder is read-only" in message
    assert read_tags(path).genres == ["Rock"]


def test_vanished_file(tmp_path, writer):
    result = write_one(writer, tmp_path / "gone.flac", ["Jazz"])
    assert result.status == "error" and result.message == "no such file"


def test_unicode_path(tmp_path, writer):
    folder = tmp_path / "Ünïcødé 🎵" / os.fsdecode(b"caf\xe9")
    folder.mkdir(parents=True)
    path = tagfiles.make(folder, "opus")
    assert write_one(writer, path, ["Jazz"]).status == "written"
    assert read_tags(path).genres == ["Jazz"]


def test_dry_run_writes_nothing(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    before = sha(path)
    (result,) = writer.write([WriteRequest(path, ["Jazz"])], "test", dry_run=True)
    assert (result.status, result.old_genres, result.new_genres) == ("planned", ["Rock"], ["Jazz"])
    assert sha(path) == before
    assert writer.journal.batches() == []


def test_no_temporary_files_are_left(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    write_one(writer, path, ["Jazz"])
    # The journal's own files: its rollback journal, emptied after each commit, and the lock
    # that keeps two processes from opening it at once.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flac.flac", "journal.sqlite3", "journal.sqlite3-journal",
                                                           "journal.sqlite3.lock"]


def test_permissions_are_kept(tmp_path, writer):
    path = tagfiles.make(tmp_path, "flac")
    path.chmod(0o640)
    write_one(writer, path, ["Jazz"])
    assert path.stat().st_mode & 0o777 == 0o640


def test_mtime_kept_only_if_asked(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    path = tagfiles.make(tmp_path, "flac")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    GenreWriter(journal, WriteOptions(keep_mtime=True)).write([WriteRequest(path, ["Jazz"])], "t").__next__()
    assert path.stat().st_mtime == 1_000_000_000
    GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "t").__next__()
    assert path.stat().st_mtime > 1_000_000_000


def test_undo_of_a_write_interrupted_before_it_happened(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    path = tagfiles.make(tmp_path, "flac")
    batch = journal.start("crashed", "replace")
    (entry,) = journal.plan(batch, [{"path": path, "requested": ["Jazz"]}])
    # The process died here: the old values recorded as the writer records them, as stored.
    journal.mark_pending(entry, read_tags(path).stored_genres, ["Jazz"], None)
    (result,) = GenreWriter(journal).undo(batch)
    assert (result.status, result.message) == ("unchanged", "the interrupted write had not happened")
    assert read_tags(path).genres == ["Rock"]
    assert [e.state for e in journal.entries(batch)] == ["undone"]


def test_concurrent_writes_to_one_file_are_serialised(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    journal = Journal(tmp_path / "j.sqlite3")
    path = tagfiles.make(tmp_path, "ogg-vorbis")
    genre_sets = [[f"Genre {i}", "Shared"] for i in range(12)]

    def write_one(genres):
        (result,) = GenreWriter(journal).write([WriteRequest(path, genres)], "concurrent")
        assert result.status == "written" or "not the file the batch recorded" in result.message
        return result.status

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(write_one, genre_sets))
    # A batch planned before another batch changed the file refuses it rather than
    # writing over a file it has not seen; every write is whole either way.
    assert "written" in results
    assert set(results) <= {"written", "error"}
    assert read_tags(path).genres in genre_sets
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".ogg") == ["ogg-vorbis.ogg"]


def test_full_disk_leaves_the_file_and_no_temporary_copy(tmp_path, writer, monkeypatch):
    import errno

    from tagger.tags.base import TagFormat

    def disk_full(self, audio, path, options):
        raise OSError(errno.ENOSPC, "No space left on device")

    path = tagfiles.make(tmp_path, "flac")
    before = sha(path)
    monkeypatch.setattr(TagFormat, "save", disk_full)
    result = write_one(writer, path, ["Jazz"])
    assert (result.status, result.message) == ("error", "the disk is full")
    assert sha(path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".genre-tagger-")]


def test_finish_keeps_the_mode_the_batch_was_planned_in(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    path = tagfiles.make(tmp_path, "flac")
    batch = journal.start("interrupted merge", "merge")
    journal.plan(batch, [{"path": path, "requested": ["Jazz"]}])
    (result,) = GenreWriter(journal, WriteOptions(mode=WriteMode.REPLACE)).finish(batch)
    assert result.status == "written"
    assert read_tags(path).genres == ["Rock", "Jazz"]


def _chosen_type(path, **options) -> str:
    try:
        audio = mutagen.File(path, **options)
    except Exception as e:  # a damaged file: both must fail alike
        return type(e).__name__
    return type(audio).__name__ if audio is not None else "None"


def _same_detection(paths) -> None:
    from tagger.tags import detectable_types

    for path in paths:
        assert _chosen_type(path, options=detectable_types()) == _chosen_type(path), path


def test_one_parse_detects_each_kind_as_mutagen_does(tmp_path):
    from tagger.tags import detectable_types

    for kind in tagfiles.KINDS:
        (tmp_path / kind).mkdir()
        _same_detection([tagfiles.make(tmp_path / kind, kind)])
    # A file with another kind's extension is judged as mutagen judges it.
    _same_detection([tagfiles.make(tmp_path, "ogg-vorbis").rename(tmp_path / "really-ogg.mp3"),
                     tagfiles.make(tmp_path, "m4a-aac").rename(tmp_path / "really-m4a.flac")])
    # The ID3 kinds come back with their tags untranslated: ID3v2.3 stays v2.3.
    (tmp_path / "v23").mkdir()
    audio = mutagen.File(tagfiles.make(tmp_path / "v23", "mp3-id3v23"), options=detectable_types())
    assert audio.tags.version[:2] == (2, 3)


@pytest.mark.shared
@pytest.mark.corpus
def test_one_parse_detects_the_corpus_as_mutagen_does():
    from support.paths import SHARED

    corpus = SHARED / "fixtures" / "tagged"
    if not corpus.is_dir():
        pytest.skip("../shared/fixtures/tagged is absent")
    _same_detection(p for p in sorted(corpus.rglob("*")) if p.is_file() and p.name != "MANIFEST.tsv")


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

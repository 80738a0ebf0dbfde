"""Genre writes whatever the format: the refusals that keep a file whole, dry runs, merges,
undo of interrupted writes, and detection that agrees with mutagen's, on files made in the
test. What every tag system does alike is in test_format_contract.py, each one's quirks in
its own file (test_id3.py, test_vorbis.py, test_mp4.py, test_apev2.py).
"""

import hashlib
import os

import mutagen
import pytest
from support import tagfiles
from support.writes import write_one

from tagger.files.identity import fingerprint
from tagger.tags import BrokenFile, UnsupportedFile, WriteMode, WriteOptions, read_tags
from tagger.writing.journal import Journal, PlannedEntry
from tagger.writing.writer import GenreWriter, WriteRequest


def test_merge_appends_in_stable_order(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    writer = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE))
    path = tagfiles.make(tmp_path, "flac")
    result = write_one(writer, path, ["Jazz", "ROCK", "Bebop"])
    assert result.old_genres == ["Rock"]
    assert read_tags(path).genres == ["Rock", "Jazz", "Bebop"]
    assert write_one(writer, path, ["jazz"]).status == "unchanged"


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


def test_read_only_folder_is_refused(shared_tmp, writer, tmp_path):
    from support.privileges import run_unprivileged

    # As root the write runs in a child that drops to 'nobody', who may not read this
    # checkout (a clone under a 0700 folder): a write here first loads every module and
    # the genre vocabulary the writer needs, and the child inherits them.
    assert write_one(writer, tagfiles.make(tmp_path / "loaded"), ["Jazz"]).status == "written"
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
    (entry,) = journal.plan(batch, [PlannedEntry(path=path, requested=["Jazz"])])
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
    journal.plan(batch, [PlannedEntry(path=path, requested=["Jazz"])])
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

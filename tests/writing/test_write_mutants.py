"""Tests that kill mutants of the write path the rest of the default suite let live
(issue 9; run the audit with packaging/mutation_audit.sh). Each checks behaviour on real
files or a real journal, never the source text."""

import errno
import os

import pytest
from support import tagfiles
from support.writes import Killed, write

from tagger.files.atomic import TEMP_PREFIX, write_file_atomically
from tagger.tags import WriteOptions, read_tags
from tagger.tags.base import WriteMode
from tagger.text import describe_os_error as describe
from tagger.writing.journal import DONE, Journal, when
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult, planned_entry


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    yield journal
    journal.close()


def make(folder, kind="flac"):
    folder.mkdir(parents=True, exist_ok=True)
    return tagfiles.make(folder, kind)


# -- safewrite ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, text", [(errno.ENOSPC, "the disk is full"), (errno.EACCES, "permission denied"),
                                        (errno.EPERM, "permission denied"),
                                        (errno.EROFS, "the file system is read-only"),
                                        (errno.ENOENT, "the file is gone"), (errno.EIO, "I/O broke")])
def test_os_errors_are_described_in_words(code, text):
    assert describe(OSError(code, "I/O broke")) == text


def test_an_os_error_without_text_is_still_described():
    assert describe(OSError("no errno, no strerror")) == "no errno, no strerror"


def test_a_small_file_is_replaced_whole_and_no_copy_is_left(tmp_path):
    path = tmp_path / "settings.json"
    path.write_bytes(b"old")
    write_file_atomically(path, b"new contents")
    assert path.read_bytes() == b"new contents"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_a_failed_small_write_keeps_the_old_file_and_removes_its_copy(tmp_path, monkeypatch):
    path = tmp_path / "settings.json"
    path.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_file_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_a_copy_left_under_the_name_a_writer_used_is_removed_by_the_next_write(tmp_path, journal, monkeypatch):
    path = make(tmp_path / "album")
    names = []
    record = Journal.record_temporary
    monkeypatch.setattr(Journal, "record_temporary", lambda self, temp, target: (names.append(temp),
                                                                                record(self, temp, target)))
    write(journal, path, ["Jazz"])
    (temp,) = names
    # As a writer killed after making its copy leaves it: the file there and its name recorded.
    temp.write_bytes(path.read_bytes())
    journal.record_temporary(temp, path)
    write(journal, make(tmp_path / "other"), ["Blues"])
    assert not temp.exists() and journal.temporaries() == []


# -- the journal --------------------------------------------------------------------------------------

def test_times_are_shown_as_local_date_and_time():
    import datetime

    stamp = datetime.datetime(2024, 3, 5, 7, 8, 9).timestamp()
    assert when(stamp) == "2024-03-05 07:08:09"


def test_the_default_journal_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    journal = Journal()
    try:
        assert journal.path == tmp_path / "data" / "genre-tagger" / "journal.sqlite3"
        assert journal.path.is_file()
    finally:
        journal.close()


def test_a_batch_started_with_no_files_counts_none(journal):
    batch = journal.start("set", "replace")
    summary = journal.batch(batch)
    assert (summary.files, summary.undoable, summary.counts) == (0, False, {})


def test_the_journal_says_what_it_cannot_find(journal):
    with pytest.raises(LookupError) as missing:
        journal.batch(7)
    assert missing.value.args == ("the journal has no batch 7",)
    with pytest.raises(LookupError) as nothing:
        journal.batch_to_undo()
    assert nothing.value.args == ("nothing to undo: the journal has no written batch",)


# -- the writer ----------------------------------------------------------------------------------------

def test_a_dry_run_plans_reports_unchanged_and_errors_without_writing(tmp_path, journal):
    path = make(tmp_path)
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"fLaC not really")
    before = path.read_bytes()
    writer = GenreWriter(journal)
    planned, unchanged, error = writer.write(
        [WriteRequest(path, ["Jazz"]), WriteRequest(path, ["Rock"]), WriteRequest(broken, ["Jazz"])], "t",
        dry_run=True)
    assert (planned.path, planned.status, planned.old_genres, planned.new_genres) == (path, "planned", ["Rock"],
                                                                                      ["Jazz"])
    assert (unchanged.path, unchanged.status) == (path, "unchanged")
    assert (error.path, error.status, error.failed) == (broken, "error", True)
    assert path.read_bytes() == before and journal.batches() == []
    # The dry run gives the reason a real write would.
    (real,) = write(journal, broken, ["Jazz"])
    assert real.status == "error" and error.message == real.message


def test_a_dry_run_merge_plans_the_current_genres_plus_the_new(tmp_path, journal):
    path = make(tmp_path)
    (result,) = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE)).write([WriteRequest(path, ["Jazz"])], "t",
                                                                              dry_run=True)
    assert (result.status, result.old_genres, result.new_genres) == ("planned", ["Rock"], ["Rock", "Jazz"])


def test_a_dry_run_reads_id3v23_genres_with_the_chosen_separator(tmp_path, journal):
    path = make(tmp_path, "mp3-id3v23")
    options = {"id3v23_separator": " / "}
    assert write(journal, path, ["Rock", "Jazz"], **options)[0].status == "written"
    (result,) = GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(path, ["Rock", "Jazz"])], "t",
                                                                    dry_run=True)
    assert (result.status, result.old_genres) == ("unchanged", ["Rock", "Jazz"])


def test_a_refusal_is_recorded_in_the_journal_with_its_reason(tmp_path, journal):
    path = make(tmp_path)
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    path.chmod(0o444)  # no write bits: refused even for root
    try:
        (result,) = GenreWriter(journal).finish(batch)
    finally:
        path.chmod(0o644)
    assert (result.path, result.status, result.batch) == (path, "error", batch) and result.message
    assert (result.old_genres, result.new_genres) == (["Rock"], ["Rock"])  # what the file still holds
    (entry,) = journal.entries(batch)
    assert (entry.state, entry.message) == ("error", result.message)
    assert read_tags(path).genres == ["Rock"]


def test_the_provenance_field_is_compact_json_that_keeps_its_characters():
    import json

    from tagger import __version__
    from tagger.writing.writer import provenance_text

    text = provenance_text({"model": "mûsicnn", "confidence": {"Jazz": 0.9}})
    assert json.loads(text) == {"tool": f"genre-tagger {__version__}", "model": "mûsicnn",
                                "confidence": {"Jazz": 0.9}}
    assert "mûsicnn" in text and ": " not in text and ", " not in text


def test_undo_restores_the_provenance_field_it_replaced(tmp_path, journal):
    path = make(tmp_path, "ogg-vorbis")
    write(journal, path, ["Jazz"], provenance='{"tool":"first"}')
    write(journal, path, ["Blues"], provenance='{"tool":"second"}')
    assert [r.status for r in GenreWriter(journal).undo()] == ["written"]
    tags = read_tags(path)
    assert (tags.genres, tags.provenance) == (["Jazz"], '{"tool":"first"}')


def test_undo_of_a_merge_restores_exactly_the_old_genres(tmp_path, journal):
    path = make(tmp_path)
    options = WriteOptions(mode=WriteMode.MERGE)
    list(GenreWriter(journal, options).write([WriteRequest(path, ["Jazz"])], "merge"))
    assert read_tags(path).genres == ["Rock", "Jazz"]
    assert [r.status for r in GenreWriter(journal, options).undo()] == ["written"]
    assert read_tags(path).genres == ["Rock"]


def test_undo_keeps_the_callers_options_other_than_the_mode(tmp_path, journal):
    path = make(tmp_path)
    options = WriteOptions(mode=WriteMode.MERGE, keep_mtime=True)
    mtime = path.stat().st_mtime_ns
    list(GenreWriter(journal, options).write([WriteRequest(path, ["Jazz"])], "merge"))
    assert path.stat().st_mtime_ns == mtime
    assert [r.status for r in GenreWriter(journal, options).undo()] == ["written"]
    assert read_tags(path).genres == ["Rock"] and path.stat().st_mtime_ns == mtime


def test_undo_and_finish_say_why_there_is_nothing_to_do(tmp_path, journal):
    writer = GenreWriter(journal)
    with pytest.raises(LookupError) as empty:
        list(writer.finish())
    assert empty.value.args == ("the journal is empty",)
    path = make(tmp_path)
    (result,) = write(journal, path, ["Rock"])  # already Rock: nothing written
    assert result.status == "unchanged"
    with pytest.raises(LookupError) as nothing:
        list(writer.undo(result.batch))
    assert nothing.value.args == (f"batch {result.batch} has no writes left to undo",)


def test_finish_records_in_the_same_journal_and_completes_the_batch(tmp_path, journal, monkeypatch):
    # Were the journal lost on the way, the default one would be used: keep that in tmp_path.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = make(tmp_path / "album")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "written" and read_tags(path).genres == ["Jazz"]
    assert [e.state for e in journal.entries(batch)] == ["written"]
    assert journal.batch(batch).state == DONE


def crash_after_the_swap(journal, monkeypatch, path, genres):
    """A write that a kill stops after its copy replaced the file, before the journal heard."""
    finish = Journal.finish

    def killed_before_recording(self, entry, state, *args, **kwargs):
        if state == "written":
            raise Killed
        return finish(self, entry, state, *args, **kwargs)

    monkeypatch.setattr(Journal, "finish", killed_before_recording)
    writer = GenreWriter(journal)
    batch = writer.start("crashed")
    with pytest.raises(Killed):
        list(writer.write([WriteRequest(path, genres)], "crashed", batch=batch))
    monkeypatch.setattr(Journal, "finish", finish)
    (entry,) = journal.entries(batch)
    assert entry.state == "pending" and read_tags(path).genres == genres
    return batch


def test_undo_of_a_write_a_kill_interrupted_after_the_swap(tmp_path, journal, monkeypatch):
    path = make(tmp_path)
    write(journal, path, ["Jazz"])  # an earlier batch wrote this file
    batch = crash_after_the_swap(journal, monkeypatch, path, ["Blues"])
    (result,) = GenreWriter(journal).undo(batch)
    assert result.status == "written", result
    assert read_tags(path).genres == ["Jazz"]


def test_undo_of_an_interrupted_write_refuses_a_file_changed_since(tmp_path, journal, monkeypatch):
    path = make(tmp_path)
    write(journal, path, ["Jazz"])
    batch = crash_after_the_swap(journal, monkeypatch, path, ["Blues"])
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # another program touched it
    before = path.read_bytes()
    (result,) = GenreWriter(journal).undo(batch)
    assert result.status == "error" and "not the file the batch recorded" in result.message
    assert path.read_bytes() == before


def test_a_forked_child_gets_a_writer_thread_of_its_own(tmp_path, journal):
    path = make(tmp_path)
    write(journal, path, ["Jazz"])  # the parent's writer thread exists now
    pid = os.fork()
    if pid == 0:
        try:
            child = Journal(tmp_path / "child.sqlite3")
            (result,) = GenreWriter(child).write([WriteRequest(path, ["Blues"])], "child")
            os._exit(0 if result.status == "written" else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert read_tags(path).genres == ["Blues"]


def test_a_small_file_written_atomically_is_private_to_its_owner(tmp_path):
    import stat

    path = tmp_path / "settings.json"
    write_file_atomically(path, b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_copy_never_overwrites_a_file_already_under_its_name(tmp_path, journal, monkeypatch):
    import tagger.files.atomic as safewrite

    path = make(tmp_path)
    before = path.read_bytes()
    squatter = tmp_path / f"{TEMP_PREFIX}0123456789abcdef.flac"
    squatter.write_bytes(b"someone else's")
    monkeypatch.setattr(safewrite.secrets, "token_hex", lambda n: "0123456789abcdef")
    (result,) = write(journal, path, ["Jazz"])
    assert result.status == "error" and "temporary file" in result.message
    assert squatter.read_bytes() == b"someone else's" and path.read_bytes() == before


def test_the_refusals_of_check_writable_say_exactly_why(tmp_path, journal):
    path = make(tmp_path)
    os.link(path, tmp_path / "other name.flac")
    (result,) = write(journal, path, ["Jazz"])
    assert result.message == ("the file has 2 hard links; replacing it would leave the other names with the old "
                              "tags, so it is left untouched")


def test_a_read_only_folder_is_named_as_the_reason(shared_tmp):
    """As root the check runs in a child that drops to 'nobody' (see support.privileges.run_unprivileged)."""
    from support.privileges import unprivileged_refusal

    from tagger.files.atomic import WriteRefused, check_writable

    folder = shared_tmp / "album"
    folder.mkdir()
    path = make(folder)
    path.chmod(0o666)
    folder.chmod(0o555)
    try:
        message = unprivileged_refusal(lambda: check_writable(path), WriteRefused)
    finally:
        folder.chmod(0o755)
    assert message == "the folder is read-only, so the file cannot be replaced safely"


def test_rewrite_atomically_refuses_a_file_unlike_the_expected_one(tmp_path):
    from tagger.files.atomic import WriteRefused, rewrite_atomically
    from tagger.files.identity import fingerprint

    path = make(tmp_path)
    expected = fingerprint(path)
    with open(path, "ab") as f:
        f.write(b"\0")
    edits = []
    with pytest.raises(WriteRefused, match="changed on disk"):
        rewrite_atomically(path, edits.append, expected, keep_mtime=False)
    assert edits == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_file_keeps_its_owner_and_group_when_root_writes_it(tmp_path, journal):
    path = make(tmp_path)
    os.chown(path, 65534, 65534)
    (result,) = write(journal, path, ["Jazz"])
    assert result.status == "written"
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_check_unchanged_says_exactly_why_it_refuses(tmp_path, shared_tmp):
    from support.privileges import unprivileged_refusal

    from tagger.files.atomic import WriteRefused, check_unchanged
    from tagger.files.identity import fingerprint

    path = make(tmp_path)
    expected = fingerprint(path)
    assert check_unchanged(path, expected) == expected
    with open(path, "ab") as f:
        f.write(b"\0")
    with pytest.raises(WriteRefused) as changed:
        check_unchanged(path, expected)
    assert str(changed.value) == "the file changed on disk since it was analysed; analyse it again"
    with pytest.raises(WriteRefused) as gone:
        check_unchanged(tmp_path / "gone.flac", None)
    assert str(gone.value) == "the file is gone"
    private = make(shared_tmp)
    private.chmod(0o000)
    assert unprivileged_refusal(lambda: check_unchanged(private, None), WriteRefused) == "permission denied"


def test_the_current_genres_are_read_with_the_chosen_id3v23_separator(tmp_path, journal):
    path = make(tmp_path, "mp3-id3v23")
    options = {"id3v23_separator": " / "}
    write(journal, path, ["Jazz", "Bebop"], **options)
    (result,) = write(journal, path, ["Blues"], mode=WriteMode.MERGE, **options)
    assert (result.old_genres, result.new_genres) == (["Jazz", "Bebop"], ["Jazz", "Bebop", "Blues"])


def test_the_fingerprint_covers_both_ends_of_a_large_file(tmp_path):
    from tagger.files.identity import EDGE_BYTES, fingerprint

    path = tmp_path / "large.bin"
    data = bytearray(os.urandom(3 * EDGE_BYTES))
    path.write_bytes(data)
    st = path.stat()
    before = fingerprint(path)
    for offset in (10, len(data) - 10):  # the first and the last MiB
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        path.write_bytes(changed)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert fingerprint(path) != before
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint(path) == before


def test_stale_copies_are_all_removed_past_ones_that_are_kept(tmp_path):
    from tagger.files.atomic import remove_stale_temporaries

    target = make(tmp_path)
    foreign = tmp_path / "not-ours.flac"
    stale = [tmp_path / f"{TEMP_PREFIX}{i:016x}.flac" for i in (1, 2)]
    for path in (foreign, *stale):
        path.write_bytes(b"x")
    forgotten = []
    removed = remove_stale_temporaries([(foreign, target), (stale[0], target), (stale[1], target)], forgotten.append)
    assert removed == stale and forgotten == [foreign, *stale]
    assert foreign.exists() and not any(p.exists() for p in stale)


def entry_of(journal, result):
    (entry,) = [e for e in journal.entries(result.batch) if e.path == result.path]
    return entry


def test_every_outcome_is_reported_whole_and_recorded(tmp_path, journal):
    """Skipped, unchanged, refused and interrupted-undo results: every field, and the journal's entry."""
    path = make(tmp_path)
    # unchanged
    (result,) = write(journal, path, ["Rock"])
    assert result == WriteResult(path, "unchanged", ["Rock"], ["Rock"], None, result.batch)
    assert result.batch is not None and entry_of(journal, result).state == "unchanged"
    # skipped by undo: the genres changed since
    write(journal, path, ["Jazz"])
    write(journal, path, ["Polka", "Ska"], provenance='{"tool":"x"}')
    (result,) = GenreWriter(journal).undo(2)
    message = "skipped: its genres changed since they were written (now Polka, Ska)"
    assert result == WriteResult(path, "skipped", ["Polka", "Ska"], ["Polka", "Ska"], message, result.batch)
    assert result.batch is not None
    entry = entry_of(journal, result)
    assert (entry.state, entry.message) == ("skipped", message)
    # refused: the file changed since it was analysed
    from tagger.files.identity import fingerprint

    expected = fingerprint(path)
    with open(path, "ab") as f:
        f.write(b"\0")
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"], expected=expected)], "t")
    assert result == WriteResult(path, "error", ["Polka", "Ska"], ["Polka", "Ska"],
                                 "the file changed on disk since it was analysed; analyse it again", result.batch)
    assert entry_of(journal, result).state == "error"


def test_an_undo_of_a_write_that_never_happened_reports_it_whole(tmp_path, journal):
    path = make(tmp_path)
    batch = journal.start("crashed", "replace")
    (entry,) = journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    journal.mark_pending(entry, read_tags(path).stored_genres, ["Jazz"], None)  # as stored: ["Rock", "rock "]
    (result,) = GenreWriter(journal).undo(batch)
    assert result == WriteResult(path, "unchanged", ["Rock"], ["Rock"], "the interrupted write had not happened",
                                 result.batch)
    assert result.batch is not None and result.batch != batch
    assert entry_of(journal, result).state == "unchanged"


def test_an_undecodable_file_is_refused_with_its_genres_and_the_whole_reason(tmp_path, journal, monkeypatch):
    import tagger.writing.writer

    path = make(tmp_path)
    monkeypatch.setattr(tagger.writing.writer, "audio_probe", lambda path, duration_s=None: None)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "refused: its audio does not decode, so the write could not be checked to leave "
                                 "the audio intact (--force-undecodable writes it anyway)", result.batch)


def test_a_failing_save_is_refused_with_the_files_genres(tmp_path, journal, monkeypatch):
    from tagger.tags.base import TagFormat

    path = make(tmp_path, "ogg-vorbis")

    def broken_save(self, audio, path, options):
        raise ValueError("boom")

    monkeypatch.setattr(TagFormat, "save", broken_save)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "writing failed (ValueError: boom); the file is unchanged", result.batch)

"""The genre writer: dry runs, refusals, undo and finish, interrupted writes, and what each
result and journal entry says.

Most of these were written to kill mutants of the write path that the rest of the default
suite let live (issue 9; run the audit with packaging/mutation_audit.sh). Each checks what a
person can see on real files and a real journal: a file's genres and audio bytes, a write's
result, the journal's entries and batches; never the source text.

The writer's mutants still alive after these are equivalent: they change nothing a caller
can observe (a falsy ``ensure_ascii``, a read size, a probe length that MPEG byte digests
ignore, ``None`` or ``""`` where either is only tested for truth, a separator read back only
for values it does not split, joins of a list no format makes longer than one note,
branches for entries that cannot reach them). ``_forget_pool_after_fork`` runs in a forked
child, where mutmut sees no test; test_a_forked_child_gets_a_writer_thread_of_its_own kills
its mutant."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from support import tagfiles
from support.writes import write

from tagger.files.locks import file_lock
from tagger.tags import WriteOptions, read_tags
from tagger.tags.base import WriteMode
from tagger.writing.journal import BatchState, Journal, journal_errors
from tagger.writing.writer import (
    GenreWriter,
    WriteRequest,
    WriteResult,
    WriteStatus,
    planned_entry,
    same_genres,
    wait_for_writes,
)

# -- dry runs, refusals, provenance, undo and finish ---------------------------------------------------

def test_a_dry_run_plans_reports_unchanged_and_errors_without_writing(tmp_path, journal):
    path = tagfiles.make(tmp_path)
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
    path = tagfiles.make(tmp_path)
    (result,) = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE)).write([WriteRequest(path, ["Jazz"])], "t",
                                                                              dry_run=True)
    assert (result.status, result.old_genres, result.new_genres) == ("planned", ["Rock"], ["Rock", "Jazz"])


def test_a_dry_run_reads_id3v23_genres_with_the_chosen_separator(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"separator": " / "}
    assert write(journal, path, ["Rock", "Jazz"], **options)[0].status == "written"
    (result,) = GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(path, ["Rock", "Jazz"])], "t",
                                                                    dry_run=True)
    assert (result.status, result.old_genres) == ("unchanged", ["Rock", "Jazz"])


def test_a_result_says_how_the_file_stores_its_genres_afterwards(tmp_path, journal):
    # ID3v2.3 joins several genres in one value: a review row that shows the file as it is needs that value.
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    (result,) = write(journal, path, ["Rock", "Pop"])
    assert (result.status, result.new_genres, result.stored) == ("written", ["Rock", "Pop"], ["Rock; Pop"])
    assert result.stored_genres == ["Rock; Pop"] == read_tags(path).stored_genres
    (undone,) = GenreWriter(journal).undo()
    assert undone.stored_genres == ["(17)Rock"] == read_tags(path).stored_genres
    # A dry run stores nothing: what it plans is all it knows.
    (planned,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz", "Blues"])], "t", dry_run=True)
    assert (planned.stored, planned.stored_genres) == (None, ["Jazz", "Blues"])


def test_a_refusal_is_recorded_in_the_journal_with_its_reason(tmp_path, journal):
    path = tagfiles.make(tmp_path)
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
    path = tagfiles.make(tmp_path, "ogg-vorbis")
    write(journal, path, ["Jazz"], provenance='{"tool":"first"}')
    write(journal, path, ["Blues"], provenance='{"tool":"second"}')
    assert [r.status for r in GenreWriter(journal).undo()] == ["written"]
    tags = read_tags(path)
    assert (tags.genres, tags.provenance) == (["Jazz"], '{"tool":"first"}')


def test_undo_of_a_merge_restores_exactly_the_old_genres(tmp_path, journal):
    path = tagfiles.make(tmp_path)
    options = WriteOptions(mode=WriteMode.MERGE)
    list(GenreWriter(journal, options).write([WriteRequest(path, ["Jazz"])], "merge"))
    assert read_tags(path).genres == ["Rock", "Jazz"]
    assert [r.status for r in GenreWriter(journal, options).undo()] == ["written"]
    assert read_tags(path).genres == ["Rock"]


def test_undo_keeps_the_callers_options_other_than_the_mode(tmp_path, journal):
    path = tagfiles.make(tmp_path)
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
    path = tagfiles.make(tmp_path)
    (result,) = write(journal, path, ["Rock"])  # already Rock: nothing written
    assert result.status == "unchanged"
    with pytest.raises(LookupError) as nothing:
        list(writer.undo(result.batch))
    assert nothing.value.args == (f"batch {result.batch} has no writes left to undo",)


def test_finish_records_in_the_same_journal_and_completes_the_batch(tmp_path, journal, monkeypatch):
    # Were the journal lost on the way, the default one would be used: keep that in tmp_path.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tagfiles.make(tmp_path / "album")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "written" and read_tags(path).genres == ["Jazz"]
    assert [e.state for e in journal.entries(batch)] == ["written"]
    assert journal.batch(batch).state is BatchState.DONE


class Killed(BaseException):
    """Stands in for a SIGKILL: nothing catches it."""


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
    path = tagfiles.make(tmp_path)
    write(journal, path, ["Jazz"])  # an earlier batch wrote this file
    batch = crash_after_the_swap(journal, monkeypatch, path, ["Blues"])
    (result,) = GenreWriter(journal).undo(batch)
    assert result.status == "written", result
    assert read_tags(path).genres == ["Jazz"]


def test_undo_of_an_interrupted_write_refuses_a_file_changed_since(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path)
    write(journal, path, ["Jazz"])
    batch = crash_after_the_swap(journal, monkeypatch, path, ["Blues"])
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # another program touched it
    before = path.read_bytes()
    (result,) = GenreWriter(journal).undo(batch)
    assert result.status == "error" and "not the file the batch recorded" in result.message
    assert path.read_bytes() == before


def test_a_forked_child_gets_a_writer_thread_of_its_own(tmp_path, journal):
    path = tagfiles.make(tmp_path)
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


def test_the_current_genres_are_read_with_the_chosen_separator(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"separator": " / "}
    write(journal, path, ["Jazz", "Bebop"], **options)
    (result,) = write(journal, path, ["Blues"], mode=WriteMode.MERGE, **options)
    assert (result.old_genres, result.new_genres) == (["Jazz", "Bebop"], ["Jazz", "Bebop", "Blues"])


def entry_of(journal, result):
    (entry,) = [e for e in journal.entries(result.batch) if e.path == result.path]
    return entry


def test_every_outcome_is_reported_whole_and_recorded(tmp_path, journal):
    """Skipped, unchanged, refused and interrupted-undo results: every field, and the journal's entry."""
    path = tagfiles.make(tmp_path)
    # unchanged
    (result,) = write(journal, path, ["Rock"])
    # The file holds "Rock" already, stored as tagfiles stored it.
    assert result == WriteResult(path, "unchanged", ["Rock"], ["Rock"], None, result.batch, ["Rock", "rock "])
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
    path = tagfiles.make(tmp_path)
    batch = journal.start("crashed", "replace")
    (entry,) = journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    journal.mark_pending(entry, read_tags(path).stored_genres, ["Jazz"], None)  # as stored: ["Rock", "rock "]
    (result,) = GenreWriter(journal).undo(batch)
    assert result == WriteResult(path, "unchanged", ["Rock"], ["Rock"], "the interrupted write had not happened",
                                 result.batch, ["Rock", "rock "])
    assert result.batch is not None and result.batch != batch
    assert entry_of(journal, result).state == "unchanged"


def test_an_undecodable_file_is_refused_with_its_genres_and_the_whole_reason(tmp_path, journal, monkeypatch):
    import tagger.writing.writer

    path = tagfiles.make(tmp_path)
    monkeypatch.setattr(tagger.writing.writer, "audio_probe", lambda path, duration_s=None: None)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "refused: its audio does not decode, so the write could not be checked to leave "
                                 "the audio intact (--force-undecodable writes it anyway)", result.batch)


def test_a_failing_save_is_refused_with_the_files_genres(tmp_path, journal, monkeypatch):
    from tagger.tags.base import TagFormat

    path = tagfiles.make(tmp_path, "ogg-vorbis")

    def broken_save(self, audio, path, options):
        raise ValueError("boom")

    monkeypatch.setattr(TagFormat, "save", broken_save)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "writing failed (ValueError: boom); the file is unchanged", result.batch)


# -- stored separators, interrupted batches and undos, and refusals in words ------------------------

# Genres the vocabulary does not know, so that only the storage separator can split them.
UNKNOWN = ["Kitchen Clatter", "Moss Pop"]
# A genre whose name holds the joiner of the " / " separator: ID3v2.3 reads it back as two.
SLASHED = ["Hip-Hop/Rap"]


def killed_before_the_copy(monkeypatch):
    """Writes die after the journal recorded them as pending, before the file is copied."""
    import tagger.writing.writer

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(tagger.writing.writer, "rewrite_atomically", killed)


def undo_killed_after_planning(journal, monkeypatch, batch):
    """An undo of ``batch`` killed once it planned its own batch, before it touched a file; its id."""
    plan = Journal.plan

    def killed_after_planning(self, batch, entries):
        plan(self, batch, entries)
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(Journal, "plan", killed_after_planning)
        with pytest.raises(Killed):
            list(GenreWriter(journal).undo(batch))
    undo_batch = journal.last_batch()
    assert undo_batch != batch and [e.state for e in journal.entries(undo_batch)] == ["planned"]
    return undo_batch


def test_same_genres_splits_at_the_default_storage_separator_unless_told_otherwise():
    joined = [WriteOptions().separator.join(UNKNOWN)]
    assert same_genres(joined, UNKNOWN)
    assert not same_genres(joined, UNKNOWN[:1])


def test_a_dry_run_reads_the_genres_as_joined_with_the_chosen_separator(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"separator": " / "}
    assert write(journal, path, UNKNOWN, **options)[0].status == "written"
    (result,) = GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(path, UNKNOWN)], "t", dry_run=True)
    assert (result.status, result.old_genres, result.new_genres) == ("unchanged", UNKNOWN, UNKNOWN)


def test_writing_the_genres_a_file_holds_joined_with_the_chosen_separator_leaves_it_alone(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"separator": " / "}
    assert write(journal, path, UNKNOWN, **options)[0].status == "written"
    before = path.read_bytes()
    (result,) = write(journal, path, UNKNOWN, **options)
    assert (result.status, result.old_genres) == ("unchanged", UNKNOWN)
    assert path.read_bytes() == before


def test_history_lists_an_undo_as_a_replace_whatever_the_write_mode(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    writer = GenreWriter(journal, WriteOptions(mode=WriteMode.MERGE))
    (written,) = writer.write([WriteRequest(path, ["Jazz"])], "set")
    assert read_tags(path).genres == ["Rock", "Jazz"]
    (undone,) = writer.undo()
    assert undone.status == "written" and read_tags(path).genres == ["Rock"]
    summary = journal.batch(undone.batch)
    # The undo put the old values back whole: history must not say it merged.
    assert (summary.command, summary.mode) == (f"undo {written.batch}", "replace")


def test_a_file_deleted_while_its_batch_runs_is_an_error_not_unchanged(tmp_path, journal, monkeypatch):
    import tagger.writing.writer

    path = tagfiles.make(tmp_path, "flac")
    open_tags = tagger.writing.writer.open_tags

    def read_then_deleted(p):
        opened = open_tags(p)
        os.unlink(p)  # another program deletes the file just after the writer read it
        return opened

    monkeypatch.setattr(tagger.writing.writer, "open_tags", read_then_deleted)
    (result,) = write(journal, path, ["Rock"])  # the genre it held
    assert result.status == "error" and "not the file the batch recorded" in result.message
    assert [e.state for e in journal.entries(result.batch)] == ["error"]


def test_finish_names_the_file_whose_tag_library_failed(tmp_path, journal, monkeypatch):
    from tagger.tags.vorbis import VorbisFormat

    path = tagfiles.make(tmp_path, "flac")
    before = path.read_bytes()
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])

    def failing_read(self, audio, separator="; "):
        raise KeyError("bad block")

    monkeypatch.setattr(VorbisFormat, "read", failing_read)
    (result,) = GenreWriter(journal).finish(batch)
    assert (result.path, result.status, result.batch) == (path, "error", batch)
    assert "KeyError" in result.message and path.read_bytes() == before
    assert [e.state for e in journal.entries(batch)] == ["error"]


def test_finishing_an_undo_of_a_write_that_never_happened_names_the_file(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    with monkeypatch.context() as m:
        killed_before_the_copy(m)
        with pytest.raises(Killed):
            write(journal, path, ["Jazz"])
    crashed = journal.last_batch()
    # The undo is killed too, once it planned its batch and before it touched the file.
    undo_batch = undo_killed_after_planning(journal, monkeypatch, crashed)
    (result,) = GenreWriter(journal).finish()
    assert result == WriteResult(path, "unchanged", ["Rock"], ["Rock"], "the interrupted write had not happened",
                                 undo_batch, ["Rock", "rock "])
    assert [e.state for e in journal.entries(crashed)] == ["undone"]


def test_undo_of_a_write_that_never_happened_keeps_the_earlier_provenance_note(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "ogg-vorbis")
    write(journal, path, ["Jazz"], provenance='{"tool":"first"}')
    with monkeypatch.context() as m:
        killed_before_the_copy(m)
        with pytest.raises(Killed):
            write(journal, path, ["Blues"], provenance='{"tool":"second"}')
    crashed = journal.last_batch()
    before = path.read_bytes()
    (result,) = GenreWriter(journal).undo(crashed)
    assert (result.status, result.message) == ("unchanged", "the interrupted write had not happened")
    assert [e.state for e in journal.entries(crashed)] == ["undone"] and not journal.batch(crashed).undoable
    assert path.read_bytes() == before


def test_finish_after_a_kill_past_the_swap_keeps_the_old_genres_for_undo(tmp_path, journal, monkeypatch):
    """With the " / " separator, a genre holding a slash reads back split: still the genres written."""
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = WriteOptions(separator=" / ")
    finish = Journal.finish

    def killed_before_recording(self, entry, state, *args, **kwargs):
        if state == "written":
            raise Killed
        return finish(self, entry, state, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Journal, "finish", killed_before_recording)
        with pytest.raises(Killed):
            list(GenreWriter(journal, options).write([WriteRequest(path, SLASHED)], "crashed"))
    batch = journal.last_batch()
    assert [e.state for e in journal.entries(batch)] == ["pending"]
    (result,) = GenreWriter(journal, options).finish(batch)
    assert (result.status, result.message) == ("written", "already written before the interruption")
    assert [r.status for r in GenreWriter(journal, options).undo(batch)] == ["written"]
    assert read_tags(path, " / ").genres == ["Rock"]


def test_undo_restores_a_genre_holding_the_separators_joiner(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = WriteOptions(separator=" / ")
    (written,) = GenreWriter(journal, options).write([WriteRequest(path, SLASHED)], "set")
    assert written.status == "written"
    (undone,) = GenreWriter(journal, options).undo()
    assert undone.status == "written", undone.message
    assert read_tags(path, " / ").genres == ["Rock"]


def test_undo_says_a_file_whose_genre_was_cleared_since_now_has_none(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    (jazz,) = write(journal, path, ["Jazz"])
    (cleared,) = write(journal, path, [])  # a later batch left the file with no genre
    assert cleared.status == "written" and read_tags(path).genres == []
    before = path.read_bytes()
    (result,) = GenreWriter(journal).undo(jazz.batch)
    assert (result.status, result.message) == ("skipped", "skipped: its genres changed since they were written "
                                                          "(now none)")
    assert path.read_bytes() == before


def test_finish_names_the_files_an_interrupted_batch_finds_done_or_changed(tmp_path, journal, monkeypatch):
    # A batch killed once planned, whose file already holds the genre asked for.
    (tmp_path / "holding").mkdir()
    holding = tagfiles.make(tmp_path / "holding", "flac")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(holding, ["Rock"]))])
    (result,) = GenreWriter(journal).finish(batch)
    assert result == WriteResult(holding, "unchanged", ["Rock"], ["Rock"], None, batch, ["Rock", "rock "])
    # An undo killed once planned, whose file another batch changed since.
    path = tagfiles.make(tmp_path, "flac")
    (jazz,) = write(journal, path, ["Jazz"])
    write(journal, path, ["Blues"])
    undo_batch = undo_killed_after_planning(journal, monkeypatch, jazz.batch)
    (result,) = GenreWriter(journal).finish(undo_batch)
    message = "skipped: its genres changed since they were written (now Blues)"
    assert result == WriteResult(path, "skipped", ["Blues"], ["Blues"], message, undo_batch)
    assert read_tags(path).genres == ["Blues"]


def test_a_genre_that_does_not_read_back_is_refused_and_says_why(tmp_path, journal, monkeypatch):
    from tagger.tags.vorbis import VorbisFormat

    path = tagfiles.make(tmp_path, "flac")
    before = path.read_bytes()
    # As where a damaged block or chunk size hides the tag that was written: the copy keeps its old genres.
    monkeypatch.setattr(VorbisFormat, "save", lambda self, audio, path, options: None)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "the written genres read back as ['Rock', 'rock '], not ['Jazz']: the file's layout "
                                 "may be damaged, so it is left untouched", result.batch)
    assert path.read_bytes() == before


def test_a_write_that_would_change_the_audio_is_refused_and_says_why(tmp_path, journal, monkeypatch):
    from tagger.tags.id3 import ID3Format

    # AIFF: in a WAV file the raw comparison of its data chunk speaks first (test_riffinfo.py).
    path = tagfiles.make(tmp_path, "aiff")
    before = path.read_bytes()
    save = ID3Format.save

    def save_damaging_the_audio(self, audio, temp, options):
        save(self, audio, temp, options)
        with open(temp, "r+b") as f:  # a tag library that slips a byte into the samples
            f.seek(len(before) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0xFF]))

    monkeypatch.setattr(ID3Format, "save", save_damaging_the_audio)
    (result,) = write(journal, path, ["Jazz"])
    assert result == WriteResult(path, "error", ["Rock"], ["Rock"],
                                 "writing the tags would change how the audio decodes, so the file is left untouched",
                                 result.batch)
    assert path.read_bytes() == before


def test_a_file_changed_just_before_the_writer_locks_it_is_refused(tmp_path, journal, monkeypatch):
    """The file is checked again under the lock: another program may have written it between
    the plan and the lock."""
    import mutagen

    import tagger.writing.writer
    from tagger.files.identity import fingerprint

    path = tagfiles.make(tmp_path, "flac")
    expected = fingerprint(path)
    file_lock = tagger.writing.writer.file_lock

    def another_program_writes_first(p, *args, **kwargs):
        other = mutagen.File(p)
        other["TITLE"] = "retitled elsewhere"
        other.save()
        return file_lock(p, *args, **kwargs)

    monkeypatch.setattr(tagger.writing.writer, "file_lock", another_program_writes_first)
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"], expected=expected)], "t")
    assert (result.status, result.message) == ("error", "the file changed on disk since it was analysed; "
                                                        "analyse it again")
    tags = read_tags(path)
    assert (tags.genres, tags.title) == (["Rock"], "retitled elsewhere")


def test_a_note_on_a_write_is_kept_in_the_journal_for_history(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v1")
    (result,) = write(journal, path, ["Jazz"])
    note = "ID3v1 tag kept; an ID3v2.3 tag was added beside it for the genres"
    assert (result.status, result.message) == ("written", note)
    assert [(e.state, e.message) for e in journal.entries(result.batch)] == [("written", note)]


def test_writes_from_any_thread_run_on_the_one_writer_thread_named_for_thread_dumps(tmp_path, journal, monkeypatch):
    seen = []
    mark_pending = Journal.mark_pending

    def recording(self, *args, **kwargs):
        seen.append(threading.current_thread())
        return mark_pending(self, *args, **kwargs)

    monkeypatch.setattr(Journal, "mark_pending", recording)
    paths = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        paths.append(tagfiles.make(tmp_path / name, "flac"))
    callers = [threading.Thread(target=write, args=(journal, path, ["Jazz"])) for path in paths]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert [read_tags(path).genres for path in paths] == [["Jazz"], ["Jazz"]]
    assert len(seen) == 2 and seen[0] is seen[1] and seen[0] not in callers
    assert seen[0].name.startswith("tag-writer")


# -- the writer when the journal fails -----------------------------------------------------------------


def failing_finish(monkeypatch, *states: str) -> str:
    """The journal cannot record an outcome in ``states``; returns what it says then."""
    real = Journal.finish

    def finish(self, entry, state, *args, **kwargs):
        if state in states:
            with journal_errors(self.path):
                raise sqlite3.OperationalError("database or disk is full")
        return real(self, entry, state, *args, **kwargs)

    monkeypatch.setattr(Journal, "finish", finish)
    return "the journal could not record this: the undo journal {} could not be used: the disk is full"


def test_an_unchanged_file_the_journal_could_not_record_says_both(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    genres = read_tags(path).genres
    unrecorded = failing_finish(monkeypatch, "unchanged").format(journal.path)
    (result,) = GenreWriter(journal).write([WriteRequest(path, genres)], "t")
    assert result.status is WriteStatus.UNCHANGED and result.old_genres == result.new_genres == genres
    assert result.message == (f"{unrecorded}; 'genre-tagger finish {result.batch}' records it once the journal "
                              "can be written")


def test_a_skip_the_journal_could_not_record_keeps_its_reason_first(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    (written,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    list(GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "t"))
    unrecorded = failing_finish(monkeypatch, "skipped").format(journal.path)
    (result,) = GenreWriter(journal).undo(written.batch)
    assert result.status is WriteStatus.SKIPPED and result.old_genres == result.new_genres == ["Blues"]
    assert result.message == ("skipped: its genres changed since they were written (now Blues); "
                              f"{unrecorded}; 'genre-tagger finish {result.batch}' records it once the journal "
                              "can be written")


def test_a_skip_records_why(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    (written,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    list(GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "t"))
    (result,) = GenreWriter(journal).undo(written.batch)
    (entry,) = journal.entries(result.batch)
    assert entry.state == "skipped" and entry.message == result.message
    assert result.message == "skipped: its genres changed since they were written (now Blues)"


def test_finish_names_each_file_it_went_through(tmp_path, journal):
    """finish yields the writer's own results (write() puts the caller's path on them)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    done, gone = tagfiles.make(tmp_path / "a", "flac"), tagfiles.make(tmp_path / "b", "flac")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(p, ["Jazz"])) for p in (done, gone)])
    gone.unlink()
    written, refused = GenreWriter(journal).finish(batch)
    assert (written.path, written.status) == (done, WriteStatus.WRITTEN)
    assert (refused.path, refused.status) == (gone, WriteStatus.ERROR)


def test_a_write_that_is_recorded_says_nothing_more(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    assert result.status is WriteStatus.WRITTEN and result.message is None
    (entry,) = journal.entries(result.batch)
    assert entry.state == "written" and entry.identity is not None


def test_a_refusal_the_journal_could_not_record_says_both(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, ["Jazz"]))])
    path.unlink()
    unrecorded = failing_finish(monkeypatch, "error").format(journal.path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status is WriteStatus.ERROR and result.old_genres == result.new_genres == []
    assert result.message == f"no such file; {unrecorded}"
    assert result.batch == batch


def test_a_refusal_names_the_genres_the_file_keeps(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    genres = read_tags(path).genres
    batch = journal.start("set", "replace")
    entry = planned_entry(WriteRequest(path, ["Jazz"]))
    journal.plan(batch, [entry])
    os.utime(path, ns=(1, 1))  # not the file the batch recorded any more
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status is WriteStatus.ERROR and "not the file the batch recorded" in result.message
    assert result.old_genres == result.new_genres == genres
    (recorded,) = journal.entries(batch)
    assert recorded.state == "error" and recorded.message == result.message


def test_a_failure_inside_a_write_is_that_files_error_and_recorded(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    held_during_apply = []

    def boom(self, entry):
        with file_lock(entry.path, wait=False) as free:
            held_during_apply.append(not free)
        raise RuntimeError("boom")

    monkeypatch.setattr(GenreWriter, "_apply", boom)
    (result,) = GenreWriter(journal).write([WriteRequest(path, ["Jazz"])], "t")
    assert held_during_apply == [True]  # the folder's lock is held around the whole of it
    message = "writing failed (RuntimeError: boom); the file is unchanged"
    assert result.status is WriteStatus.ERROR and result.message == message
    (entry,) = journal.entries(result.batch)
    assert entry.state == "error" and entry.message == message


def test_waiting_for_writes_waits_for_the_one_in_flight(journal):
    from tagger.writing import writer
    wait_for_writes()  # nothing in flight, perhaps no pool yet: returns at once
    release, done = threading.Event(), []

    def slow():
        release.wait(5)
        done.append(True)

    writer.writer_pool().submit(slow)
    threading.Timer(0.3, release.set).start()
    wait_for_writes()
    assert done == [True]

"""More tests for mutants of tagger/writing/writer.py that the audit's other tests let live
(packaging/mutation_audit.sh). As in tests/writing/test_write_mutants.py, each checks what a person
can see: a file's genres and audio bytes, a write's result, the journal's entries and batches.

The writer's mutants still alive after these are equivalent: they change nothing a caller
can observe (a falsy ``ensure_ascii``, a read size, a probe length that MPEG byte digests
ignore, ``None`` or ``""`` where either is only tested for truth, a separator read back only
for values it does not split, joins of a list no format makes longer than one note,
branches for entries that cannot reach them). ``_forget_pool_after_fork`` runs in a forked
child, where mutmut sees no test; test_write_mutants' fork test kills its mutant."""

import os

import numpy as np
import pytest
import soundfile as sf
from support import tagfiles
from support.audio import tone
from support.writes import Killed, write

from tagger.tags import WriteOptions, read_tags
from tagger.tags.base import WriteMode
from tagger.writing.journal import Journal
from tagger.writing.probe import mpeg_audio_bytes
from tagger.writing.writer import (
    GenreWriter,
    WriteRequest,
    WriteResult,
    planned_entry,
    same_genres,
)

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
    joined = [WriteOptions().id3v23_separator.join(UNKNOWN)]
    assert same_genres(joined, UNKNOWN)
    assert not same_genres(joined, UNKNOWN[:1])


def test_a_dry_run_reads_the_genres_as_joined_with_the_chosen_separator(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"id3v23_separator": " / "}
    assert write(journal, path, UNKNOWN, **options)[0].status == "written"
    (result,) = GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(path, UNKNOWN)], "t", dry_run=True)
    assert (result.status, result.old_genres, result.new_genres) == ("unchanged", UNKNOWN, UNKNOWN)


def test_writing_the_genres_a_file_holds_joined_with_the_chosen_separator_leaves_it_alone(tmp_path, journal):
    path = tagfiles.make(tmp_path, "mp3-id3v23")
    options = {"id3v23_separator": " / "}
    assert write(journal, path, UNKNOWN, **options)[0].status == "written"
    before = path.read_bytes()
    (result,) = write(journal, path, UNKNOWN, **options)
    assert (result.status, result.old_genres) == ("unchanged", UNKNOWN)
    assert path.read_bytes() == before


def test_a_truncated_mp3_is_tagged_with_its_audio_bytes_kept(tmp_path, journal):
    """MPEG audio is checked byte for byte, so a cut-short download, whose header promises
    more audio than a decoder finds, is tagged like any other MP3, whatever case its suffix is in."""
    for name in ("incomplete.mp3", "INCOMPLETE2.MP3"):
        path = tmp_path / name
        sf.write(path, tone(8.0), 44100, format="MP3")
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 10])  # the header still says 8 s
        audio = mpeg_audio_bytes(path)
        (result,) = write(journal, path, ["Jazz"])
        assert result.status == "written", result.message
        assert read_tags(path).genres == ["Jazz"] and mpeg_audio_bytes(path) == audio


def long_dsf(folder, tag: bytes, seconds: float = 1.25):
    """A stereo DSD64 file with ``tag`` at its end, like test_preservation.dsf but long
    enough (its 12 ms of audio are not) that where the probe reads depends on the length."""
    per_channel = 4096 * round(seconds * 2822400 / 8 / 4096)
    audio = np.random.default_rng(1).integers(0, 256, 2 * per_channel, dtype=np.uint8).tobytes()
    fmt = (b"fmt " + (52).to_bytes(8, "little") + b"".join(v.to_bytes(4, "little") for v in (1, 0, 2, 2, 2822400, 1))
           + (per_channel * 8).to_bytes(8, "little") + (4096).to_bytes(4, "little") + bytes(4))
    data = b"data" + (12 + len(audio)).to_bytes(8, "little") + audio
    offset = 28 + len(fmt) + len(data)
    head = (b"DSD " + (28).to_bytes(8, "little") + (offset + len(tag)).to_bytes(8, "little")
            + offset.to_bytes(8, "little"))
    path = folder / "track.dsf"
    path.write_bytes(head + fmt + data + tag)
    return path


def test_a_dsf_file_is_written_though_its_decoder_guesses_the_length_from_the_size(tmp_path, journal):
    """FFmpeg reckons a DSF file's length from its size, so a tag that grows makes the copy
    seem longer: the copy's audio is probed where the original's was."""
    from support.id3 import frame, id3v2

    from tagger.audio.decode import open_audio
    from tagger.writing.probe import audio_probe

    tag = id3v2(4, [frame(4, "TIT2", b"\x03Title")], padding=0)
    path = long_dsf(tmp_path, tag)
    if audio_probe(path) is None:
        pytest.skip("this FFmpeg does not decode the synthetic DSD stream")
    reader = open_audio(path)
    length = reader.info.duration_s
    reader.close()
    body = path.read_bytes()[:-len(tag)]
    genres = ["Jazz", "A Long Genre Name That Makes The Tag Grow"]
    (result,) = write(journal, path, genres)
    assert result.status == "written", result.message
    # Past the header (which holds the file's size), the format and audio chunks are byte-identical.
    assert path.read_bytes()[28:len(body)] == body[28:] and read_tags(path).genres == genres
    reader = open_audio(path)
    assert reader.info.duration_s > length  # the premise: the decoder's idea of the length grew
    reader.close()


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

    def failing_read(self, audio, id3v23_separator="; "):
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
                                 undo_batch)
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
    options = WriteOptions(id3v23_separator=" / ")
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
    options = WriteOptions(id3v23_separator=" / ")
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
    assert result == WriteResult(holding, "unchanged", ["Rock"], ["Rock"], None, batch)
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

    path = tagfiles.make(tmp_path, "wav")
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
    import threading

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

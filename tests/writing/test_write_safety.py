"""The writer's safety nets, each shown to catch what it exists for (issue 9).

Every test here fails if its safety check is removed from writer.py, safewrite.py or
journal.py; the mutation audit in docs/testing.md lists what is left.
"""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from support import tagfiles

from tagger import cli
from tagger.cli import set as set_command
from tagger.files.atomic import TEMP_PREFIX
from tagger.files.identity import FileIdentity, fingerprint
from tagger.tags import WriteOptions, read_tags
from tagger.tags.base import TagFormat
from tagger.writing.journal import EntryState, Journal, PlannedEntry
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(journal, paths, genres, **options):
    return list(GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(p, genres) for p in paths], "test"))


def temporaries(folder):
    return [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


# -- the checks on the finished copy ---------------------------------------------------------------

def patched_save(monkeypatch, change):
    """Make every format's save also do ``change(path)`` to the copy it saved."""
    from tagger.tags import FORMATS

    for tag_format in FORMATS:
        original = type(tag_format).save

        def save(self, audio, path, options, original=original):
            original(self, audio, path, options)
            change(path)

        monkeypatch.setattr(type(tag_format), "save", save)


@pytest.mark.parametrize("kind", ["flac", "mp3-id3v24", "m4a-aac"])
def test_a_save_that_harms_the_audio_is_refused(tmp_path, journal, monkeypatch, kind):
    path = tagfiles.make(tmp_path, kind)
    before = sha(path)

    def flip_audio_bytes(copy):
        data = bytearray(Path(copy).read_bytes())
        middle = len(data) // 2
        data[middle:middle + 64] = bytes(b ^ 0x55 for b in data[middle:middle + 64])
        Path(copy).write_bytes(data)

    patched_save(monkeypatch, flip_audio_bytes)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error", result
    assert sha(path) == before
    assert not temporaries(tmp_path)


def test_damage_to_the_end_of_the_audio_is_caught(make_audio, journal, monkeypatch):
    """The probe reads the last second too: a chunk or tag written after the audio can derail a decoder there."""
    path = make_audio("long.flac", seconds=12.0)

    def damage_the_end(copy):
        data = bytearray(Path(copy).read_bytes())
        data[-600:-300] = bytes(300)
        Path(copy).write_bytes(data)

    patched_save(monkeypatch, damage_the_end)
    before = sha(path)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error", result
    assert sha(path) == before


def test_a_save_that_writes_other_genres_is_refused(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    before = sha(path)

    def write_polka(copy):
        import mutagen

        audio = mutagen.File(copy)
        audio.tags["GENRE"] = ["Polka"]
        audio.save()

    patched_save(monkeypatch, write_polka)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "read back as ['Polka']" in result.message
    assert sha(path) == before


def test_a_file_changed_while_its_copy_is_made_is_left_alone(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")

    def another_program_writes(copy):
        with open(path, "ab") as f:
            f.write(b"\0" * 16)

    patched_save(monkeypatch, another_program_writes)
    changed = fingerprint(path)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "changed on disk" in result.message
    assert path.stat().st_size == changed.size + 16
    assert read_tags(path).genres == ["Rock"]


def test_the_copy_and_the_folder_are_flushed_before_and_after_the_swap(tmp_path, journal, monkeypatch):
    import stat

    path = tagfiles.make(tmp_path, "flac")
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        st = os.fstat(fd)
        kind = "folder" if stat.S_ISDIR(st.st_mode) else ("target" if os.path.exists(path) and st.st_ino ==
                                                          os.stat(path).st_ino else "copy")
        synced.append(kind)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "written"
    # The copy is flushed while it is still the copy, then the folder after the rename.
    assert "copy" in synced and synced[-1] == "folder"
    assert synced.index("copy") < len(synced) - 1


def test_results_come_in_the_order_of_the_requests(tmp_path, journal):
    paths = [tagfiles.make(tmp_path / str(i), kind) for i, kind in enumerate(["flac", "mp3-id3v23", "ogg-vorbis",
                                                                              "m4a-aac", "wav"])]
    results = write(journal, paths, ["Jazz"])
    assert [r.path for r in results] == paths
    assert [e.path for e in journal.entries(results[0].batch)] == paths  # in the journal too


def test_undo_of_an_undo_writes_the_genres_again(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    write(journal, [path], ["Jazz"])
    writer = GenreWriter(journal)
    assert [r.status for r in writer.undo()] == ["written"]
    assert read_tags(path).genres == ["Rock"]
    assert [r.status for r in writer.undo()] == ["written"]  # the undo batch is undone
    assert read_tags(path).genres == ["Jazz"]


def test_no_provenance_removes_the_field_and_keep_mtime_keeps_the_time(tmp_path, journal):
    path = tagfiles.make(tmp_path, "ogg-vorbis")
    GenreWriter(journal).write([WriteRequest(path, ["Jazz"], provenance='{"tool":"t"}')], "t").__next__()
    assert read_tags(path).provenance == '{"tool":"t"}'
    os.utime(path, ns=(10**18, 10**18))
    code = cli.main(["set", str(path), "--genre", "Blues", "--no-provenance", "--keep-mtime"])
    assert code == 0
    assert read_tags(path).provenance is None and read_tags(path).genres == ["Blues"]
    assert path.stat().st_mtime_ns == 10**18


# -- the advisory lock between processes -----------------------------------------------------------

LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from tagger.files.atomic import file_lock
    with file_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def test_a_write_waits_for_another_process_holding_the_file(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    with subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path), "1.5"], stdout=subprocess.PIPE,
                          text=True) as holder:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        (result,) = write(journal, [path], ["Jazz"])
        waited = time.monotonic() - started
    assert result.status == "written"
    assert waited > 1.0, "the write did not wait for the other process's lock"


# -- the journal --------------------------------------------------------------------------------------

def test_journal_commits_are_durable_and_atomic(tmp_path, journal):
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    batch = journal.start("t", "replace")
    with pytest.raises(ValueError):  # one bad entry: the whole plan is rolled back
        journal.plan(batch, [PlannedEntry(path=tmp_path / "a.flac", requested=["x"]),
                             PlannedEntry(path=Path("relative.flac"), requested=["x"])])
    assert journal.entries(batch) == []


def test_entries_come_back_in_planned_order(tmp_path, journal):
    batch = journal.start("t", "replace")
    paths = [tmp_path / name for name in ("c.flac", "a.flac", "b.flac")]
    journal.plan(batch, [PlannedEntry(path=p, requested=["x"]) for p in paths])
    assert [e.path for e in journal.entries(batch)] == paths


def test_a_batch_with_only_a_pending_write_is_still_undoable(tmp_path, journal):
    earlier = journal.start("earlier", "replace")
    (done,) = journal.plan(earlier, [PlannedEntry(path=tmp_path / "a.flac", requested=["x"])])
    journal.finish(done, EntryState.WRITTEN)
    journal.complete(earlier)
    batch = journal.start("crashed", "replace")
    (entry,) = journal.plan(batch, [PlannedEntry(path=tmp_path / "b.flac", requested=["x"])])
    journal.mark_pending(entry, [], ["x"], None)
    assert journal.last_batch(undoable=True) == batch


def test_the_journal_stores_absolute_paths_and_finish_works_from_another_folder(tmp_path, journal, monkeypatch):
    """Item 5: finish run elsewhere, beside a music/ folder of its own, must not write into it."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    ours = tagfiles.make(home / "music", "flac")
    theirs = tagfiles.make(elsewhere / "music", "flac")
    theirs_before = sha(theirs)
    monkeypatch.chdir(home)
    writer = GenreWriter(journal)
    batch = writer.start("set")
    journal.plan(batch, [])  # a batch planned with a relative path is refused by the journal
    with pytest.raises(ValueError):
        journal.plan(batch, [PlannedEntry(path=Path("music/flac.flac"), requested=["Home"])])
    from tagger.writing.writer import planned_entry

    entry = planned_entry(WriteRequest(ours.relative_to(home), ["Home"]))
    assert entry.path == ours and entry.path.is_absolute()
    journal.plan(batch, [entry])  # the process is killed here, before writing
    monkeypatch.chdir(elsewhere)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "written" and result.path == ours
    assert read_tags(ours).genres == ["Home"]
    assert sha(theirs) == theirs_before


def planned_batch(journal, path, genres):
    """A batch planned and then interrupted before its write, as a kill leaves it."""
    from tagger.writing.writer import planned_entry

    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(path, genres))])
    return batch


def test_finish_refuses_a_renamed_file(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    path.rename(tmp_path / "renamed.flac")
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "error"
    assert read_tags(tmp_path / "renamed.flac").genres == ["Rock"]


def test_finish_refuses_a_file_replaced_by_another(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    other = tagfiles.make(tmp_path / "other", "flac")
    other.replace(path)
    before = sha(path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "error"
    assert result.message == ("refused: this is not the file the batch recorded (it was replaced, renamed or "
                              "changed since), so it is left untouched")
    assert (result.old_genres, result.new_genres) == (["Rock"], ["Rock"])  # what the file holds now
    assert sha(path) == before


def test_finish_refuses_a_file_rewritten_in_place(tmp_path, journal):
    """cp over a file keeps its inode: size and modification time still tell."""
    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    other = tagfiles.make(tmp_path / "other", "flac")
    inode = path.stat().st_ino
    with open(other, "rb") as source, open(path, "r+b") as target:
        target.write(source.read() + b"\0")
    assert path.stat().st_ino == inode
    before = sha(path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "error"
    assert sha(path) == before


def test_finish_and_undo_report_a_vanished_file(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    path.unlink()
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "error" and result.message == "no such file"
    kept = tagfiles.make(tmp_path / "b", "flac")
    write(journal, [kept], ["Jazz"])
    kept.unlink()
    # Since undo --root: a batch none of whose files is there any more is refused as a whole,
    # with a hint that its folder may have moved, rather than with an error per file.
    with pytest.raises(LookupError, match="none of batch .* written file"):
        list(GenreWriter(journal).undo())


def test_undo_refuses_a_file_replaced_since_it_was_written(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    write(journal, [path], ["Jazz"])
    other = tagfiles.make(tmp_path / "other", "flac")
    write(journal, [other], ["Jazz"])  # the same genres, so only the file's identity tells
    other.replace(path)
    before = sha(path)
    (result,) = GenreWriter(journal).undo(1)
    assert result.status == "error" and "not the file the batch recorded" in result.message
    assert sha(path) == before


def test_a_pending_write_that_happened_is_recognised_by_its_copy(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    (entry,) = journal.entries(batch)
    journal.mark_pending(entry.id, ["Rock"], ["Jazz"], None)
    # The write itself, as the killed process made it: a copy swapped in.
    copy = tmp_path / "copy.flac"
    copy.write_bytes(path.read_bytes())
    import mutagen

    audio = mutagen.File(copy)
    audio.tags["GENRE"] = ["Jazz"]
    audio.save()
    journal.set_temp_identity(entry.id, FileIdentity.of(copy))
    copy.replace(path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result == WriteResult(path, "written", ["Rock"], ["Jazz"], "already written before the interruption", batch,
                                 ["Jazz"])
    assert journal.entries(batch)[0].state == "written"
    (undone,) = GenreWriter(journal).undo(batch)
    assert undone.status == "written" and read_tags(path).genres == ["Rock"]


def test_undo_after_an_early_kill_stops_at_the_unfinished_batch(tmp_path, journal, capsys):
    """Item 6: a set killed while scanning must not make undo revert the batch before it."""
    path = tagfiles.make(tmp_path, "flac")
    write(journal, [path], ["Jazz"])
    GenreWriter(journal).start("set /music")  # killed before any file was planned
    with pytest.raises(LookupError, match=r"batch 2 \(set /music, .*\) did not finish"):
        list(GenreWriter(journal).undo())
    assert read_tags(path).genres == ["Jazz"]
    assert [r.status for r in GenreWriter(journal).undo(1)] == ["written"]  # named, it is undone
    assert list(GenreWriter(journal).finish(2)) == []  # finishing the empty batch closes it
    assert journal.batch(2).state == "done"


def test_cli_undo_names_the_batch_it_reverts(tmp_path, capsys):
    path = tagfiles.make(tmp_path, "flac")
    assert cli.main(["set", str(path), "--genre", "Jazz"]) == 0
    capsys.readouterr()
    assert cli.main(["undo"]) == 0
    err = capsys.readouterr().err
    assert f"undoing batch 1 (set {path}, " in err and "1 file(s))" in err


def test_cli_set_records_its_batch_before_scanning(tmp_path, monkeypatch):
    path = tagfiles.make(tmp_path, "flac")
    assert cli.main(["set", str(path), "--genre", "Jazz"]) == 0

    def killed(paths):
        raise KeyboardInterrupt  # the process dies while scanning

    monkeypatch.setattr(set_command, "scan", killed)
    # Since SIGTERM handling, main() reports the interruption and exits 128 + SIGINT.
    assert cli.main(["set", str(tmp_path), "--genre", "Blues"]) == 128 + signal.SIGINT
    journal = Journal()
    assert [b.state for b in journal.batches()] == ["done", "started"]
    assert cli.main(["undo"]) == 2  # refused: the newest batch did not finish
    assert read_tags(path).genres == ["Jazz"]


# -- symlinks and hard links ----------------------------------------------------------------------------

def test_a_symlinked_track_is_written_through_to_its_target(tmp_path, journal):
    target = tagfiles.make(tmp_path / "real", "ogg-vorbis")
    link = tmp_path / "lib" / "a.ogg"
    link.parent.mkdir()
    link.symlink_to(os.path.relpath(target, link.parent))
    (result,) = write(journal, [link], ["Jazz"])
    assert result.status == "written" and result.path == link
    assert link.is_symlink()
    assert read_tags(target).genres == ["Jazz"]
    assert [e.path for e in journal.entries(result.batch)] == [target]


def test_a_hard_linked_file_is_refused_not_split(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    other_name = tmp_path / "also.flac"
    os.link(path, other_name)
    before = sha(path)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "2 hard links" in result.message
    assert sha(path) == sha(other_name) == before
    assert os.stat(path).st_ino == os.stat(other_name).st_ino


# -- one file's failure is that file's ------------------------------------------------------------------

def test_an_unexpected_decoder_exception_fails_one_file_and_finish_moves_on(tmp_path, journal, monkeypatch):
    import tagger.writing.probe

    paths = [tagfiles.make(tmp_path / str(i), "flac") for i in range(3)]
    real_open = tagger.writing.probe.open_audio

    def broken_decoder(path):
        if path == paths[1]:
            raise AttributeError("'NoneType' object has no attribute 'sample_rate'")
        return real_open(path)

    monkeypatch.setattr(tagger.writing.probe, "open_audio", broken_decoder)
    monkeypatch.setattr(TagFormat, "read", TagFormat.read)  # (the tag side is untouched)
    statuses = [r.status for r in write(journal, paths, ["Jazz"])]
    assert statuses[0] == statuses[2] == "written"
    assert statuses[1] == "error"
    assert read_tags(paths[1]).genres == ["Rock"]


def test_an_exception_escaping_a_write_is_recorded_so_finish_skips_it(tmp_path, journal, monkeypatch):
    import tagger.writing.writer

    paths = [tagfiles.make(tmp_path / str(i), "flac") for i in range(2)]
    real_open_tags = tagger.writing.writer.open_tags

    def explode_on_the_first(path):
        if path == paths[0]:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return real_open_tags(path)

    monkeypatch.setattr(tagger.writing.writer, "open_tags", explode_on_the_first)
    results = write(journal, paths, ["Jazz"])
    assert [r.status for r in results] == ["error", "written"]
    assert [r.path for r in results] == paths
    assert results[0].batch == results[1].batch is not None
    assert results[0].message == ("writing failed (UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in "
                                  "position 0: invalid start byte); the file is unchanged")
    entry = journal.entries(results[0].batch)[0]
    assert (entry.state, entry.message) == ("error", results[0].message)
    assert read_tags(paths[0]).genres == ["Rock"]
    with pytest.raises(LookupError, match="nothing left to finish"):
        list(GenreWriter(journal).finish())


# -- files whose audio does not decode -------------------------------------------------------------------

def test_a_file_whose_audio_does_not_decode_is_refused_unless_forced(tmp_path, journal):
    import mutagen

    path = tagfiles.make(tmp_path, "ogg-vorbis")
    data = bytearray(path.read_bytes())
    # Damage the audio pages after the headers: the tags still parse, the audio does not decode.
    audio_start = data.find(b"OggS", data.find(b"vorbis", data.find(b"\x05vorbis")))
    data[audio_start + 200:] = bytes(len(data) - audio_start - 200)
    path.write_bytes(bytes(data))
    assert mutagen.File(path) is not None
    from tagger.writing.probe import audio_probe

    if audio_probe(path) is not None:
        pytest.skip("the damaged file still decodes with this libsndfile/FFmpeg")
    before = sha(path)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "--force-undecodable" in result.message
    assert sha(path) == before
    (result,) = write(journal, [path], ["Jazz"], force_undecodable=True)
    assert result.status == "written" and read_tags(path).genres == ["Jazz"]


# -- temporary copies a killed writer left behind --------------------------------------------------------

def test_stale_temporaries_are_removed_by_the_next_write(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    stale = tmp_path / f"{TEMP_PREFIX}0123456789abcdef.flac"
    stale.write_bytes(path.read_bytes())
    journal.record_temporary(stale, path)  # as the killed writer did before creating it
    not_ours = tmp_path / f"{TEMP_PREFIX}fedcba9876543210.flac"  # never recorded: left alone
    not_ours.write_bytes(b"x")
    other = tagfiles.make(tmp_path / "elsewhere", "flac")
    write(journal, [other], ["Jazz"])
    assert not stale.exists() and not_ours.exists()
    assert journal.temporaries() == []


def test_a_temporary_of_a_live_writer_is_kept(tmp_path, journal):
    path = tagfiles.make(tmp_path, "flac")
    live = tmp_path / f"{TEMP_PREFIX}00112233445566ff.flac"
    live.write_bytes(b"in progress")
    journal.record_temporary(live, path)
    with subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path), "3"], stdout=subprocess.PIPE,
                          text=True) as holder:
        assert holder.stdout.readline().strip() == "locked"
        assert GenreWriter(journal).remove_stale_temporaries() == []
        assert live.exists()
    assert GenreWriter(journal).remove_stale_temporaries() == [live]
    assert not live.exists()


def test_a_temporary_name_is_recorded_before_the_copy_exists(tmp_path, journal, monkeypatch):
    import tagger.files.atomic as safewrite

    path = tagfiles.make(tmp_path, "flac")
    seen = []
    real_create = safewrite.create_exclusively

    def create(temp):
        seen.append([t for t, _ in journal.temporaries()])
        return real_create(temp)

    monkeypatch.setattr(safewrite, "create_exclusively", create)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "written"
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].name.startswith(TEMP_PREFIX)
    assert journal.temporaries() == []  # forgotten once swapped in


def test_settings_are_saved_through_the_atomic_helper(tmp_path, monkeypatch):
    import tagger.settings as settings_module
    from tagger.settings import Settings

    calls = []
    monkeypatch.setattr(settings_module, "write_file_atomically", lambda path, data: calls.append((path, data)))
    Settings(max_genres=2).save(tmp_path / "settings.json")
    assert calls and b'"max_genres": 2' in calls[0][1]


def test_audio_probe_compares_decoded_samples(tmp_path):
    from tagger.writing.probe import AudioProbe, audio_probe, same_audio

    path = tagfiles.make(tmp_path, "flac")
    probe = audio_probe(path)
    assert isinstance(probe.samples, np.ndarray) and probe.samples.size > 0
    assert same_audio(probe, audio_probe(path))
    assert not same_audio(probe, AudioProbe(probe.samples[:-1], probe.duration_s)) and not same_audio(probe, None)
    # A copy is probed at the original's positions, whatever length its decoder reports.
    assert same_audio(probe, audio_probe(path, probe.duration_s))
    assert not same_audio(probe, audio_probe(path, probe.duration_s / 4))
    assert not same_audio(AudioProbe(b"abc", 0), AudioProbe(b"abd", 0))
    assert same_audio(AudioProbe(b"abc", 0), AudioProbe(b"abc", 0))


def test_a_journal_from_an_older_version_is_migrated_and_its_relative_paths_refused(tmp_path, monkeypatch):
    import sqlite3

    path = tagfiles.make(tmp_path / "music", "flac")
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.executescript("""
        CREATE TABLE batches (id INTEGER PRIMARY KEY, created REAL NOT NULL, command TEXT NOT NULL, mode TEXT NOT NULL);
        CREATE TABLE entries (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, path BLOB NOT NULL,
            requested TEXT NOT NULL, expected TEXT, provenance TEXT, require_current TEXT, undoes INTEGER,
            state TEXT NOT NULL, old_genres TEXT, new_genres TEXT, old_provenance TEXT, message TEXT,
            updated REAL NOT NULL);
        INSERT INTO batches VALUES (1, 0, 'set music', 'replace');
        INSERT INTO entries (batch, path, requested, state, updated) VALUES (1, X'6d757369632f666c61632e666c6163',
            '["Home"]', 'planned', 0);
    """)
    old.commit()
    old.close()
    monkeypatch.chdir(tmp_path)  # where music/flac.flac would resolve, relative
    journal = Journal(tmp_path / "old.sqlite3")
    assert journal.batch(1).state == "done"
    (result,) = GenreWriter(journal).finish(1)
    assert result.status == "error"
    assert result.message == ("recorded with a relative path by an older version; it is not clear which file "
                              "was meant, so nothing is written")
    assert read_tags(path).genres == ["Rock"]


def test_a_pending_write_is_not_taken_as_done_on_a_file_put_in_its_place(tmp_path, journal):
    """Another file with the new genres at the path is not the write the batch made."""
    import mutagen

    path = tagfiles.make(tmp_path, "flac")
    batch = planned_batch(journal, path, ["Jazz"])
    (entry,) = journal.entries(batch)
    journal.mark_pending(entry.id, ["Rock"], ["Jazz"], None)
    impostor = tagfiles.make(tmp_path / "other", "flac")
    audio = mutagen.File(impostor)
    audio.tags["GENRE"] = ["Jazz"]
    audio.save()
    impostor.replace(path)
    (result,) = GenreWriter(journal).finish(batch)
    assert result.status == "error" and "not the file the batch recorded" in result.message
    assert journal.entries(batch)[0].state == "error"


def test_undo_reports_and_restores_old_values_that_repeat_a_genre(tmp_path, journal):
    import mutagen

    path = tagfiles.make(tmp_path, "flac")
    audio = mutagen.File(path)
    audio["genre"] = ["Rock", "rock"]  # another tagger's two spellings, each its own field
    audio.save()
    write(journal, [path], ["Jazz"])
    (result,) = GenreWriter(journal).undo()
    # Verbatim, as they were stored: not folded into one, in the report or in the file.
    assert result.new_genres == ["Rock", "rock"]
    assert mutagen.File(path)["genre"] == ["Rock", "rock"]


def test_a_request_that_replaces_does_so_in_a_merging_batch_planned_run_or_finished(tmp_path, journal):
    from tagger.tags import WriteMode
    from tagger.writing.writer import planned_entry

    a, b, c = (tagfiles.make(tmp_path / name, "flac") for name in "abc")
    write(journal, [a, b, c], ["Electronica", "Jazz"])
    merging = GenreWriter(journal, WriteOptions(WriteMode.MERGE))
    requests = [WriteRequest(a, ["Electronic", "Jazz"], mode=WriteMode.REPLACE), WriteRequest(b, ["Electronic"])]
    planned = list(merging.write(requests, "cleanup", dry_run=True))
    assert [r.new_genres for r in planned] == [["Electronic", "Jazz"], ["Electronica", "Jazz", "Electronic"]]
    assert [r.new_genres for r in merging.write(requests, "cleanup")] == [r.new_genres for r in planned]
    assert read_tags(a).genres == ["Electronic", "Jazz"]
    assert read_tags(b).genres == ["Electronica", "Jazz", "Electronic"]
    # A batch interrupted before its write finishes each file in the mode it was planned with.
    batch = journal.start("cleanup", WriteMode.MERGE.value)
    journal.plan(batch, [planned_entry(WriteRequest(c, [], mode=WriteMode.REPLACE))])
    assert [r.status for r in GenreWriter(journal).finish(batch)] == ["written"]
    assert read_tags(c).genres == []


# -- files that had no ID3v2 tag -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mp3-id3v1", "mp3-untagged"])
def test_undo_gives_a_file_that_had_no_id3v2_tag_back_byte_for_byte(tmp_path, journal, kind):
    from tagger.writing.writer import provenance_text

    path = tagfiles.make(tmp_path, kind)
    before = path.read_bytes()
    writer = GenreWriter(journal)
    (result,) = writer.write([WriteRequest(path, ["Jazz"], provenance=provenance_text({}))], "set")
    assert result.status == "written" and path.read_bytes()[:3] == b"ID3"  # the genres need an ID3v2 tag
    assert [r.status for r in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_undo_keeps_an_added_id3v2_tag_that_another_tagger_has_written_to_since(tmp_path, journal):
    from mutagen.id3 import ID3, TCOM

    path = tagfiles.make(tmp_path, "mp3-id3v1")
    writer = GenreWriter(journal)
    write(journal, [path], ["Jazz"])
    # A tagger that keeps the modification time (Mp3tag can) saves in the tag's padding: to
    # the journal the file is the one it wrote.
    written = path.stat()
    tags = ID3(path)
    tags.add(TCOM(encoding=3, text=["A. Composer"]))  # which no ID3v1 field can hold
    tags.save(path, v2_version=3)
    os.utime(path, ns=(written.st_atime_ns, written.st_mtime_ns))
    assert path.stat().st_size == written.st_size
    assert [r.status for r in writer.undo()] == ["written"]
    assert ID3(path)["TCOM"].text == ["A. Composer"] and read_tags(path).genres == ["Rock"]


def test_removing_an_id3v2_tag_is_refused_unless_the_id3v1_tag_holds_all_it_held(tmp_path):
    import shutil

    from mutagen.id3 import ID3

    from tagger.tags import open_tags

    for kind, refused in [("mp3-id3v24", True), ("mp3-id3v1", False)]:
        path = tagfiles.make(tmp_path / kind, kind)
        write_journal = Journal(tmp_path / kind / "journal.sqlite3")
        write(write_journal, [path], ["Jazz"])  # the ID3v1-only file gains a tag of copied fields
        write_journal.close()
        stripped = tmp_path / kind / "stripped.mp3"
        shutil.copy(path, stripped)
        ID3(stripped).delete(stripped, delete_v1=False, delete_v2=True)
        problem = open_tags(path)[0].check_preserved(str(path), str(stripped))
        assert (problem is not None) == refused, (kind, problem)


@pytest.mark.parametrize("kind", ["mp3-id3v24", "mp3-id3v23", "aiff"])
def test_undo_gives_a_tag_that_grew_for_the_genres_its_old_size_back(tmp_path, journal, kind):
    import mutagen
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, kind)
    audio = mutagen.File(path)
    # No padding: the genres do not fit, and the write makes the tag larger.
    audio.save(padding=lambda info: 0, **({} if kind == "aiff" else {"v2_version": ID3(path).version[1]}))
    before = path.read_bytes()
    writer = GenreWriter(journal)
    (result,) = writer.write([WriteRequest(path, ["Progressive Electronic Dance Music", "Jazz"])], "set")
    assert result.status == "written" and len(path.read_bytes()) > len(before)
    assert [r.status for r in writer.undo()] == ["written"]
    assert path.read_bytes() == before


@pytest.mark.parametrize("kind", ["flac", "ogg-vorbis", "opus"])
def test_a_vorbis_comment_keeps_its_genre_fields_place_and_spelling_and_undo_gives_it_back(tmp_path, journal, kind):
    import mutagen

    from tagger.writing.writer import provenance_text

    path = tagfiles.make(tmp_path, kind)
    audio = mutagen.File(path)
    audio.tags.clear()
    audio.tags.extend([("ARTIST", "A"), ("genre", "Rock"), ("genre", "Pop"), ("TITLE", "T")])
    audio.save()
    before = path.read_bytes()
    writer = GenreWriter(journal)
    (result,) = writer.write([WriteRequest(path, ["Jazz"], provenance=provenance_text({}))], "set")
    assert result.status == "written"
    assert [key for key, _ in mutagen.File(path).tags][:3] == ["ARTIST", "genre", "TITLE"]
    assert [r.status for r in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def id3v24_tag_with(path, flag: int) -> None:
    """Give ``path`` an ID3v2.4 tag of a few UTF-8 frames, no padding and the header ``flag``:
    a footer (0x10), or tag-wide unsynchronisation (0x80), a no-op for frames with no 0xFF byte."""
    from mutagen.id3 import COMM, ID3, TALB, TIT2, TPE1

    tags = ID3()
    for frame in (TIT2, TPE1, TALB):
        tags.add(frame(encoding=3, text=[f"{frame.__name__} é"]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=["a comment"]))
    tags.save(path, padding=lambda info: 0)
    data = path.read_bytes()
    size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    body, audio = data[10:10 + size], data[10 + size:]
    assert data[3] == 4 and b"\xff" not in body
    header = b"ID3" + bytes([4, 0, data[5] | flag]) + data[6:10]
    path.write_bytes(header + body + (b"3DI" + header[3:] if flag & 0x10 else b"") + audio)


@pytest.mark.parametrize("flag", [0x10, 0x80, 0x90], ids=["footer", "unsynchronised", "both"])
def test_an_id3v24_tag_with_a_footer_or_unsynchronisation_keeps_it_and_undo_gives_it_back(tmp_path, journal, flag):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-untagged")
    id3v24_tag_with(path, flag)
    before = path.read_bytes()
    frames = {key: str(frame) for key, frame in ID3(path).items() if key != "TCON"}
    writer = GenreWriter(journal)
    (result,) = writer.write([WriteRequest(path, ["Trip Hop", "Downtempo"])], "set")
    assert result.status == "written", result
    data = path.read_bytes()
    assert data[3] == 4 and data[5] & flag == flag  # still ID3v2.4, with its footer or flag
    if flag & 0x10:
        size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
        assert data[10 + size:10 + size + 10] == b"3DI" + data[3:10]  # a footer that repeats the header
    tags = ID3(path)
    assert tags["TCON"].text == ["Trip Hop", "Downtempo"]
    assert {key: str(frame) for key, frame in tags.items() if key != "TCON"} == frames
    assert [r.status for r in writer.undo()] == ["written"]
    assert path.read_bytes() == before


def test_a_save_that_changes_the_id3v2_version_is_refused(tmp_path, journal, monkeypatch):
    from mutagen.id3 import ID3

    path = tagfiles.make(tmp_path, "mp3-id3v24")
    before = sha(path)
    patched_save(monkeypatch, lambda copy: ID3(copy).save(copy, v2_version=3))
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "would not keep its version" in result.message, result
    assert sha(path) == before


def test_a_save_that_changes_the_id3v1_tag_beyond_its_genre_is_refused(tmp_path, journal, monkeypatch):
    path = tagfiles.make(tmp_path, "mp3-id3v1")
    before = sha(path)

    def retitle_v1(copy):
        data = bytearray(Path(copy).read_bytes())
        data[-125:-122] = b"new"  # the ID3v1 title's first bytes
        Path(copy).write_bytes(data)

    patched_save(monkeypatch, retitle_v1)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error" and "ID3v1 tag would change beyond its genre" in result.message, result
    assert sha(path) == before


def test_a_wav_over_4_gib_is_refused_before_it_is_copied(tmp_path, journal):
    """RIFF sizes are 32-bit: mutagen failed with a struct error after a 4 GiB copy."""
    import soundfile as sf

    path = tmp_path / "long.wav"
    sf.write(path, np.zeros((4410, 2), np.float32), 44100)
    with open(path, "r+b") as f:
        f.truncate((1 << 32) + 1000)  # sparse: the test takes no disk space
    with open(path, "rb") as f:
        head = f.read(4096)
    (result,) = write(journal, [path], ["Jazz"])
    assert result.status == "error"
    assert "WAV file of nearly 4 GiB or more has no room for a tag chunk" in result.message
    with open(path, "rb") as f:
        assert f.read(4096) == head
    assert path.stat().st_size == (1 << 32) + 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize("kind", ["mp3-untagged", "mp3-id3v1", "mp3-id3v23", "mp3-id3v24"])
def test_undo_of_a_second_write_gives_the_provenance_frame_back_byte_for_byte(tmp_path, journal, kind):
    """mutagen wrote the first tag, ending the provenance text with a terminator; the undo
    rebuilt the frame from its text without one, a byte short."""
    path = tagfiles.make(tmp_path, kind)
    provenance = '{"tool":"genre-tagger","source":"set"}'
    list(GenreWriter(journal).write([WriteRequest(path, ["A"], provenance=provenance)], "t"))
    first = path.read_bytes()
    list(GenreWriter(journal).write([WriteRequest(path, ["B"], provenance=provenance + " ")], "t"))
    assert [r.status for r in GenreWriter(journal).undo()] == ["written"]
    assert path.read_bytes() == first

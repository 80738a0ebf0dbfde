"""Replacing a file safely: small files written whole, the swap of a checked copy
(rewrite_atomically), the copies a killed writer leaves, and each refusal in words.

Written to kill mutants of the swap that the rest of the default suite let live (issue 9,
and the mutation run from b157a2b on; packaging/mutation_audit.sh). Mutants left alive on
purpose are listed in README's mutation section.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path

import pytest
from support import tagfiles
from support.writes import write

from tagger.files import atomic as safewrite
from tagger.files.atomic import (
    TEMP_PREFIX,
    WriteRefused,
    rewrite_atomically,
    write_file_atomically,
)
from tagger.files.locks import OpenForWriting, _process_name
from tagger.writing.journal import Journal

# -- small files written whole, and the copies and refusals around a swap ----------------------------


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
    path = tagfiles.make(tmp_path / "album")
    names = []
    record = Journal.record_temporary
    monkeypatch.setattr(Journal, "record_temporary", lambda self, temp, target: (names.append(temp),
                                                                                record(self, temp, target)))
    write(journal, path, ["Jazz"])
    (temp,) = names
    # As a writer killed after making its copy leaves it: the file there and its name recorded.
    temp.write_bytes(path.read_bytes())
    journal.record_temporary(temp, path)
    write(journal, tagfiles.make(tmp_path / "other"), ["Blues"])
    assert not temp.exists() and journal.temporaries() == []


def test_a_small_file_written_atomically_is_private_to_its_owner(tmp_path):
    import stat

    path = tmp_path / "settings.json"
    write_file_atomically(path, b"{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_copy_never_overwrites_a_file_already_under_its_name(tmp_path, journal, monkeypatch):
    import tagger.files.atomic as safewrite

    path = tagfiles.make(tmp_path)
    before = path.read_bytes()
    squatter = tmp_path / f"{TEMP_PREFIX}0123456789abcdef.flac"
    squatter.write_bytes(b"someone else's")
    monkeypatch.setattr(safewrite.secrets, "token_hex", lambda n: "0123456789abcdef")
    (result,) = write(journal, path, ["Jazz"])
    assert result.status == "error" and "temporary file" in result.message
    assert squatter.read_bytes() == b"someone else's" and path.read_bytes() == before


def test_the_refusals_of_check_writable_say_exactly_why(tmp_path, journal):
    path = tagfiles.make(tmp_path)
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
    path = tagfiles.make(folder)
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

    path = tagfiles.make(tmp_path)
    expected = fingerprint(path)
    with open(path, "ab") as f:
        f.write(b"\0")
    edits = []
    with pytest.raises(WriteRefused, match="changed on disk"):
        rewrite_atomically(path, edits.append, expected, keep_mtime=False)
    assert edits == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_file_keeps_its_owner_and_group_when_root_writes_it(tmp_path, journal):
    path = tagfiles.make(tmp_path)
    os.chown(path, 65534, 65534)
    (result,) = write(journal, path, ["Jazz"])
    assert result.status == "written"
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_check_unchanged_says_exactly_why_it_refuses(tmp_path, shared_tmp):
    from support.privileges import unprivileged_refusal

    from tagger.files.atomic import WriteRefused, check_unchanged
    from tagger.files.identity import fingerprint

    path = tagfiles.make(tmp_path)
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
    private = tagfiles.make(shared_tmp)
    private.chmod(0o000)
    assert unprivileged_refusal(lambda: check_unchanged(private, None), WriteRefused) == "permission denied"


def test_stale_copies_are_all_removed_past_ones_that_are_kept(tmp_path):
    from tagger.files.atomic import remove_stale_temporaries

    target = tagfiles.make(tmp_path)
    foreign = tmp_path / "not-ours.flac"
    stale = [tmp_path / f"{TEMP_PREFIX}{i:016x}.flac" for i in (1, 2)]
    for path in (foreign, *stale):
        path.write_bytes(b"x")
    forgotten = []
    removed = remove_stale_temporaries([(foreign, target), (stale[0], target), (stale[1], target)], forgotten.append)
    assert removed == stale and forgotten == [foreign, *stale]
    assert foreign.exists() and not any(p.exists() for p in stale)


# -- the swap itself (rewrite_atomically) -------------------------------------------------------------


def plain_file(tmp_path: Path, data: bytes = b"old contents") -> Path:
    path = tmp_path / "a.flac"
    path.write_bytes(data)
    return path


def append(temp: str) -> None:
    with open(temp, "ab") as f:
        f.write(b" and new")


def test_the_modification_time_is_the_writes_unless_asked_to_keep_it(tmp_path):
    path = plain_file(tmp_path)
    os.utime(path, ns=(10**18, 10**18))
    rewrite_atomically(path, append, None)
    assert path.read_bytes() == b"old contents and new"
    assert path.stat().st_mtime_ns != 10**18


def test_a_file_that_grows_while_it_is_copied_is_copied_only_to_its_size_and_refused(tmp_path):
    path = plain_file(tmp_path)
    copied = []

    def grow(temp: Path) -> None:  # after the size was taken, before the copy is made
        with open(path, "ab") as f:
            f.write(b"+" * 100)

    with pytest.raises(WriteRefused, match="changed on disk"):
        rewrite_atomically(path, lambda temp: copied.append(Path(temp).read_bytes()), None, on_temporary=grow)
    assert copied == [b"old contents"]
    assert path.read_bytes() == b"old contents" + b"+" * 100
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


def test_only_root_gives_the_copy_the_originals_owner(tmp_path, monkeypatch):
    """A user's chown to a group it is not in would fail: only root, who can, gives the file away."""
    path = plain_file(tmp_path)
    chowned = []
    monkeypatch.setattr(os, "chown", lambda *args: chowned.append(args))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    rewrite_atomically(path, append, None)
    assert chowned == []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    rewrite_atomically(path, append, None)
    st = path.stat()
    assert len(chowned) == 1 and chowned[0][1:] == (st.st_uid, st.st_gid)
    assert path.read_bytes() == b"old contents and new and new"


def test_the_copy_is_flushed_through_a_descriptor_that_can_write(tmp_path, monkeypatch):
    """Windows flushes (FlushFileBuffers) only a handle open for writing; Linux would take either."""
    path = plain_file(tmp_path)
    modes = []
    real = os.fsync

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            modes.append(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    rewrite_atomically(path, append, None)
    assert modes == [os.O_RDWR]


def test_a_file_this_process_has_open_for_writing_is_refused_by_name(tmp_path):
    path = plain_file(tmp_path)
    me = OpenForWriting(os.getpid(), _process_name(str(os.getpid())))
    with open(path, "ab"), pytest.raises(WriteRefused) as refused:
        rewrite_atomically(path, append, None)
    assert str(refused.value) == (f"{me} has the file open for writing; replacing it now would lose what that "
                                  "program writes, so it is left untouched (close it and try again)")
    assert path.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


def test_every_writer_of_the_file_is_named(tmp_path, monkeypatch):
    path = plain_file(tmp_path)
    asked = []
    monkeypatch.setattr(safewrite, "processes_writing",
                        lambda p: asked.append(p) or [OpenForWriting(7, "player"), OpenForWriting(9, "editor")])
    with pytest.raises(WriteRefused, match=r"^player \(process 7\), editor \(process 9\) has the file open"):
        rewrite_atomically(path, append, None)
    assert asked == [path]


def test_a_failure_of_the_system_is_refused_in_words_and_leaves_no_copy(tmp_path):
    path = plain_file(tmp_path)

    def full(temp: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteRefused, match="^the disk is full$"):
        rewrite_atomically(path, full, None)
    assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]


@pytest.mark.parametrize("error", [OSError(errno.EIO, "I/O error"), ValueError("a tag library's own")])
def test_a_copy_gone_already_when_the_edit_fails_leaves_the_edits_error(tmp_path, error):
    path = plain_file(tmp_path)

    def fail(temp: str) -> None:
        os.unlink(temp)
        raise error

    expected = WriteRefused if isinstance(error, OSError) else ValueError
    with pytest.raises(expected, match="I/O error" if expected is WriteRefused else "own"):
        rewrite_atomically(path, fail, None)
    assert path.read_bytes() == b"old contents"

"""The folder lock that serialises writes, and who has a file open for writing (/proc).

From the mutation run over the folder lock and /proc's writers (the changes from b157a2b
on): each pins behaviour that a surviving mutant changed and no other fast test noticed.
Mutants left alive on purpose are listed in README's mutation section.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from platformdirs import user_data_path
from support.descriptors import descriptors_within
from support.paths import REPO

from tagger.files.locks import (
    OpenForWriting,
    _opened_for_writing,
    _process_name,
    _stand_in_lock_file,
    file_lock,
    processes_writing,
    take_lock,
)

# -- a lock held for as long as a process runs ----------------------------------------------------------

TAKER = """
import sys
from pathlib import Path
from tagger.files.locks import take_lock
held = take_lock(Path(sys.argv[1]))
print("held" if held else "refused", flush=True)
sys.stdin.readline()
"""


def other_process_takes(path: Path) -> subprocess.Popen:
    """A process that tries ``path``'s lock, says whether it got it, and holds it until its stdin ends."""
    return subprocess.Popen([sys.executable, "-c", TAKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=REPO)


def test_a_held_lock_keeps_every_other_taker_out_until_it_is_released(tmp_path):
    path = tmp_path / "state" / "owner.lock"
    held = take_lock(path)
    assert held is not None and path.is_file()
    assert take_lock(path) is None  # a second taker in this process too
    other = other_process_takes(path)
    assert other.stdout.readline().strip() == "refused"
    other.communicate("", timeout=60)
    held.release()
    held.release()  # a second release does nothing
    other = other_process_takes(path)
    try:
        assert other.stdout.readline().strip() == "held"
        assert take_lock(path) is None  # now this process is the other taker
    finally:
        other.communicate("", timeout=60)
    assert descriptors_within(tmp_path) == 0


def test_a_crashed_holder_leaves_no_lock_behind(tmp_path):
    path = tmp_path / "owner.lock"
    holder = other_process_takes(path)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.communicate(timeout=60)
    again = take_lock(path)
    assert again is not None
    again.release()


def test_a_lock_no_one_holds_on_to_is_let_go(tmp_path):
    path = tmp_path / "owner.lock"
    assert take_lock(path) is not None  # dropped at once
    gc.collect()
    again = take_lock(path)
    assert again is not None
    again.release()
    assert descriptors_within(tmp_path) == 0


# -- the folder lock ----------------------------------------------------------------------------------


def test_the_lock_is_the_folders_and_is_let_go(tmp_path):
    """flock locks belong to an open file description, so two locks in one process exclude each other."""
    (tmp_path / "other").mkdir()
    a, b, elsewhere = tmp_path / "a.flac", tmp_path / "b.flac", tmp_path / "other" / "c.flac"
    with file_lock(a) as held:
        assert held is True
        with file_lock(b, wait=False) as second:  # another file of the same folder
            assert second is False
        with file_lock(elsewhere, wait=False) as third:
            assert third is True
    assert descriptors_within(tmp_path) == 0
    with file_lock(b, wait=False) as again:
        assert again is True
    assert descriptors_within(tmp_path) == 0


def test_a_missing_folder_needs_no_lock(tmp_path):
    with file_lock(tmp_path / "gone" / "a.flac", wait=False) as held:
        assert held is True


@pytest.fixture
def folders_cannot_be_locked(monkeypatch):
    """As on NFS: flock on a folder opened read-only fails with ENOLCK (or EBADF)."""
    real = fcntl.flock

    def flock(fd, operation):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)


def test_where_a_folder_cannot_be_locked_a_lock_file_stands_in(tmp_path, folders_cannot_be_locked):
    locks = user_data_path("genre-tagger", appauthor=False) / "locks"
    with file_lock(tmp_path / "a.flac") as held:
        assert held is True
        (lock,) = locks.iterdir()
        with file_lock(tmp_path / "b.flac", wait=False) as second:
            assert second is False
        (tmp_path / "other").mkdir()
        with file_lock(tmp_path / "other" / "c.flac", wait=False) as third:
            assert third is True
    assert descriptors_within(tmp_path, locks) == 0
    with file_lock(tmp_path / "b.flac", wait=False) as again:
        assert again is True
    assert descriptors_within(tmp_path, locks) == 0


def test_the_stand_in_lock_file_is_named_after_the_real_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    name = hashlib.sha256(os.fsencode(tmp_path / "real")).hexdigest()[:32] + ".lock"
    expected = user_data_path("genre-tagger", appauthor=False) / "locks" / name
    assert not expected.parent.exists()  # made, with its parents, by the first call
    fds = [_stand_in_lock_file(tmp_path / "real"), _stand_in_lock_file(tmp_path / "link")]
    try:
        for fd in fds:
            assert os.readlink(f"/proc/self/fd/{fd}") == os.fspath(expected)
        assert expected.stat().st_mode & 0o777 == 0o600
    finally:
        for fd in fds:
            os.close(fd)


# -- who has a file open for writing -------------------------------------------------------------------


def fdinfo(tmp_path: Path, text: str) -> str:
    path = tmp_path / "fdinfo"
    path.write_text(text)
    return os.fspath(path)


@pytest.mark.parametrize("flags, writing", [("0100000", False), ("0100001", True), ("0100002", True),
                                            ("02", True), ("010", False), ("0100003", False), ("03", False)])
def test_the_access_mode_is_read_from_the_octal_flags(tmp_path, flags, writing):
    assert _opened_for_writing(fdinfo(tmp_path, f"pos:\t0\nflags:\t{flags}\nmnt_id:\t20\n")) is writing


@pytest.mark.parametrize("text", ["pos:\t0\nmnt_id:\t20\n", "flags:\n", "flags:\t0x1\n", "pos: flags: 01\n"])
def test_fdinfo_without_readable_flags_is_no_writer(tmp_path, text):
    assert _opened_for_writing(fdinfo(tmp_path, text)) is False


def test_fdinfo_that_is_gone_is_no_writer(tmp_path):
    assert _opened_for_writing(os.fspath(tmp_path / "gone")) is False


def test_a_process_name_is_its_comm_or_a_stand_in():
    with open("/proc/self/comm") as f:
        assert _process_name(str(os.getpid())) == f.read().strip()
    assert _process_name("999999999") == "a process"


def test_a_process_without_a_name_is_a_process(tmp_path):
    (tmp_path / "comm").write_text("\n")  # read where /proc/PID/comm would be
    assert _process_name(os.path.relpath(tmp_path, "/proc")) == "a process"
    (tmp_path / "comm").write_text("player\n")
    assert _process_name(os.path.relpath(tmp_path, "/proc")) == "player"
    assert _process_name(str(os.getpid()))[-1:].strip()


def test_this_process_writing_a_file_is_found_once(tmp_path):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    (tmp_path / "a.flac.bak").write_bytes(b"x")
    me = OpenForWriting(os.getpid(), _process_name(str(os.getpid())))
    with open(path, "rb"):
        assert processes_writing(path) == []  # reading is no danger
    with open(tmp_path / "a.flac.bak", "ab"):
        assert processes_writing(path) == []  # another file
    with open(path, "ab"), open(path, "r+b"):
        assert processes_writing(path) == [me]
    assert str(me) == f"{me.name} (process {os.getpid()})"


def test_another_process_writing_a_file_is_found(tmp_path):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    holder = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'ab'); print('open', "
                               "flush=True); sys.stdin.readline()", os.fspath(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert processes_writing(path) == [OpenForWriting(holder.pid, _process_name(str(holder.pid)))]
    finally:
        holder.communicate("\n", timeout=30)
    assert processes_writing(path) == []


def test_processes_and_descriptors_that_cannot_be_read_are_passed_over(tmp_path, monkeypatch):
    """Another user's process (its fd folder unreadable), or a descriptor closed meanwhile."""
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    real_listdir, real_readlink = os.listdir, os.readlink
    mine = f"/proc/{os.getpid()}/fd/"

    def listdir(folder):
        if folder.startswith("/proc/") and folder.endswith("/fd/") and folder != mine:
            raise PermissionError(errno.EACCES, "Permission denied")
        names = real_listdir(folder)
        return ["999999", *names] if folder == mine else names

    def readlink(link):
        if link == mine + "999999":
            raise FileNotFoundError(errno.ENOENT, "gone")
        return real_readlink(link)

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(os, "readlink", readlink)
    with open(path, "ab"):
        assert [p.pid for p in processes_writing(path)] == [os.getpid()]


def test_without_proc_no_writer_is_known(tmp_path, monkeypatch):
    path = tmp_path / "a.flac"
    path.write_bytes(b"x")
    real = os.path.isdir
    monkeypatch.setattr(os.path, "isdir", lambda p: False if p == "/proc/self/fd" else real(p))
    with open(path, "ab"):
        assert processes_writing(path) == []

"""Who else writes a file: the advisory lock between Genre Tagger processes, the lock a
process holds on one of its state files for as long as it runs, and the other programs
that hold a file open for writing (from /proc on Linux)."""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@contextmanager
def file_lock(path: Path, wait: bool = True) -> Iterator[bool]:
    """The advisory lock that keeps two Genre Tagger processes from writing one file at once.

    The lock is taken on the file's folder, not on the file: a swap replaces the file's
    inode, so a second writer waiting on the old inode would wake up holding a lock on a
    file that no longer has a name, read its stale tags and swap them back over the first
    writer's. The folder keeps its inode through the swap. Writers of other files in the
    same folder wait too, which costs little: a process writes one file at a time anyway.
    Where a folder cannot be locked (NFS emulates flock with byte-range locks, which a
    folder opened read-only cannot take), a lock file named after the folder in the user's
    data folder stands in; it keeps apart the processes of one user.

    Yields whether the lock is held: always when waiting for it; without ``wait``,
    False when another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # Windows: the single writer thread still serialises this process
        yield True
        return
    try:
        fd = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield True  # no folder, so no file and no writer of it; a write reports the problem itself
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        except OSError:
            os.close(fd)
            fd = _stand_in_lock_file(path.parent)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
        yield True
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _stand_in_lock_file(folder: Path) -> int:
    from platformdirs import user_data_path

    locks = user_data_path("genre-tagger", appauthor=False) / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(os.fsencode(os.path.realpath(folder))).hexdigest()[:32]
    return os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)


class HeldLock:
    """An advisory lock on a lock file that this process holds until ``release`` (or until it
    ends: a crashed process leaves no lock behind, only the empty file)."""

    def __init__(self, fd: int | None) -> None:
        # Also released when the object is collected: a lock a caller lost track of cannot
        # outlive it and lock its own process out.
        self._release = weakref.finalize(self, os.close, fd) if fd is not None else None

    def release(self) -> None:
        """Let another process take the lock; a second release does nothing."""
        if self._release is not None:
            self._release()


def take_lock(path: Path) -> HeldLock | None:
    """Lock ``path`` (created if missing) without waiting; None while another holder has it.

    The lock belongs to this open of the file: a second ``take_lock`` of the same path, from
    this process too, gets None until the first is released. ``path`` must be a file that is
    never replaced (a swap would give the next taker another inode to lock).
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; each process counts as the holder
        return HeldLock(None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    return HeldLock(fd)


@dataclass(frozen=True)
class OpenForWriting:
    """Another process that holds a file open for writing."""

    pid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} (process {self.pid})"


def processes_writing(path: Path) -> list[OpenForWriting]:
    """The processes that hold ``path`` open for writing, as far as /proc shows (Linux).

    Swapping in a new file under such a process would send everything it writes from
    then on to the old, nameless inode: a player's play counts or another tag editor's
    save would be lost. ``path`` must be resolved: /proc names an open file by its real
    path. Elsewhere, and for other users' processes that /proc hides, the list is empty;
    the fingerprint check just before the swap still sees a write that has landed.
    """
    if not os.path.isdir("/proc/self/fd"):
        return []
    target = os.fspath(path)
    found = []
    # Plain strings and listdir: this runs before every swap, over every descriptor of
    # every process, and pathlib's objects would make it several times slower.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        descriptors = f"/proc/{pid}/fd/"
        try:
            names = os.listdir(descriptors)
        except OSError:  # gone, or another user's
            continue
        for name in names:
            try:
                if os.readlink(descriptors + name) != target:
                    continue
            except OSError:
                continue
            if _opened_for_writing(f"/proc/{pid}/fdinfo/{name}"):
                found.append(OpenForWriting(int(pid), _process_name(pid)))
                break
    return found


def _opened_for_writing(fdinfo: str) -> bool:
    try:
        with open(fdinfo) as f:
            lines = f.read().splitlines()
        for line in lines:
            if line.startswith("flags:"):
                return (int(line.split()[1], 8) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _process_name(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() or "a process"
    except OSError:
        return "a process"

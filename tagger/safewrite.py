"""Changing a file so that a crash, a kill or a full disk leaves it old or new, never half.

The change is made to a copy in the same folder, the copy is flushed to disk, and
``os.replace`` swaps it in: a rename is atomic on POSIX and Windows file systems.
Before the swap the original is checked once more against what it looked like when
the change was planned, so a file changed meanwhile by another program is left alone.
A symlink is followed and its target changed, as Quod Libet does, so the link stays a
link; a file with several hard links is refused, since replacing it would leave the
other names with the old contents.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

EDGE_BYTES = 1 << 20
TEMP_PREFIX = ".genre-tagger-"
# Exactly the names temporary_beside makes: a stale copy is only ever removed by this name.
TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{16}(\.[^/\\]*)?")


class WriteRefused(Exception):
    """The file was not changed, for the reason given."""


@dataclass(frozen=True)
class Fingerprint:
    """What a file looked like: its size, modification time and first and last MiB."""

    size: int
    mtime_ns: int
    edges_sha256: str

    def to_json(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "edges_sha256": self.edges_sha256}

    @classmethod
    def from_json(cls, data: dict) -> Fingerprint:
        return cls(int(data["size"]), int(data["mtime_ns"]), str(data["edges_sha256"]))


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint:
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        digest = hashlib.sha256(f.read(EDGE_BYTES))
        if st.st_size > EDGE_BYTES:
            f.seek(max(EDGE_BYTES, st.st_size - EDGE_BYTES))
            digest.update(f.read(EDGE_BYTES))
    return Fingerprint(st.st_size, st.st_mtime_ns, digest.hexdigest())


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path names, and its state: a replaced, renamed or edited file differs."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity:
        st = os.stat(path)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> FileIdentity:
        return cls(int(data["device"]), int(data["inode"]), int(data["size"]), int(data["mtime_ns"]))

    def same_file(self, other: FileIdentity) -> bool:
        return (self.device, self.inode) == (other.device, other.inode)


def temporary_beside(path: Path) -> Path:
    return path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}{path.suffix}")


def create_exclusively(temp: Path) -> int:
    return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)


def check_unchanged(path: Path, expected: Fingerprint | None) -> Fingerprint:
    try:
        current = fingerprint(path)
    except FileNotFoundError:
        raise WriteRefused("the file is gone") from None
    except PermissionError:
        raise WriteRefused("permission denied") from None
    if expected is not None and current != expected:
        raise WriteRefused("the file changed on disk since it was analysed; analyse it again")
    return current


def check_writable(path: Path) -> None:
    st = path.stat()
    # Root may write anything, but a file without write bits is read-only to its owner
    # and replacing it would silently defeat that.
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise WriteRefused("the file is read-only")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise WriteRefused("the folder is read-only, so the file cannot be replaced safely")
    if st.st_nlink > 1:
        raise WriteRefused(
            f"the file has {st.st_nlink} hard links; replacing it would leave the other names with the "
            "old tags, so it is left untouched"
        )


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write a small file (settings) whole, so that a crash leaves the old or the new one."""
    temp = temporary_beside(path)
    fd = create_exclusively(temp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def rewrite_atomically(
    path: Path,
    edit: Callable[[str], None],
    expected: Fingerprint | None,
    keep_mtime: bool = False,
    on_temporary: Callable[[Path], None] = lambda temp: None,
    on_ready: Callable[[FileIdentity], None] = lambda identity: None,
) -> FileIdentity:
    """Apply ``edit`` to a copy of ``path`` and swap it in; returns the new file's identity.

    ``path`` must already be resolved (no symlink), and its writer must hold
    ``file_lock(path)``. ``on_temporary`` learns the copy's name before it exists, and
    ``on_ready`` sees the finished copy's identity just before the swap (the journal
    records both, to recognise either after a crash). Once the swap has happened nothing
    here raises: the returned identity is the one ``on_ready`` saw, since a rename keeps
    a file's inode, size and modification time.
    """
    before = check_unchanged(path, expected)
    check_writable(path)
    st = path.stat()
    temp = temporary_beside(path)
    on_temporary(temp)
    try:
        fd = create_exclusively(temp)
    except OSError as e:
        raise WriteRefused(f"cannot create a temporary file beside it: {describe(e)}") from None
    try:
        with open(path, "rb") as source, os.fdopen(fd, "wb") as copy:
            # No further than the size it had: a file that keeps growing is refused below, not copied forever.
            remaining = st.st_size
            while remaining and (chunk := source.read(min(remaining, 1 << 20))):
                copy.write(chunk)
                remaining -= len(chunk)
        edit(os.fspath(temp))
        os.chmod(temp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown") and os.geteuid() == 0:
            os.chown(temp, st.st_uid, st.st_gid)
        if keep_mtime:
            os.utime(temp, ns=(st.st_atime_ns, st.st_mtime_ns))
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        identity = FileIdentity.of(temp)
        on_ready(identity)
        # The last moment to notice another program's change before ours replaces it.
        check_unchanged(path, before)
        writers = processes_writing(path)
        if writers:
            raise WriteRefused(f"{', '.join(map(str, writers))} has the file open for writing; replacing it now "
                               "would lose what that program writes, so it is left untouched (close it and "
                               "try again)")
        os.replace(temp, path)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise WriteRefused(describe(e)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return identity


def remove_stale_temporaries(records: list[tuple[Path, Path]], forget: Callable[[Path], None]) -> list[Path]:
    """Remove the recorded temporary copies that no live writer owns; returns those removed.

    A writer holds the lock on a copy's original for as long as the copy exists, so a
    copy whose original can be locked now was left by a writer that is gone.
    """
    removed = []
    for temp, target in records:
        if not TEMP_NAME.fullmatch(temp.name) or temp.parent != target.parent:
            forget(temp)  # not a name this module makes: never delete it
            continue
        with file_lock(target, wait=False) as locked:
            if not locked:
                continue  # a live writer is using it
            if temp.exists():
                try:
                    temp.unlink()
                except OSError:
                    continue
                removed.append(temp)
            forget(temp)
    return removed


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


def sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def describe(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno == errno.ENOENT:
        return "the file is gone"
    return error.strerror or str(error)

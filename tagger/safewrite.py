"""Changing a file so that a crash, a kill or a full disk leaves it old or new, never half.

The change is made to a copy in the same folder, the copy is flushed to disk, and
``os.replace`` swaps it in: a rename is atomic on POSIX and Windows file systems.
Before the swap the original is checked once more against what it looked like when
the change was planned, so a file changed meanwhile by another program is left alone.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EDGE_BYTES = 1 << 20
TEMP_PREFIX = ".genre-tagger-"


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


def rewrite_atomically(
    path: Path, edit: Callable[[str], None], expected: Fingerprint | None, keep_mtime: bool = False
) -> Fingerprint:
    """Apply ``edit`` to a copy of ``path`` and swap it in; returns the new fingerprint."""
    before = check_unchanged(path, expected)
    check_writable(path)
    st = path.stat()
    try:
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    except OSError as e:
        raise WriteRefused(f"cannot create a temporary file beside it: {describe(e)}") from None
    temp = Path(temp_name)
    try:
        with open(path, "rb") as source, os.fdopen(fd, "wb") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        edit(temp_name)
        os.chmod(temp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown") and os.geteuid() == 0:
            os.chown(temp, st.st_uid, st.st_gid)
        if keep_mtime:
            os.utime(temp, ns=(st.st_atime_ns, st.st_mtime_ns))
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        # The last moment to notice another program's change before ours replaces it.
        check_unchanged(path, before)
        os.replace(temp, path)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise WriteRefused(describe(e)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return fingerprint(path)


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

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

import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from tagger.files.identity import FileIdentity, Fingerprint, fingerprint
from tagger.files.locks import file_lock, processes_writing
from tagger.text import describe_os_error

TEMP_PREFIX = ".genre-tagger-"
# Exactly the names temporary_beside makes: a stale copy is only ever removed by this name.
TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{16}(\.[^/\\]*)?")


class WriteRefused(Exception):
    """The file was not changed, for the reason given."""


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
        raise WriteRefused(f"cannot create a temporary file beside it: {describe_os_error(e)}") from None
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
        raise WriteRefused(describe_os_error(e)) from None
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


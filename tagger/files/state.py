"""The person's state on disk, and what can go wrong with it.

Genre Tagger keeps the undo journal and the learned model in the user data folder,
the analysis cache in the cache folder, and the settings and genre aliases in the
config folder (platformdirs; ``XDG_*_HOME`` on Linux). Any of them may sit on a full
or read-only disk, or under a path where a file stands in place of a folder. These
helpers put what SQLite and the file system raise into one sentence, and tell a
damaged file, which may be set aside, from a disk that cannot be written, which
must never be mistaken for damage.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tagger.text import describe_os_error


class StateError(Exception):
    """A state file or its folder could not be used; the message says why, in one sentence."""


# SQLite's result codes for a damaged file, and for one that is no database at all.
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26
# What a probe writes: a page, so that a disk with a few bytes left counts as full.
PROBE_SIZE = 4096


def is_damage(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    return "malformed" in str(error) or "not a database" in str(error)


def intact(db: sqlite3.Connection) -> bool:
    """Whether SQLite finds the open database undamaged. Any other failure (a full or
    read-only disk) is raised: it says nothing about the file."""
    try:
        return db.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError as e:
        if not is_damage(e):
            raise
        return False


def reason(error: Exception, path: Path) -> str:
    """Why ``path`` could not be used, as the end of a sentence; an error that is neither
    SQLite's nor the file system's (bad JSON, say) says so itself."""
    if not isinstance(error, (sqlite3.Error, OSError)):
        return str(error)
    if isinstance(error, sqlite3.Error):
        text = str(error)
        if is_damage(error):
            return f"it is damaged ({error}); the next command sets it aside and starts a new one"
        if "full" in text:
            return "the disk is full"
        if "readonly" in text or "read-only" in text:
            return "it is read-only"
        # "unable to open database file" or "disk I/O error" name no cause: SQLite could not
        # make its side files, and the folder says why.
        try:
            _probe(path.parent)
        except OSError as folder_error:
            error = folder_error
        else:
            return text
    if error.errno == errno.ENOTDIR:
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            return f"{blocker} is a file, not a folder"
    return describe_os_error(error)


def explain(error: sqlite3.Error | OSError, what: str, path: Path) -> str:
    """One sentence on what went wrong with ``what`` ("the undo journal") at ``path``."""
    return f"{what} {path} could not be used: {reason(error, path)}"


@contextmanager
def state_errors(what: str, path: Path, error: type[StateError] = StateError) -> Iterator[None]:
    """SQLite's and the file system's errors about ``what`` at ``path`` as ``error``,
    which every caller can report plainly."""
    try:
        yield
    except (sqlite3.Error, OSError) as e:
        raise error(explain(e, what, path)) from e


def check_savable(what: str, path: Path) -> None:
    """StateError unless a file such as ``path`` can be written now: checked before work
    whose result would be lost, or half done, if saving it failed afterwards."""
    with state_errors(what, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        _probe(path.parent)


def _probe(folder: Path) -> None:
    """Write, sync and remove a small file in ``folder``; OSError says why that failed."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".genre-tagger-probe-")
    try:
        os.write(fd, bytes(PROBE_SIZE))
        os.fsync(fd)
    finally:
        os.close(fd)
        os.unlink(name)

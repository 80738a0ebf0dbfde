"""The one check, before any open(), that a path names a regular file.

Opening a FIFO blocks until something writes to it, and a device such as /dev/zero
never ends: it fed a tag parser 10 GB in 15 s. Every opener of a file whose name came
from the person or the journal asks here first, and Genre Tagger's own files (settings,
aliases, a saved review, a learned model) are checked the same way. The check follows
symlinks, as opening does, so a link to a regular file is fine and a link to a FIFO is not.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# Genre Tagger's own JSON files (settings, aliases, a saved review) are read whole; the
# largest, a review of a big library, is tens of MB. The bound is for a file that is
# replaced by something huge or keeps growing while it is read.
STATE_FILE_LIMIT = 1 << 30

# The kinds of file that are not read, as a message names them.
KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def irregular(st: os.stat_result, audio: bool = True) -> str | None:
    """Why a file of this status is not read, or None for a regular file. Where an
    ``audio`` file is expected, the message says what is: the person named this path."""
    if stat.S_ISREG(st.st_mode):
        return None
    kind = next((name for test, name in KINDS if test(st.st_mode)), "an unknown kind of file")
    return f"not a regular file ({kind})" + ("; only audio files are read" if audio else "")


def irregular_file(path: str | os.PathLike[str], audio: bool = True) -> str | None:
    """Why ``path`` is not read, or None for a regular file; None too where it cannot be
    looked at (missing, no permission), which opening it then reports without blocking."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return irregular(st, audio)


def read_state_file(path: Path, limit: int = STATE_FILE_LIMIT) -> bytes:
    """The whole of one of Genre Tagger's own files. ValueError where it is not a regular file
    or holds more than ``limit`` bytes; FileNotFoundError where it is not there."""
    if problem := irregular_file(path, audio=False):
        raise ValueError(problem)
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit:,} bytes")
    return data

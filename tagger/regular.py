"""The one check, before any open(), that a path names a regular file.

Opening a FIFO blocks until something writes to it, and a device such as /dev/zero
never ends: it fed a tag parser 10 GB in 15 s. Every opener of a file
whose name came from the person or the journal asks here first. The check follows
symlinks, as opening does, so a link to a regular file is fine and a link to a FIFO is not.
"""

from __future__ import annotations

import os
import stat

# The kinds of file that are not read, as a message names them.
KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
         (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def irregular(st: os.stat_result) -> str | None:
    """Why a file of this status is not read, or None for a regular file."""
    if stat.S_ISREG(st.st_mode):
        return None
    kind = next((name for test, name in KINDS if test(st.st_mode)), "an unknown kind of file")
    return f"not a regular file ({kind}); only audio files are read"


def irregular_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not read, or None for a regular file; None too where it cannot be
    looked at (missing, no permission), which opening it then reports without blocking."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return irregular(st)

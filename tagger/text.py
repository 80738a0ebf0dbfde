"""Words for people: counts in sentences, errors in plain words, and text from tags and
file names made safe to print on a terminal."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterable
from enum import Enum
from typing import TextIO, TypeVar


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 file``, ``2 files``: counts as people write them."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def capitalised(text: str) -> str:
    """``text`` with a capital first letter, as a status line or sentence starts (never a file name)."""
    return text[:1].upper() + text[1:]


def has(count: int) -> str:
    """The verb that agrees with ``count``: "1 file has", "2 files have"."""
    return "has" if count == 1 else "have"


class TextEnum(str, Enum):
    """An enum whose members are their words: stored, printed and compared as their values, so
    files, journals and output keep the words they had."""

    def __str__(self) -> str:
        return self.value


Word = TypeVar("Word", bound=TextEnum)


def named(kind: type[Word], word: str) -> Word:
    """The member of ``kind`` that ``word`` names; ValueError listing the words it could be."""
    try:
        return kind(word)
    except ValueError:
        words = ", ".join(member.value for member in kind)
        raise ValueError(f"{kind.__name__.lower()} must be one of {words}, not {word!r}") from None


def describe_os_error(error: OSError) -> str:
    """Why a file operation failed, in the words a person would use."""
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno == errno.ENOENT:
        return "the file is gone"
    return error.strerror or str(error)

# Every C0 and C1 control and DEL: from a tag or a file name, one could retitle the
# terminal, recolour it, move the cursor or start a line that looks like the program's own.
TERMINAL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]} | {
    ord("\n"): "\\n", ord("\t"): "\\t", ord("\r"): "\\r"}


def printable(text: str) -> str:
    """Text safe to print on a terminal, as one piece of one line: whatever the terminal's
    encoding and the file name's bytes, with its control characters shown escaped.

    A backslash stays as it is, so that Windows paths stay readable; --json gives the
    exact value where a name holds a backslash sequence of its own."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return text.translate(TERMINAL_ESCAPES).encode(encoding, "backslashreplace").decode(encoding, "replace")


def write_lines(out: TextIO, lines: Iterable[str]) -> None:
    """Each line printable on its own, so that a newline from the data starts no line."""
    out.write("".join(printable(line) + "\n" for line in lines))

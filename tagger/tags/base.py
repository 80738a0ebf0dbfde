"""What every tag format module offers, and the values passed between them.

Each format module (one per tag system, as Picard does it) reads a file's display
fields and genres, and changes only the genre and Genre Tagger's provenance field.
Saving is left to the writer, which works on a copy of the file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from tagger.genres import normalise_name

# The custom field that records where a genre came from.
PROVENANCE_KEY = "GENRE_TAGGER"


class TagError(Exception):
    """A file whose tags cannot be read or written, with a message for the user."""


class UnsupportedFile(TagError):
    pass


class BrokenFile(TagError):
    pass


class WriteMode(str, Enum):
    REPLACE = "replace"
    MERGE = "merge"


@dataclass(frozen=True)
class WriteOptions:
    mode: WriteMode = WriteMode.REPLACE
    id3v23_separator: str = "; "
    provenance: bool = True
    keep_mtime: bool = False
    # Write files whose audio does not decode, so that nothing can check it stayed intact.
    force_undecodable: bool = False


@dataclass(frozen=True)
class TagSnapshot:
    """A file's tags as the user sees them; ``genres`` deduplicated, in file order."""

    format: str
    genres: list[str]
    provenance: str | None = None
    artist: str | None = None
    album_artist: str | None = None
    album: str | None = None
    title: str | None = None
    track: str | None = None
    disc: str | None = None
    year: str | None = None
    duration_s: float | None = None
    notes: list[str] = field(default_factory=list)


def dedupe(names: Iterable[str]) -> list[str]:
    """Names in order, dropping blanks and repeats that differ only in case or spacing."""
    seen: set[str] = set()
    result = []
    for name in names:
        name = " ".join(name.split())
        key = normalise_name(name)
        if key and key not in seen:
            seen.add(key)
            result.append(name)
    return result


def merged(current: list[str], wanted: list[str], mode: WriteMode) -> list[str]:
    """The genres to write: ``wanted`` alone, or appended to ``current`` in a stable order."""
    return dedupe(wanted if mode is WriteMode.REPLACE else [*current, *wanted])


def legacy_genre_names(values: Iterable[str]) -> list[str]:
    """Names for ID3-style numeric genres: "(17)", "(21)Disco", "17", "RX", "CR"."""
    from mutagen.id3 import TCON

    return TCON(text=list(values)).genres


def first_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return first_text(value[0]) if value else None
    text = str(value).strip()
    return text or None


class TagFormat(ABC):
    """One tag system (ID3, Vorbis comments, MP4 atoms, APEv2, ASF)."""

    #: mutagen FileType classes this module handles
    file_types: ClassVar[tuple[type, ...]]

    def open(self, path: str, file_type: type) -> Any:
        """The mutagen object for ``path``, with an empty tag if it had none."""
        audio = file_type(path)
        if audio.tags is None:
            audio.add_tags()
        return audio

    @abstractmethod
    def read(self, audio: Any, id3v23_separator: str = "; ") -> TagSnapshot:
        """The file's tags; ``id3v23_separator`` splits the joined genres of ID3v2.3."""

    @abstractmethod
    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        """Change the genre field only; returns notes for the user (may be empty)."""

    @abstractmethod
    def set_provenance(self, audio: Any, text: str | None) -> None:
        """Set, update or (with None) remove the provenance field."""

    def save(self, audio: Any, path: str, options: WriteOptions) -> None:
        audio.save(path)

    def kept_items(self, path: str) -> Counter:
        """Every tag item of ``path`` but the genre and the provenance field, as raw as mutagen gives them."""
        raise NotImplementedError

    def check_preserved(self, original: str, written: str) -> str | None:
        """Why ``written`` holds more changes than the genre and provenance of ``original``; None if it does not.

        Run on the finished copy before it replaces the original, so that a tag
        library dropping or altering an item refuses the write instead of losing data.
        """
        return changed_items(self.kept_items(original), self.kept_items(written))


def changed_items(before: Counter, after: Counter) -> str | None:
    """What differs between two ``kept_items`` results, for the person; None if nothing does."""
    changed = sorted({str(item[0]) for item in (before - after) + (after - before)})
    if changed:
        return f"the tag item(s) {', '.join(changed)} would not survive the write unchanged"
    return None

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
from typing import Any, ClassVar

from tagger.genres.vocabulary import genre_key, joined_parts
from tagger.text import TextEnum

# The custom field that records where a genre came from.
PROVENANCE_KEY = "GENRE_TAGGER"


class TagError(Exception):
    """A file whose tags cannot be read or written, with a message for the user."""


# Joins several genres where one value holds them: ID3v2.3's TCON, and every format in joined mode.
DEFAULT_SEPARATOR = "; "


class UnsupportedFile(TagError):
    """A file no tag system here can handle."""


class BrokenFile(TagError):
    """A file its tag library cannot parse, so it is never written to."""


class WriteMode(TextEnum):
    """Whether new genres replace the file's genres or are added to them."""

    REPLACE = "replace"
    MERGE = "merge"


class MultiValue(TextEnum):
    """How a file stores several genres."""

    SEPARATE = "separate"  # one value per genre, the formats' standard
    # One value, the genres joined with the separator: many players read only one of
    # several values (FFmpeg the first TCON or ©gen value, exiftool the last FLAC GENRE).
    JOINED = "joined"


# What a person is told on choosing how several genres are stored (the app's settings, the
# command line's --multi-value and `genres`): what common readers show, as docs/formats.md
# tabulates it (benchmarks/reader_table.py measures it).
MULTI_VALUE_NOTES = {
    MultiValue.SEPARATE: "Several values are the standard, but many players show only one of them: those built "
                         "on FFmpeg the first in ID3v2.4 (MP3, AIFF), MP4, WMA and APEv2 files, those built on "
                         "TagLib the first in FLAC, Ogg and APEv2 and the second in WMA, and exiftool the last in "
                         "FLAC, Ogg and MP4.",
    MultiValue.JOINED: "Every player tested shows a joined value such as 'Jazz; Bebop' whole, but one that does not "
                       "split it lists it as a genre of its own.",
}


@dataclass(frozen=True)
class WriteOptions:
    """How genres are written: the mode, the separator for joined values and the storage style."""

    mode: WriteMode = WriteMode.REPLACE
    separator: str = DEFAULT_SEPARATOR
    multi_value: MultiValue = MultiValue.SEPARATE
    # A file is left alone when its genres read as the ones asked for. With exact, it
    # is rewritten unless it stores exactly these values: genre cleanup and undo tidy
    # repeats, stray spaces, numeric codes and the way several genres are stored.
    exact: bool = False
    # Store the values one each, exactly as given, whatever the format or multi_value would
    # do: an undo puts back what the journal recorded.
    verbatim: bool = False
    provenance: bool = True
    keep_mtime: bool = False

    def __post_init__(self) -> None:
        # The words are their enums however they were given, so no comparison meets a mistyped one.
        object.__setattr__(self, "mode", WriteMode(self.mode))
        object.__setattr__(self, "multi_value", MultiValue(self.multi_value))
    # Write files whose audio does not decode, so that nothing can check it stayed intact.
    force_undecodable: bool = False


@dataclass(frozen=True)
class TagSnapshot:
    """A file's tags as the user sees them; ``genres`` deduplicated, in file order.

    ``stored_genres`` are the genre values exactly as the file holds them: numeric
    ID3 codes, joined values, stray spaces and repeats included (MP4's numeric
    ``gnre`` atom as the name mutagen gives it).
    """

    format: str
    genres: list[str]
    stored_genres: list[str] = field(default_factory=list)
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
    """Names in order, spacing tidied, dropping blanks and other spellings of a name already
    listed (``genre_key``)."""
    seen: set[str] = set()
    result = []
    for name in names:
        name = " ".join(name.split())
        key = genre_key(name)
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


def separated(value: str, separator: str) -> list[str]:
    """``value`` split where the storage separator joins genres, its spaces ignored ("Rock;Pop"
    splits at "; "); whole where the separator is only spaces."""
    joiner = separator.strip()
    return value.split(joiner) if joiner else [value]


def read_genres(stored: Iterable[str], separator: str = DEFAULT_SEPARATOR) -> list[str]:
    """The genres that stored values mean, deduplicated.

    Numeric ID3 codes are named; values are split at the separator Genre Tagger joins
    with (ID3v2.3's, and every format's in joined mode), and at ``/ ; , |`` or `` \\ ``
    where every part is a genre the vocabulary knows, so "Rock/Pop" is two genres
    and "AC/DC" one.
    """
    from tagger.genres.vocabulary import vocabulary

    names = [part for name in legacy_genre_names(stored) for part in separated(name, separator)]
    known = vocabulary().knows
    genres = []
    for name in names:
        parts = joined_parts(name)
        genres += parts if len(parts) > 1 and not known(name) and all(map(known, parts)) else [name]
    return dedupe(genres)


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
        return self.adopt(file_type(path))

    def adopt(self, audio: Any) -> Any:
        """A file mutagen loaded, given an empty tag if it had none."""
        if audio.tags is None:
            audio.add_tags()
        return audio

    @abstractmethod
    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        """The file's tags; ``separator`` splits the joined genres of ID3v2.3."""

    @abstractmethod
    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        """Store ``stored_values(genres)`` in the genre field, and change nothing else;
        returns notes for the user (may be empty)."""

    def stored_values(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        """The values ``set_genres`` stores for ``genres``: one per genre, or one joined value."""
        if options.verbatim:
            return list(genres)
        if len(genres) > 1 and (options.multi_value is MultiValue.JOINED or self.joins_values(audio)):
            return [options.separator.join(genres)]
        return list(genres)

    def in_step(self, audio: Any, separator: str) -> bool:
        """Whether every other field the file repeats its genre in holds what its genre field
        does; where one does not (a WAV's INFO genre that an older write left behind), writing
        the same genres again brings it in step."""
        return True

    def joins_values(self, audio: Any) -> bool:
        """Whether this file can hold only one genre value (ID3 before v2.4)."""
        return False

    def genre_field(self, path: str) -> str | None:
        """How ``path`` stores its genre field, where the values alone do not say (ID3's text
        encoding and terminators); None where they do. Kept in the journal for undo."""
        return None

    def restore_field(self, audio: Any, field: str) -> None:  # noqa: B027 - a hook; only ID3 records a field
        """Have the next save store the genre field as ``genre_field`` recorded it."""

    @abstractmethod
    def set_provenance(self, audio: Any, text: str | None) -> None:
        """Set, update or (with None) remove the provenance field."""

    def refusal(self, audio: Any, path: str) -> str | None:
        """Why this file cannot take a new tag in this format, found before it is copied; None if it can."""
        return None

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

"""Reading the genres a file's tags hold now (read-only; writing is a separate stage)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tagger.genres import normalise_name


GENRE_KEYS = frozenset({"genre", "wm/genre", "\xa9gen"})


class TagReadError(Exception):
    pass


def read_current_genres(path: Path) -> list[str]:
    """The file's genres as names, deduplicated ignoring case and spacing."""
    import mutagen
    from mutagen.id3 import ID3, TCON

    try:
        audio = mutagen.File(path)
    except Exception as e:  # mutagen raises many types for damaged tags
        raise TagReadError(f"cannot read tags: {e}") from None
    if audio is None or audio.tags is None:
        return []
    tags = audio.tags
    if isinstance(tags, ID3):
        # TCON.genres turns "(17)", "17", "RX" and "CR" into names.
        values = [g for frame in tags.getall("TCON") for g in frame.genres]
    else:
        values = [str(v) for key in tags.keys() if key.lower() in GENRE_KEYS for v in tags[key]]
        if "gnre" in tags:
            # MP4's numeric genre is the ID3v1 index plus one.
            values.extend(TCON(text=[f"({n - 1})" for n in tags["gnre"]]).genres)
    return dedupe(v for value in values for v in value.split("\x00"))


def dedupe(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        name = name.strip()
        key = normalise_name(name)
        if key and key not in seen:
            seen.add(key)
            result.append(name)
    return result

"""Vorbis comments: FLAC, Ogg Vorbis, Opus, Speex and Ogg FLAC. One GENRE field per genre."""

from __future__ import annotations

from collections import Counter
from typing import Any

import mutagen
from mutagen.flac import FLAC
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    PROVENANCE_KEY,
    TagFormat,
    TagSnapshot,
    WriteOptions,
    changed_items,
    first_text,
    read_genres,
)


class VorbisFormat(TagFormat):
    """Vorbis comments: FLAC, Ogg Vorbis, Opus, Speex and Ogg FLAC."""

    file_types = (FLAC, OggVorbis, OggOpus, OggSpeex, OggFLAC)

    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        tags = audio.tags

        def field(name: str) -> str | None:
            return first_text(tags.get(name))

        stored = list(tags.get("genre", []))
        return TagSnapshot(
            format=type(audio).__name__,
            genres=read_genres(stored, separator),
            stored_genres=stored,
            provenance=field(PROVENANCE_KEY),
            artist=field("artist"),
            album_artist=field("albumartist") or field("album artist"),
            album=field("album"),
            title=field("title"),
            track=field("tracknumber"),
            disc=field("discnumber"),
            year=field("date") or field("year"),
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        set_field(audio.tags, "GENRE", self.stored_values(audio, genres, options))
        return []

    def set_provenance(self, audio: Any, text: str | None) -> None:
        set_field(audio.tags, PROVENANCE_KEY, [text] if text is not None else [])

    def check_preserved(self, original: str, written: str) -> str | None:
        before, after = self.kept_items(original), self.kept_items(written)
        if not any(key == "vendor" for key, _ in before):
            # A FLAC file without a comment block gains one, with a vendor string of its own.
            after = Counter({item: n for item, n in after.items() if item[0] != "vendor"})
        return changed_items(before, after)

    def kept_items(self, path: str) -> Counter:
        audio = mutagen.File(path)
        written = {"genre", PROVENANCE_KEY.lower()}
        items = Counter((key.lower(), value) for key, value in (audio.tags or []) if key.lower() not in written)
        if audio.tags is not None:
            items[("vendor", audio.tags.vendor)] += 1
        # FLAC's other metadata blocks (pictures, cue sheets, application data), as written.
        for block in getattr(audio, "metadata_blocks", []):
            if block.code not in (1, 4):  # padding, and the comment block itself
                items[(f"FLAC block {block.code}", block.write())] += 1
        return items


def set_field(tags: Any, name: str, values: list[str]) -> None:
    """Replace every field called ``name`` (in any case) with ``values``, keeping the others'
    order. They take the place and the spelling of the name of the first such field, so
    that an undo gives the comment back as it was; with none, they go at the end."""
    fields = list(tags)
    first = next((i for i, (key, _) in enumerate(fields) if key.lower() == name.lower()), len(fields))
    key = fields[first][0] if first < len(fields) else name
    kept = [(k, value) for k, value in fields if k.lower() != name.lower()]
    tags.clear()
    tags.extend([*kept[:first], *((key, value) for value in values), *kept[first:]])

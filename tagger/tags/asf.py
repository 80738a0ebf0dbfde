"""ASF: WMA and WMV. One WM/Genre attribute per genre."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mutagen.asf import ASF, ASFTags

from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    TagFormat,
    TagSnapshot,
    WriteOptions,
    first_text,
    read_genres,
)

PROVENANCE_ATTRIBUTE = "GenreTagger/Provenance"


class ASFFormat(TagFormat):
    """ASF attributes: Windows Media Audio."""

    file_types = (ASF,)

    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        tags = audio.tags

        def attribute(name: str) -> str | None:
            return first_text([str(v) for v in tags.get(name, [])])

        stored = [str(v) for v in tags.get("WM/Genre", [])]
        return TagSnapshot(
            format="ASF",
            genres=read_genres(stored, separator),
            stored_genres=stored,
            provenance=attribute(PROVENANCE_ATTRIBUTE),
            artist=attribute("Author"),
            album_artist=attribute("WM/AlbumArtist"),
            album=attribute("WM/AlbumTitle"),
            title=attribute("Title"),
            track=attribute("WM/TrackNumber"),
            disc=attribute("WM/PartOfSet"),
            year=attribute("WM/Year"),
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        if genres:
            audio.tags["WM/Genre"] = self.stored_values(audio, genres, options)
        elif "WM/Genre" in audio.tags:
            del audio.tags["WM/Genre"]
        return []

    def set_provenance(self, audio: Any, text: str | None) -> None:
        if text is None:
            if PROVENANCE_ATTRIBUTE in audio.tags:
                del audio.tags[PROVENANCE_ATTRIBUTE]
        else:
            audio.tags[PROVENANCE_ATTRIBUTE] = [text]

    def kept_items(self, path: str) -> Counter:
        # mutagen declares ASF.tags = None on the class, which loading the file replaces.
        tags: ASFTags = ASF(path).tags  # type: ignore[assignment]
        written = {"WM/Genre", PROVENANCE_ATTRIBUTE}
        return Counter((key, type(value).__name__, repr(value.value)) for key, values in tags.items()
                       if key not in written for value in values)

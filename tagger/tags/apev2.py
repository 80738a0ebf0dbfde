"""APEv2: Monkey's Audio, WavPack, Musepack, OptimFROG and TAK. Genre is natively multi-value."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from mutagen.apev2 import APETextValue, APEv2
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.musepack import Musepack
from mutagen.optimfrog import OptimFROG
from mutagen.tak import TAK
from mutagen.wavpack import WavPack

from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    TagFormat,
    TagSnapshot,
    WriteOptions,
    first_text,
    read_genres,
)
from tagger.tags.id3v1 import id3v1_block, id3v1_without_genre, restore_id3v1

PROVENANCE_ITEM = "Genre Tagger"
GENRE_ITEM = "Genre"


class APEv2Format(TagFormat):
    """APEv2 tags: Monkey's Audio, WavPack, Musepack, OptimFROG and TAK."""

    file_types = (MonkeysAudio, WavPack, Musepack, OptimFROG, TAK)

    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        tags = audio.tags

        def item(*names: str) -> str | None:
            for name in names:
                if name in tags and isinstance(tags[name], APETextValue):
                    return first_text(list(tags[name]))
            return None

        genre = tags.get(GENRE_ITEM)
        values = list(genre) if isinstance(genre, APETextValue) else []
        return TagSnapshot(
            format=type(audio).__name__,
            genres=read_genres(values, separator),
            stored_genres=values,
            provenance=item(PROVENANCE_ITEM),
            artist=item("Artist"),
            album_artist=item("Album Artist", "AlbumArtist"),
            album=item("Album"),
            title=item("Title"),
            track=item("Track"),
            disc=item("Disc"),
            year=item("Year"),
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        if genres:
            # The item keeps the spelling of its key ("GENRE", "genre"): mutagen would save it
            # as spelled here, and an undo could not give the file back byte for byte.
            key = next((key for key in audio.tags if key.lower() == GENRE_ITEM.lower()), GENRE_ITEM)
            audio.tags[key] = self.stored_values(audio, genres, options)
        else:
            audio.tags.pop(GENRE_ITEM, None)
        return []

    def genre_field(self, path: str) -> str | None:
        """The ID3v1 genre byte, where the file ends in an ID3v1 tag: the genres alone do not say it."""
        with open(path, "rb") as f:
            v1 = id3v1_block(f)
        return None if v1 is None else json.dumps({"v1_genre": v1[-1]})

    def restore_field(self, audio: Any, field: str) -> None:
        audio.genre_field = json.loads(field)

    def set_provenance(self, audio: Any, text: str | None) -> None:
        if text is None:
            audio.tags.pop(PROVENANCE_ITEM, None)
        else:
            audio.tags[PROVENANCE_ITEM] = text

    def save(self, audio: Any, path: str, options: WriteOptions) -> None:
        with open(path, "rb") as f:
            v1 = id3v1_block(f)
        # mutagen truncates the file where the old APEv2 tag began, which deletes an
        # ID3v1 tag after it; it goes back after the new APEv2 tag.
        audio.save(path)
        if v1 is not None:
            genres = read_genres(text_values(audio.tags.get(GENRE_ITEM)) or [], options.separator)
            restore_id3v1(path, v1, genres, getattr(audio, "genre_field", {}).get("v1_genre"))

    def kept_items(self, path: str) -> Counter:
        try:
            tags = list(APEv2(path).items())
        except Exception:  # no APEv2 tag: nothing to keep
            tags = []
        written = {"genre", PROVENANCE_ITEM.lower()}
        items: Counter[tuple] = Counter((key.lower(), value.kind, value.value) for key, value in tags
                                        if key.lower() not in written)
        with open(path, "rb") as f:
            items[("ID3v1 tag", id3v1_without_genre(id3v1_block(f)))] += 1
        return items


def text_values(value: Any) -> list[str] | None:
    """The strings of a mutagen APEv2 text item; None where there is no such item."""
    return list(value) if isinstance(value, APETextValue) else None

"""APEv2: Monkey's Audio, WavPack, Musepack, OptimFROG and TAK. Genre is natively multi-value."""

from __future__ import annotations

from typing import Any

from mutagen.apev2 import APETextValue
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.musepack import Musepack
from mutagen.optimfrog import OptimFROG
from mutagen.tak import TAK
from mutagen.wavpack import WavPack

from tagger.tags.base import TagFormat, TagSnapshot, WriteOptions, dedupe, first_text, legacy_genre_names

PROVENANCE_ITEM = "Genre Tagger"


class APEv2Format(TagFormat):
    file_types = (MonkeysAudio, WavPack, Musepack, OptimFROG, TAK)

    def read(self, audio: Any, id3v23_separator: str = "; ") -> TagSnapshot:
        tags = audio.tags

        def item(*names: str) -> str | None:
            for name in names:
                if name in tags and isinstance(tags[name], APETextValue):
                    return first_text(list(tags[name]))
            return None

        genre = tags.get("Genre")
        values = list(genre) if isinstance(genre, APETextValue) else []
        return TagSnapshot(
            format=type(audio).__name__,
            genres=dedupe(legacy_genre_names(values)),
            provenance=item(PROVENANCE_ITEM),
            artist=item("Artist"),
            album_artist=item("Album Artist", "AlbumArtist"),
            album=item("Album"),
            title=item("Title"),
            track=item("Track"),
            year=item("Year"),
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        if genres:
            audio.tags["Genre"] = genres
        else:
            audio.tags.pop("Genre", None)
        return []

    def set_provenance(self, audio: Any, text: str | None) -> None:
        if text is None:
            audio.tags.pop(PROVENANCE_ITEM, None)
        else:
            audio.tags[PROVENANCE_ITEM] = text

"""MP4/M4A/ALAC atoms: several values in one ©gen atom; the numeric gnre atom is read too."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mutagen.mp4 import MP4, Atoms, MP4FreeForm

from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    PROVENANCE_KEY,
    TagFormat,
    TagSnapshot,
    WriteOptions,
    first_text,
    read_genres,
)

GENRE = "\xa9gen"
NUMERIC_GENRE = "gnre"
PROVENANCE_ATOM = f"----:org.genretagger:{PROVENANCE_KEY}"
WRITTEN_ATOMS = {GENRE.encode("latin-1"), NUMERIC_GENRE.encode("latin-1")}


class MP4Format(TagFormat):
    """MP4 atoms: AAC and ALAC in .m4a and related files."""

    file_types = (MP4,)

    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        tags = audio.tags
        # mutagen reads a numeric gnre atom as its genre's name, among the ©gen values.
        stored = list(tags.get(GENRE, []))
        track = tags.get("trkn")
        disc = tags.get("disk")
        provenance = tags.get(PROVENANCE_ATOM)
        return TagSnapshot(
            format="MP4",
            genres=read_genres(stored, separator),
            stored_genres=stored,
            provenance=bytes(provenance[0]).decode("utf-8", "replace") if provenance else None,
            artist=first_text(tags.get("\xa9ART")),
            album_artist=first_text(tags.get("aART")),
            album=first_text(tags.get("\xa9alb")),
            title=first_text(tags.get("\xa9nam")),
            track=str(track[0][0]) if track else None,
            disc=str(disc[0][0]) if disc else None,
            year=first_text(tags.get("\xa9day")),
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        tags = audio.tags
        # The written genres replace a numeric one, which would otherwise show beside them.
        tags.pop(NUMERIC_GENRE, None)
        if genres:
            tags[GENRE] = self.stored_values(audio, genres, options)
        else:
            tags.pop(GENRE, None)
        return []

    def set_provenance(self, audio: Any, text: str | None) -> None:
        if text is None:
            audio.tags.pop(PROVENANCE_ATOM, None)
        else:
            audio.tags[PROVENANCE_ATOM] = [MP4FreeForm(text.encode("utf-8"))]

    def kept_items(self, path: str) -> Counter:
        # The atoms' bytes: mutagen re-renders every item it saves, and drops what it does
        # not model (a cover's 'name' atom, say), which its parsed values would not show.
        with open(path, "rb") as f:
            try:
                ilst = Atoms(f).path(b"moov", b"udta", b"meta", b"ilst")[-1]
            except KeyError:
                return Counter()
            items: Counter[tuple[str, bytes]] = Counter()
            for atom in ilst.children or []:
                f.seek(atom.offset)
                data = f.read(atom.length)
                written = atom.name in WRITTEN_ATOMS or (atom.name == b"----" and PROVENANCE_KEY.encode() in data)
                if not written:
                    items[(atom.name.decode("latin-1"), data)] += 1
        return items

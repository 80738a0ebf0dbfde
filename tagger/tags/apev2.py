"""APEv2: Monkey's Audio, WavPack, Musepack, OptimFROG and TAK. Genre is natively multi-value."""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

from mutagen.apev2 import APETextValue, APEv2
from mutagen.apev2 import error as APEv2Error
from mutagen.monkeysaudio import MonkeysAudio
from mutagen.musepack import Musepack
from mutagen.optimfrog import OptimFROG
from mutagen.tak import TAK
from mutagen.wavpack import WavPack

from tagger.tags import aperaw
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
        """What the genres alone do not say: the genre byte of an ID3v1 tag at the end, whether
        there was an APEv2 tag at all (an undo removes the one a write added), and the genre
        item's key and place among the items (an undo puts one a write removed back so)."""
        with open(path, "rb") as f:
            v1 = id3v1_block(f)
            v1_genre = v1[-1] if v1 else None
            try:
                tag = aperaw.find_tag(f)
            except aperaw.RawAPEError:  # left to mutagen, which keeps a tag where it is
                return json.dumps({"v1_genre": v1_genre, "tag": True})
        at = aperaw.item_index(tag.items, GENRE_ITEM) if tag else None
        return json.dumps({"v1_genre": v1_genre, "tag": tag is not None,
                           "genre_item": None if tag is None or at is None else [tag.items[at].key, at]})

    def restore_field(self, audio: Any, field: str) -> None:
        audio.genre_field = json.loads(field)

    def set_provenance(self, audio: Any, text: str | None) -> None:
        if text is None:
            audio.tags.pop(PROVENANCE_ITEM, None)
        else:
            audio.tags[PROVENANCE_ITEM] = text

    def save(self, audio: Any, path: str, options: WriteOptions) -> None:
        recorded = getattr(audio, "genre_field", {})  # an undo's
        with open(path, "r+b") as f:
            v1 = id3v1_block(f)
            try:
                tag = aperaw.find_tag(f)
            except aperaw.RawAPEError:
                tag = None
            else:
                if tag is None and not has_apev2_tag(path):  # mutagen finds none elsewhere (at the start)
                    tag = aperaw.new_tag(f)
            if tag is not None:  # rewritten in place: every other item stays as stored, in its order
                key, at = recorded.get("genre_item") or (GENRE_ITEM, None)
                items = aperaw.with_text(tag.items, key, text_values(audio.tags.get(GENRE_ITEM)), at)
                items = aperaw.with_text(items, PROVENANCE_ITEM, text_values(audio.tags.get(PROVENANCE_ITEM)))
                if not items and recorded.get("tag") is False:
                    aperaw.remove_tag(f, tag)  # an undo of the write that added it
                else:
                    aperaw.write_tag(f, tag, items)
        if tag is None:
            # A tag aperaw leaves to mutagen (APEv1, at the start, damaged). mutagen truncates the
            # file where the old tag began, which deletes an ID3v1 tag after it; it goes back below.
            audio.save(path)
        if v1 is not None:
            genres = read_genres(text_values(audio.tags.get(GENRE_ITEM)) or [], options.separator)
            restore_id3v1(path, v1, genres, recorded.get("v1_genre"))

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
            items[("Lyrics3v2 tag", aperaw.lyrics3v2_block(f))] += 1
        return items


def text_values(value: Any) -> list[str] | None:
    """The strings of a mutagen APEv2 text item; None where there is no such item."""
    return list(value) if isinstance(value, APETextValue) else None


def has_apev2_tag(path: str) -> bool:
    try:
        APEv2(path)
    except APEv2Error:
        return False
    return True


# An APEv2 tag at the end of an MP3 or TrueAudio file, beside the ID3 tags ID3Format writes.

def genre_item_record(path: str) -> list | None:
    """The genre item of the APEv2 tag at the end of ``path`` as stored (key, flags, base64 of the
    value) and its place among the items, for an undo to put back; None where there is none,
    or none aperaw rewrites."""
    with open(path, "rb") as f:
        try:
            tag = aperaw.find_tag(f)
        except aperaw.RawAPEError:
            return None
    at = aperaw.item_index(tag.items, GENRE_ITEM) if tag else None
    if tag is None or at is None:
        return None
    item = tag.items[at]
    return [item.key, item.flags, base64.b64encode(item.value).decode("ascii"), at]


def keep_genre_in_step(path: str, values: list[str], recorded: dict | None) -> None:
    """Give the genre item of an APEv2 tag at the end of an MP3 or TrueAudio file ``values``, so
    that a reader that prefers APEv2 to ID3 does not show the old genre; a tag without a genre
    item does not gain one. An undo (``recorded``, ID3Format's genre_field) puts the item back
    as stored."""
    with open(path, "r+b") as f:
        try:
            tag = aperaw.find_tag(f)
        except aperaw.RawAPEError:
            return  # left as it is, which items_but_genre confirms
        if tag is None:
            return
        if recorded is None:
            if aperaw.item_index(tag.items, GENRE_ITEM) is None:
                return
            items = aperaw.with_text(tag.items, GENRE_ITEM, values or None)
        elif recorded.get("apev2_genre") is not None:
            key, flags, value, at = recorded["apev2_genre"]
            items = aperaw.with_item(tag.items, GENRE_ITEM, aperaw.RawItem(key, flags, base64.b64decode(value)), at)
        else:
            return  # the write found no genre item here, or an older version recorded none and left it
        aperaw.write_tag(f, tag, items)


def items_but_genre(path: str) -> tuple | str | None:
    """The items of the APEv2 tag at the end of ``path`` but the genre, as stored and in order;
    None where it has none, and why where aperaw cannot read it."""
    with open(path, "rb") as f:
        try:
            tag = aperaw.find_tag(f)
        except aperaw.RawAPEError as e:
            return str(e)
    return None if tag is None else tuple(item for item in tag.items if item.key.lower() != GENRE_ITEM.lower())

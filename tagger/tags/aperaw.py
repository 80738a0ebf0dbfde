"""APEv2 tags at the level of their bytes: the items as stored, and the tag rebuilt with some replaced.

mutagen saves an APEv2 tag whole: it sorts the items by size and cuts whatever follows
the tag (a Lyrics3v2 tag, an ID3v1 tag). Genre Tagger changes only the genre and its
provenance item, so where a file ends in an APEv2 tag it replaces those two in place and
copies every other item, in its order, as stored; an undo then gives the tag back byte
for byte. The tags this module will not rewrite (APEv1, a tag at the start of the file,
items that do not line up) are left to mutagen.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import BinaryIO

from tagger.tags.id3raw import replace_region
from tagger.tags.id3v1 import ID3V1_SIZE, id3v1_block

MAGIC = b"APETAGEX"
FOOTER_SIZE = 32  # a header is as long
VERSION = 2000
HAS_HEADER = 1 << 31
IS_HEADER = 1 << 29
ITEM_TYPE = 0b110  # text, binary or external
LYRICS3_END = b"LYRICS200"


class RawAPEError(Exception):
    """An APEv2 tag this module will not rewrite in place; the message says why."""


@dataclass(frozen=True)
class RawItem:
    """One APEv2 item as stored: its key as spelled, its flags and its value's bytes."""

    key: str
    flags: int
    value: bytes

    def encoded(self) -> bytes:
        return struct.pack("<II", len(self.value), self.flags) + self.key.encode("ascii") + b"\0" + self.value


@dataclass(frozen=True)
class RawAPETag:
    """An APEv2 tag at the end of a file (before any Lyrics3v2 and ID3v1 tag): where it lies, its
    header and footer as stored, and its items."""

    start: int
    end: int
    header: bytes | None
    footer: bytes
    items: tuple[RawItem, ...]

    def rebuilt(self, items: tuple[RawItem, ...]) -> bytes:
        """The tag with ``items``: header and footer as they were but for the size and count."""
        body = b"".join(item.encoded() for item in items)
        counts = struct.pack("<II", len(body) + FOOTER_SIZE, len(items))
        header = b"" if self.header is None else self.header[:12] + counts + self.header[20:]
        return header + body + self.footer[:12] + counts + self.footer[20:]


def lyrics3v2_block(f: BinaryIO) -> bytes | None:
    """The Lyrics3v2 tag before the open file's ID3v1 tag, if there is one."""
    end = f.seek(0, 2)
    if id3v1_block(f) is None:
        return None
    end -= ID3V1_SIZE
    f.seek(max(0, end - 15))
    lyrics = f.read(15)
    if lyrics[6:] != LYRICS3_END or not lyrics[:6].isdigit() or int(lyrics[:6]) + 15 > end:
        return None
    f.seek(end - 15 - int(lyrics[:6]))
    return f.read(int(lyrics[:6]) + 15)


def tag_end(f: BinaryIO) -> int:
    """Where an APEv2 tag at the end of the open file would end: before an ID3v1 tag, and a
    Lyrics3v2 tag before that."""
    end = f.seek(0, 2)
    if id3v1_block(f) is not None:
        end -= ID3V1_SIZE + len(lyrics3v2_block(f) or b"")
    return end


def find_tag(f: BinaryIO) -> RawAPETag | None:
    """The APEv2 tag at the end of the open file, or None when it has none there.

    Raises RawAPEError for a tag that cannot be rewritten in place item by item.
    """
    end = tag_end(f)
    if end < FOOTER_SIZE:
        return None
    f.seek(end - FOOTER_SIZE)
    footer = f.read(FOOTER_SIZE)
    if footer[:8] != MAGIC:
        return None
    version, size, count, flags = struct.unpack("<IIII", footer[8:24])
    if version != VERSION:
        raise RawAPEError("the APE tag is not APEv2")
    if flags & IS_HEADER or not FOOTER_SIZE <= size <= end:
        raise RawAPEError("the APEv2 footer is damaged")
    data_start = end - size
    header = None
    if flags & HAS_HEADER:
        if data_start < FOOTER_SIZE:
            raise RawAPEError("the APEv2 header is missing")
        f.seek(data_start - FOOTER_SIZE)
        header = f.read(FOOTER_SIZE)
        if header[:8] != MAGIC:
            raise RawAPEError("the APEv2 header is missing")
    f.seek(data_start)
    items = parse_items(f.read(size - FOOTER_SIZE), count)
    start = data_start - (FOOTER_SIZE if header is not None else 0)
    return RawAPETag(start, end, header, footer, items)


def new_tag(f: BinaryIO) -> RawAPETag:
    """An empty APEv2 tag with a header, as mutagen makes one, where the open file's would go."""
    end = tag_end(f)
    counts = struct.pack("<III", VERSION, FOOTER_SIZE, 0)
    return RawAPETag(end, end, MAGIC + counts + struct.pack("<I", HAS_HEADER | IS_HEADER) + bytes(8),
                     MAGIC + counts + struct.pack("<I", HAS_HEADER) + bytes(8), ())


def parse_items(data: bytes, count: int) -> tuple[RawItem, ...]:
    """The ``count`` items that ``data`` holds; RawAPEError unless they fill it exactly."""
    items = []
    position = 0
    for _ in range(count):
        if position + 8 > len(data):
            raise RawAPEError("the APEv2 items run past the tag")
        size, flags = struct.unpack("<II", data[position:position + 8])
        key_end = data.find(b"\0", position + 8)
        if key_end < 0 or key_end + 1 + size > len(data):
            raise RawAPEError("the APEv2 items run past the tag")
        key = data[position + 8:key_end]
        if not key or not all(0x20 <= c <= 0x7E for c in key):
            raise RawAPEError("an APEv2 item's key is damaged")
        items.append(RawItem(key.decode("ascii"), flags, data[key_end + 1:key_end + 1 + size]))
        position = key_end + 1 + size
    if position != len(data):
        raise RawAPEError("the APEv2 items do not fill the tag")
    return tuple(items)


def item_index(items: tuple[RawItem, ...], key: str) -> int | None:
    """The index of the first item called ``key`` (in any spelling), or None."""
    return next((i for i, item in enumerate(items) if item.key.lower() == key.lower()), None)


def with_item(items: tuple[RawItem, ...], key: str, new: RawItem | None,
              at: int | None = None) -> tuple[RawItem, ...]:
    """``items`` with ``new`` in place of the first item called ``key`` (in any spelling), or
    where there is none at index ``at`` (last without it); every item called ``key`` removed
    where ``new`` is None."""
    matches = [i for i, item in enumerate(items) if item.key.lower() == key.lower()]
    kept = [item for item in items if item.key.lower() != key.lower()]
    if new is None:
        return tuple(kept)
    place = matches[0] if matches else len(kept) if at is None else min(at, len(kept))
    return (*kept[:place], new, *kept[place:])


def with_text(items: tuple[RawItem, ...], key: str, values: list[str] | None,
              at: int | None = None) -> tuple[RawItem, ...]:
    """``items`` with the text item ``key`` holding ``values`` (removed where None): under the
    spelling and the read-only flag of the item it replaces, or new at index ``at`` (last without it)."""
    old = next((item for item in items if item.key.lower() == key.lower()), None)
    if values is None:
        return with_item(items, key, None)
    value = "\0".join(values).encode("utf-8")
    new = RawItem(key, 0, value) if old is None else replace(old, flags=old.flags & ~ITEM_TYPE, value=value)
    return with_item(items, key, new, at)


def write_tag(f: BinaryIO, tag: RawAPETag, items: tuple[RawItem, ...]) -> None:
    """Put ``tag`` back with ``items``, what follows it (Lyrics3v2, ID3v1) moved along."""
    replace_region(f, tag.start, tag.end - tag.start, tag.rebuilt(items))


def remove_tag(f: BinaryIO, tag: RawAPETag) -> None:
    """Remove ``tag``, what follows it moved up."""
    replace_region(f, tag.start, tag.end - tag.start, b"")

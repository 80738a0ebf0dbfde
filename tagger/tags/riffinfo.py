"""A WAV file's RIFF ``LIST/INFO`` chunk, whose ``IGNR`` item is the genre FFmpeg shows.

mutagen reads and writes a WAV's ``id3 `` chunk only. FFmpeg 5.1 (Debian 12's ffprobe)
shows the fields of the INFO chunk and falls back on the ID3 chunk's only where INFO holds
none, so a WAV with an INFO chunk went on showing its old genre, or none, after a write
that changed the ID3 genre alone. A write therefore gives every ``IGNR`` item the file's new genres, joined, or
adds one where its INFO chunks have none; a file without an INFO chunk is given none.
Every other item keeps its bytes, its pad byte and its place, and an undo puts the INFO
chunks back byte for byte as the journal recorded them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from typing import BinaryIO

from tagger.tags import id3raw
from tagger.tags.base import TagError

GENRE_ITEM = b"IGNR"
INFO_FORM = b"INFO"
# FFmpeg reads INFO from a list chunk of either spelling.
LIST_IDS = (b"LIST", b"list")
HEADER_SIZE = 8


class InfoError(TagError):
    """An INFO chunk that cannot be taken apart item by item, so it is never rewritten."""


@dataclass(frozen=True)
class Item:
    """One item (sub-chunk) of an INFO chunk, as stored."""

    item_id: bytes
    data: bytes
    # The byte after data of odd size; none where the size is even or the chunk ends first.
    pad: bytes = b""

    def stored(self) -> bytes:
        return self.item_id + len(self.data).to_bytes(4, "little") + self.data + self.pad


@dataclass(frozen=True)
class InfoChunk:
    """A ``LIST`` chunk of form ``INFO`` in a WAV file: where it lies, and its items."""

    offset: int  # of its header
    stored_size: int  # header, body and pad byte, as they lie in the file
    list_id: bytes
    items: tuple[Item, ...]
    pad: bytes  # the chunk's own pad byte, where its size is odd


def name(item_id: bytes) -> str:
    """A chunk or item ID for the person: its letters, or its bytes where they are not text."""
    text = item_id.decode("latin-1")
    return text.strip() if text.isprintable() else item_id.hex()


def is_wave(f: BinaryIO) -> bool:
    f.seek(0)
    head = f.read(12)
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"


def info_chunks(f: BinaryIO) -> list[InfoChunk]:
    """The INFO chunks of the open file, in file order; none where it is not a WAV file.

    Raises InfoError for one that runs past the end of the file, or whose items do not
    fill it exactly.
    """
    if not is_wave(f):
        return []
    end = id3raw.container_end(f, "riff")
    found = []
    for offset, chunk_id, size in id3raw.chunks(f, "riff"):
        if chunk_id not in LIST_IDS or size < len(INFO_FORM):
            continue
        f.seek(offset + HEADER_SIZE)
        if f.read(len(INFO_FORM)) != INFO_FORM:
            continue
        if offset + HEADER_SIZE + size > end:
            raise InfoError("the INFO chunk runs past the end of the file")
        body = f.read(size - len(INFO_FORM))
        pad = f.read(size & 1)
        found.append(InfoChunk(offset, HEADER_SIZE + size + len(pad), chunk_id, items_of(body), pad))
    return found


def items_of(body: bytes) -> tuple[Item, ...]:
    """The items that fill an INFO chunk's ``body``; InfoError where they do not fill it exactly."""
    items = []
    position = 0
    while position < len(body):
        if position + HEADER_SIZE > len(body):
            raise InfoError("the INFO chunk ends inside an item's header")
        item_id = body[position:position + 4]
        size = int.from_bytes(body[position + 4:position + HEADER_SIZE], "little")
        start = position + HEADER_SIZE
        if start + size > len(body):
            raise InfoError(f"the INFO item {name(item_id)} runs past the end of its chunk")
        pad = body[start + size:start + size + (size & 1)]
        items.append(Item(item_id, body[start:start + size], pad))
        position = start + size + len(pad)
    return tuple(items)


def problem(path: str) -> str | None:
    """Why the INFO chunks of the file at ``path`` cannot be rewritten; None where they can (or it has none)."""
    try:
        with open(path, "rb") as f:
            info_chunks(f)
    except InfoError as e:
        return str(e)
    return None


def genre_item(value: str) -> Item:
    """An ``IGNR`` item holding ``value``: a NUL-terminated string, UTF-8 as FFmpeg reads it."""
    data = value.encode("utf-8") + b"\0"
    return Item(GENRE_ITEM, data, b"\0" * (len(data) & 1))


def chunk_bytes(chunk: InfoChunk, items: list[Item]) -> bytes:
    """``chunk`` as it is stored holding ``items``; an item of odd size that had no pad byte
    (the last of its chunk) gets one where another now follows it."""
    last = len(items) - 1
    body = INFO_FORM + b"".join(
        (item if item.pad or not len(item.data) & 1 or index == last else replace(item, pad=b"\0")).stored()
        for index, item in enumerate(items))
    pad = (chunk.pad or b"\0") if len(body) & 1 else b""
    return chunk.list_id + len(body).to_bytes(4, "little") + body + pad


def rewrite(path: str, new_chunks: list[bytes]) -> None:
    """Replace the file's INFO chunks with ``new_chunks`` (one each, in file order, as stored),
    moving what follows each and fixing the RIFF size."""
    with open(path, "r+b") as f:
        chunks = info_chunks(f)
        if len(chunks) != len(new_chunks):
            raise InfoError(f"the file has {len(chunks)} INFO chunk(s) where {len(new_chunks)} were recorded")
        growth = 0
        # From the last chunk back, so that the offsets of those before it still hold.
        for chunk, data in reversed(list(zip(chunks, new_chunks))):
            id3raw.replace_region(f, chunk.offset, chunk.stored_size, data)
            growth += len(data) - chunk.stored_size
        if growth:
            f.seek(4)
            riff_size = int.from_bytes(f.read(4), "little") + growth
            f.seek(4)
            f.write(riff_size.to_bytes(4, "little"))


def set_genre(path: str, value: str | None) -> None:
    """Give every ``IGNR`` item of the file's INFO chunks ``value``, adding one to the first
    chunk where none has one; with None, remove them. A file without an INFO chunk is left as it is."""
    with open(path, "rb") as f:
        chunks = info_chunks(f)
    if not chunks:
        return
    if value is None:
        new_items = [[item for item in chunk.items if item.item_id != GENRE_ITEM] for chunk in chunks]
    else:
        new_item = genre_item(value)
        new_items = [[new_item if item.item_id == GENRE_ITEM else item for item in chunk.items] for chunk in chunks]
        if not any(item.item_id == GENRE_ITEM for chunk in chunks for item in chunk.items):
            new_items[0].append(new_item)
    rewrite(path, [chunk_bytes(chunk, items) for chunk, items in zip(chunks, new_items)])


def shown_genres(path: str) -> list[str] | None:
    """The values of the file's ``IGNR`` items as FFmpeg reads them (up to the first NUL); None
    where it has no INFO chunk, or one that cannot be rewritten."""
    try:
        with open(path, "rb") as f:
            chunks = info_chunks(f)
    except InfoError:
        return None
    if not chunks:
        return None
    return [item.data.split(b"\0")[0].decode("utf-8", "replace")
            for chunk in chunks for item in chunk.items if item.item_id == GENRE_ITEM]


def genre_record(path: str) -> list[str] | None:
    """The file's INFO chunks as stored, in base64, for the undo journal; None where it has none.

    An undo puts them back whole: the writer's check on the finished copy (``changed``)
    makes sure that nothing but their genre items differs from what they hold then.
    """
    with open(path, "rb") as f:
        chunks = info_chunks(f)
        stored = []
        for chunk in chunks:
            f.seek(chunk.offset)
            stored.append(base64.b64encode(f.read(chunk.stored_size)).decode("ascii"))
    return stored or None


def restore_genre(path: str, record: list[str]) -> None:
    """Put back the INFO chunks ``genre_record`` recorded, byte for byte."""
    rewrite(path, [base64.b64decode(stored) for stored in record])


def kept(path: str) -> list[tuple[str, bytes]]:
    """Everything of a WAV file a genre write must keep, in file order: each top-level chunk but
    the ID3 and INFO chunks (its ID and a digest of its data: the audio, the format, cue
    points), and each INFO item but ``IGNR`` (its ID and data). Empty for any other file."""
    with open(path, "rb") as f:
        if not is_wave(f):
            return []
        chunks = {chunk.offset: chunk for chunk in info_chunks(f)}
        end = id3raw.container_end(f, "riff")
        result = []
        for offset, chunk_id, size in id3raw.chunks(f, "riff"):
            if offset in chunks:
                result += [(f"INFO item {name(item.item_id)}", item.data)
                           for item in chunks[offset].items if item.item_id != GENRE_ITEM]
            elif chunk_id.lower() != b"id3 ":
                stored = min(size, end - offset - HEADER_SIZE)
                result.append((f"{name(chunk_id)} chunk", data_digest(f, offset + HEADER_SIZE, stored)))
    return result


def data_digest(f: BinaryIO, offset: int, size: int) -> bytes:
    digest = hashlib.sha256()
    f.seek(offset)
    while size > 0 and (block := f.read(min(size, 1 << 20))):
        digest.update(block)
        size -= len(block)
    return digest.digest()


def changed(original: str, written: str) -> str | None:
    """What of ``original`` beyond its genre items ``written`` would not keep; None if it keeps it all."""
    before, after = kept(original), kept(written)
    if before == after:
        return None
    names = sorted({key for key, _ in set(before) ^ set(after)}) or ["(their order)"]
    return f"the WAV file's {', '.join(names)} would not survive the write unchanged"

"""ID3v2 tags at the level of their bytes: read the frames as stored, and splice in new ones.

mutagen parses every frame it knows and writes each one back from its parsed
form. A frame it cannot parse (a ``TDRC`` holding ``Oct 3, 1995``) is dropped, one it
half-understands can come back altered, and its v2.3 conversion deletes frames such
as ``TSOP``. Genre Tagger only ever changes the genre (``TCON``) and its own
provenance frame, so for a tag at the start of a file it copies every other frame
verbatim and writes those two itself. The same reader lets the writer and the tests
compare frames before and after a write by their content, byte for byte.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

HEADER_SIZE = 10
FLAG_UNSYNC = 0x80
FLAG_EXTENDED = 0x40
FLAG_FOOTER = 0x10
# Frame flags whose transformation hides the content (ID3v2.3 / ID3v2.4).
V23_COMPRESSED, V23_ENCRYPTED = 0x0080, 0x0040
V24_COMPRESSED, V24_ENCRYPTED, V24_UNSYNC, V24_DATA_LENGTH = 0x0008, 0x0004, 0x0002, 0x0001
# Room left for later edits when a tag has to grow.
GROWTH_PADDING = 1024

GENRE_FRAME = {2: "TCO", 3: "TCON", 4: "TCON"}
USER_TEXT_FRAME = {2: "TXX", 3: "TXXX", 4: "TXXX"}

# The byte order of a chunk container's sizes: WAV's RIFF, AIFF's IFF.
CHUNK_BYTE_ORDER: dict[str, Literal["little", "big"]] = {"riff": "little", "iff": "big"}


class RawTagError(Exception):
    """An ID3v2 tag whose layout this module will not rewrite; the message says why."""


@dataclass(frozen=True)
class RawFrame:
    """One ID3v2 frame as stored on disk, for byte-exact comparison before and after a write."""

    frame_id: str
    flags: int
    stored: bytes  # the frame's data as stored, tag-wide unsynchronisation undone
    # ID3v2.4 marks unsynchronisation per frame; a tag-wide flag there means every frame.
    tag_unsync: bool = False

    def content(self, major: int) -> bytes:
        """The frame's data with its own transformations (v2.4 unsync, compression) undone."""
        data = self.stored
        if major == 4:
            if self.flags & (V24_COMPRESSED | V24_DATA_LENGTH):
                data = data[4:]
            if self.flags & V24_UNSYNC or self.tag_unsync:
                data = data.replace(b"\xff\x00", b"\xff")
            if self.flags & V24_COMPRESSED and not self.flags & V24_ENCRYPTED:
                data = _inflate(data)
        elif major == 3 and self.flags & V23_COMPRESSED and not self.flags & V23_ENCRYPTED:
            data = _inflate(data[4:])
        return data

    def encoded(self, major: int) -> bytes:
        """Header and data, as they go into a tag of version 2.``major``."""
        if major == 2:
            return self.frame_id.encode("ascii") + struct.pack(">I", len(self.stored))[1:] + self.stored
        size = synchsafe(len(self.stored)) if major == 4 else struct.pack(">I", len(self.stored))
        return self.frame_id.encode("ascii") + size + struct.pack(">H", self.flags) + self.stored


@dataclass(frozen=True)
class RawTag:
    """An ID3v2 tag as stored on disk: its header and raw frames."""

    major: int  # 2, 3 or 4
    revision: int
    flags: int
    size: int  # bytes on disk: header, body and footer
    frames: tuple[RawFrame, ...]

    @property
    def has_footer(self) -> bool:
        return self.major == 4 and bool(self.flags & FLAG_FOOTER)

    @property
    def body_capacity(self) -> int:
        """The bytes it holds for frames and padding: its size but for header and footer."""
        return self.size - HEADER_SIZE - (HEADER_SIZE if self.has_footer else 0)

    def comparable(self, skip: frozenset[str] = frozenset()) -> Counter:
        """Each frame's ID, flags and bytes as stored, for checking that a write kept them byte for byte."""
        return Counter((f.frame_id, f.flags, f.stored) for f in self.frames if frame_key(f, self.major) not in skip)


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data  # compared as stored: still byte-exact


def synchsafe(value: int) -> bytes:
    if value >= 1 << 28:
        raise RawTagError("the tag would exceed ID3v2's 256 MB limit")
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def unsynchsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def valid_frame_id(frame_id: bytes) -> bool:
    return bool(frame_id) and all(48 <= c <= 57 or 65 <= c <= 90 for c in frame_id)


def read_tag(head: bytes) -> RawTag | None:
    """The ID3v2 tag at the start of ``head`` (which holds at least the whole tag), or None.

    Raises RawTagError for a tag that cannot be taken apart frame by frame.
    """
    if len(head) < HEADER_SIZE or head[:3] != b"ID3":
        return None
    major, revision, flags = head[3], head[4], head[5]
    if major not in (2, 3, 4):
        raise RawTagError(f"ID3v2.{major} tags are not supported")
    if any(b & 0x80 for b in head[6:10]):
        raise RawTagError("the ID3v2 header's size is damaged")
    body_size = unsynchsafe(head[6:10])
    footer = HEADER_SIZE if major == 4 and flags & FLAG_FOOTER else 0
    if len(head) < HEADER_SIZE + body_size + footer:
        raise RawTagError("the ID3v2 tag is longer than the file")
    body = head[HEADER_SIZE:HEADER_SIZE + body_size]
    if major == 2 and flags & FLAG_EXTENDED:
        raise RawTagError("compressed ID3v2.2 tags are not supported")
    if major < 4 and flags & FLAG_UNSYNC:
        body = body.replace(b"\xff\x00", b"\xff")
    if flags & FLAG_EXTENDED:
        if len(body) < 4:
            raise RawTagError("the ID3v2 extended header is damaged")
        extended = (struct.unpack(">I", body[:4])[0] + 4) if major == 3 else unsynchsafe(body[:4])
        if extended > len(body):
            raise RawTagError("the ID3v2 extended header is damaged")
        body = body[extended:]
    frames = _frames(body, major, tag_unsync=major == 4 and bool(flags & FLAG_UNSYNC))
    return RawTag(major, revision, flags, HEADER_SIZE + body_size + footer, tuple(frames))


def _frames(body: bytes, major: int, tag_unsync: bool) -> list[RawFrame]:
    if major != 4:
        frames = _walk(body, major, True, tag_unsync)
    else:
        # Some taggers (old iTunes) wrote v2.4 frame sizes as plain integers.
        frames = _walk(body, major, False, tag_unsync)
        if frames is None:
            frames = _walk(body, major, True, tag_unsync)
    if frames is None:
        raise RawTagError("the ID3v2 frames do not line up (a frame is damaged or runs past the tag)")
    return frames


def _walk(body: bytes, major: int, plain_sizes: bool, tag_unsync: bool) -> list[RawFrame] | None:
    """The frames in ``body``, or None unless they tile it exactly up to the padding."""
    id_size, header_size = (3, 6) if major == 2 else (4, 10)
    frames = []
    position = 0
    while position + header_size <= len(body):
        header = body[position:position + header_size]
        if header[0] == 0:
            break  # padding
        frame_id = header[:id_size]
        if not valid_frame_id(frame_id):
            return None
        if major == 2:
            size, flags = int.from_bytes(header[3:6], "big"), 0
        else:
            raw_size = header[4:8]
            if not plain_sizes and any(b & 0x80 for b in raw_size):
                return None
            size = struct.unpack(">I", raw_size)[0] if plain_sizes else unsynchsafe(raw_size)
            flags = struct.unpack(">H", header[8:10])[0]
        end = position + header_size + size
        if end > len(body):
            return None
        frames.append(RawFrame(frame_id.decode("ascii"), flags, body[position + header_size:end], tag_unsync))
        position = end
    if any(body[position:]):
        return None  # not padding: bytes that belong to no frame
    return frames


def user_text_description(frame: RawFrame, major: int) -> str | None:
    """The description of a TXXX/TXX frame."""
    data = frame.content(major)
    if not data:
        return None
    encoding, rest = data[0], data[1:]
    if encoding in (1, 2):
        end = next((i for i in range(0, len(rest) - 1, 2) if rest[i:i + 2] == b"\0\0"), len(rest))
        codec = "utf-16" if encoding == 1 else "utf-16-be"
        return rest[:end].decode(codec, "replace")
    end = rest.find(b"\0")
    return rest[:end if end >= 0 else len(rest)].decode("utf-8" if encoding == 3 else "latin-1", "replace")


def frame_key(frame: RawFrame, major: int) -> str:
    """``TXXX:description`` for user text frames, the frame ID otherwise (as mutagen keys them)."""
    if frame.frame_id == USER_TEXT_FRAME[major]:
        return f"TXXX:{user_text_description(frame, major)}"
    return {"TCO": "TCON"}.get(frame.frame_id, frame.frame_id)


def text_frame(frame_id: str, major: int, values: list[str], description: str | None = None) -> RawFrame:
    """A text frame (or, with ``description``, a user text frame) in the encoding the version allows.

    ID3v2.4 stores several values natively, as UTF-8; v2.2 and v2.3 hold one string,
    Latin-1 where it fits and UTF-16 otherwise.
    """
    strings = ([] if description is None else [description]) + values
    if major == 4:
        data = b"\x03" + b"\0".join(s.encode("utf-8") for s in strings)
    else:
        try:
            data = b"\x00" + b"\0".join(s.encode("latin-1") for s in strings)
        except UnicodeEncodeError:
            data = b"\x01" + b"\0\0".join(s.encode("utf-16") for s in strings)
    return RawFrame(frame_id, 0, data)


def spliced(tag: RawTag, frames: list[RawFrame], body_size: int | None = None) -> bytes:
    """``tag`` rebuilt with ``frames``, the same size when they fit in its padding, or
    ``body_size`` (frames and padding) when they fit in that: an undo's recorded size.

    Tag-wide unsynchronisation and the extended header (whose CRC would no longer
    match) are dropped; the frames keep their own flags and bytes.
    """
    body = b"".join(f.encoded(tag.major) for f in frames)
    footer = tag.has_footer
    if footer:
        size = len(body)  # a tag with a footer has no padding
    elif body_size is not None and len(body) <= body_size:
        size = body_size
    elif len(body) <= tag.body_capacity:
        size = tag.body_capacity
    else:
        size = len(body) + GROWTH_PADDING
    flags = tag.flags & (FLAG_FOOTER if tag.major == 4 else 0)
    if tag.major == 4 and tag.flags & FLAG_UNSYNC:
        flags |= FLAG_UNSYNC  # its frames were written for it; ours hold no 0xFF bytes (UTF-8)
    header = b"ID3" + bytes((tag.major, tag.revision, flags)) + synchsafe(size)
    result = header + body.ljust(size, b"\0")
    if footer:
        result += b"3DI" + header[3:]
    return result


@dataclass(frozen=True)
class TagPlace:
    """Where a file keeps its ID3v2 tag: ``size`` bytes at ``offset``, inside ``container``.

    ``start``: before the audio (MP3, TrueAudio); ``riff``/``iff``: the data of an ``ID3``
    chunk of a WAV or AIFF file (its pad byte included); ``dsf``: from a DSF file's
    metadata pointer to its end.
    """

    offset: int
    size: int
    container: str


def find_tag(f: BinaryIO) -> TagPlace | None:
    """The place of the file's ID3v2 tag, or None when it has none."""
    f.seek(0)
    head = f.read(28)
    end = f.seek(0, 2)
    if head[:3] == b"ID3" and len(head) >= HEADER_SIZE:
        if any(b & 0x80 for b in head[6:10]):
            raise RawTagError("the ID3v2 header's size is damaged")
        footer = HEADER_SIZE if head[3] == 4 and head[5] & FLAG_FOOTER else 0
        return TagPlace(0, min(end, HEADER_SIZE + unsynchsafe(head[6:10]) + footer), "start")
    if head[:4] == b"DSD ":
        offset = int.from_bytes(head[20:28], "little")
        return TagPlace(offset, end - offset, "dsf") if 0 < offset < end else None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        container = "riff"
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        container = "iff"
    else:
        return None
    end = container_end(f, container)
    for position, chunk_id, size in chunks(f, container):
        if chunk_id.lower() == b"id3 ":
            return TagPlace(position + 8, min(size + (size & 1), end - position - 8), container)
    return None


def container_end(f: BinaryIO, container: str) -> int:
    """Where the chunks of a WAV (``riff``) or AIFF (``iff``) file end: at the size its header
    declares, or at the end of the file where that comes first."""
    f.seek(4)
    declared = int.from_bytes(f.read(4), CHUNK_BYTE_ORDER[container])
    # Bytes past the size the container declares are not its chunks: readers ignore them.
    return min(f.seek(0, 2), 8 + declared)


def chunks(f: BinaryIO, container: str) -> Iterator[tuple[int, bytes, int]]:
    """The top-level chunks of a WAV or AIFF file: the offset of each header, its ID and its
    size as declared (which may run past the end of a damaged file)."""
    order = CHUNK_BYTE_ORDER[container]
    end = container_end(f, container)
    position = 12
    while position + 8 <= end:
        f.seek(position)
        header = f.read(8)
        size = int.from_bytes(header[4:8], order)
        yield position, header[:4], size
        position += 8 + size + (size & 1)


def read_placed(f: BinaryIO, place: TagPlace) -> RawTag:
    f.seek(place.offset)
    tag = read_tag(f.read(place.size))
    if tag is None:
        raise RawTagError("the ID3 chunk holds no ID3v2 tag")
    return tag


def write_placed(f: BinaryIO, place: TagPlace, tag: bytes) -> None:
    """Put ``tag`` where the old one was, moving what follows and fixing the container's sizes."""
    data = tag + b"\0" * (len(tag) & 1) if place.container in ("riff", "iff") else tag
    replace_region(f, place.offset, place.size, data)
    end = f.seek(0, 2)
    if place.container == "dsf":
        f.seek(12)
        f.write(end.to_bytes(8, "little"))
    elif place.container in CHUNK_BYTE_ORDER:
        order = CHUNK_BYTE_ORDER[place.container]
        f.seek(place.offset - 4)
        f.write(len(tag).to_bytes(4, order))
        f.seek(4)
        f.write((end - 8).to_bytes(4, order))


def remove_placed(f: BinaryIO, place: TagPlace) -> None:
    """Remove the tag at ``place``: from the start of the file, or as a whole chunk of a WAV or
    AIFF file, whose container's size shrinks with it."""
    if place.container in CHUNK_BYTE_ORDER:
        order = CHUNK_BYTE_ORDER[place.container]
        replace_region(f, place.offset - 8, place.size + 8, b"")
        f.seek(4)
        size = int.from_bytes(f.read(4), order) - place.size - 8
        f.seek(4)
        f.write(size.to_bytes(4, order))
    else:
        replace_region(f, place.offset, place.size, b"")


def replace_region(f: BinaryIO, offset: int, old_size: int, data: bytes) -> None:
    """Replace ``old_size`` bytes at ``offset`` of the open file with ``data``, moving the rest."""
    chunk = 1 << 20
    tail = offset + old_size
    delta = len(data) - old_size
    end = f.seek(0, 2)
    if delta > 0:
        position = end
        while position > tail:
            n = min(chunk, position - tail)
            position -= n
            f.seek(position)
            moved = f.read(n)
            f.seek(position + delta)
            f.write(moved)
    elif delta < 0:
        position = tail
        while position < end:
            f.seek(position)
            moved = f.read(chunk)
            f.seek(position + delta)
            f.write(moved)
            position += len(moved)
        f.truncate(end + delta)
    f.seek(offset)
    f.write(data)

"""APE tags and Lyrics3v2 tags assembled byte by byte, in orders and shapes mutagen does not write."""

import struct

HAS_HEADER = 0x80000000
IS_HEADER = 0x20000000


def ape_item(key: bytes, value: bytes, flags: int = 0, size: int | None = None) -> bytes:
    """One stored item; ``size`` overrides the value's length in its size field."""
    return struct.pack("<II", len(value) if size is None else size, flags) + key + b"\0" + value


def ape_wrap(body: bytes, count: int, version: int = 2000, header: bool = True, flags: int = 0) -> bytes:
    """An APE tag around items already stored: a header (APEv2 only) and a footer that count them."""
    counts = struct.pack("<II", len(body) + 32, count)
    footer = b"APETAGEX" + struct.pack("<I", version) + counts + struct.pack("<I", flags | HAS_HEADER * header)
    if not header:
        return body + footer + bytes(8)
    header_bytes = b"APETAGEX" + struct.pack("<I", version) + counts + struct.pack("<I", HAS_HEADER | IS_HEADER)
    return header_bytes + bytes(8) + body + footer + bytes(8)


def ape_tag(items: list[tuple[str, bytes]], version: int = 2000) -> bytes:
    """An APE tag, its items in the order given (mutagen sorts them by size): APEv2 with a
    header, or APEv1 (1000), which has none."""
    body = b"".join(ape_item(key.encode(), value) for key, value in items)
    return ape_wrap(body, len(items), version, header=version == 2000)


def lyrics3v2(text: bytes) -> bytes:
    content = b"LYRICSBEGIN" + b"LYR" + b"%05d" % len(text) + text
    return content + b"%06d" % len(content) + b"LYRICS200"

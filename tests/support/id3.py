"""ID3 tags assembled byte by byte, to hold frames that mutagen itself cannot write or round-trip."""

import struct


def synchsafe(n: int) -> bytes:
    return bytes((n >> s) & 0x7F for s in (21, 14, 7, 0))


def frame(major: int, frame_id: str, data: bytes) -> bytes:
    if major == 2:
        return frame_id.encode() + struct.pack(">I", len(data))[1:] + data
    size = synchsafe(len(data)) if major == 4 else struct.pack(">I", len(data))
    return frame_id.encode() + size + b"\0\0" + data


def id3v2(major: int, frames: list[bytes], padding: int = 64) -> bytes:
    body = b"".join(frames) + b"\0" * padding
    return b"ID3" + bytes((major, 0, 0)) + synchsafe(len(body)) + body


def id3v1(title: bytes, artist: bytes, album: bytes, comment: bytes, genre: int) -> bytes:
    return (b"TAG" + title.ljust(30, b"\0") + artist.ljust(30, b"\0") + album.ljust(30, b"\0") + b"1995"
            + comment.ljust(30, b"\0") + bytes([genre]))

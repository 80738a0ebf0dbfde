"""The ID3v1 tag at the end of a file (MP3, TrueAudio, Monkey's Audio, WavPack): kept byte for byte
but for its genre byte, which gets the ID3v1 genre nearest the first genre written.

ID3v1 names a genre by its number in a fixed list. FFmpeg reads the ID3v1 tag of
Monkey's Audio, WavPack and TrueAudio files, so a genre that is not in the list must
not leave the byte at 255 ("none"): those files would show no genre at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tagger.genres.vocabulary import genre_key, vocabulary

ID3V1_SIZE = 128
ID3V1_UNKNOWN_GENRE = 255
ID3V1_OTHER_GENRE = 12
APE_MAGIC = b"APETAGEX"


def id3v1_block(f: Any) -> bytes | None:
    """The 128-byte ID3v1 tag at the end of the open file, if there is one."""
    end = f.seek(0, 2)
    if end < ID3V1_SIZE:
        return None
    f.seek(end - ID3V1_SIZE)
    block = f.read(ID3V1_SIZE)
    if block[:3] != b"TAG":
        return None
    # The TAG may be the middle of an APEv2 header's or footer's magic, "APETAGEX".
    f.seek(max(0, end - ID3V1_SIZE - APE_MAGIC.index(b"TAG")))
    if f.read(len(APE_MAGIC)) == APE_MAGIC:
        return None
    return block


def id3v1_without_genre(block: bytes | None) -> bytes | None:
    """An ID3v1 block less its last byte, the genre."""
    return None if block is None else block[:-1]


def id3v1_numbers() -> dict[str, int]:
    """Each ID3v1 genre's number (with Winamp's extensions, as FFmpeg, TagLib and exiftool know
    them), by its spelling key."""
    from mutagen.id3 import TCON

    return {genre_key(name): number for number, name in enumerate(TCON.GENRES[:ID3V1_UNKNOWN_GENRE])}


def id3v1_genre_byte(genres: list[str]) -> int:
    """The ID3v1 genre nearest the first of ``genres``: 255 (none) only where there is no genre."""
    if not genres:
        return ID3V1_UNKNOWN_GENRE
    numbers = id3v1_numbers()
    return next((numbers[key] for key in map(genre_key, related_genres(genres[0])) if key in numbers),
                ID3V1_OTHER_GENRE)


def related_genres(name: str) -> Iterator[str]:
    """``name``, then the genres nearest it, nearest first: the vocabulary's spelling of it, its
    ancestors and its family. For a genre the vocabulary does not know, the same for the
    longest run of its last words that it does ("Interop Jazz" is a kind of "Jazz")."""
    vocab = vocabulary()
    words = name.split()
    known = next((" ".join(words[i:]) for i in range(len(words)) if vocab.knows(" ".join(words[i:]))), None)
    yield name
    if known is None:
        return
    yield known
    yield vocab.canonical(known) or known
    ancestor = vocab.parent(known)
    seen = set()
    while ancestor is not None and ancestor not in seen:
        seen.add(ancestor)
        yield ancestor
        ancestor = vocab.parent(ancestor)
    family = vocab.family(known)
    if family is not None:
        yield family


def restore_id3v1(path: str, block: bytes, genres: list[str], genre_byte: int | None = None) -> None:
    """Put the old ID3v1 tag back at the end of ``path``, with only its genre byte new: the
    ID3v1 genre nearest the first of ``genres``, or ``genre_byte`` (an undo's recorded one)."""
    with open(path, "r+b") as f:
        end = f.seek(0, 2)
        if id3v1_block(f) is not None:
            end -= ID3V1_SIZE
        f.truncate(end)
        f.seek(end)
        f.write(block[:-1] + bytes([id3v1_genre_byte(genres) if genre_byte is None else genre_byte]))

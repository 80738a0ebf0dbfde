"""ID3: MP3, and the ID3 chunk of WAV, AIFF and DSF files.

Tags are loaded untranslated, so frames stay in the version the file has and are
saved back in it: rewriting an ID3v2.3 tag as v2.4, or dropping the v2.4 frames that
many taggers put in v2.3 tags, would change far more than the genre. Only two cases
change the version, and both are reported: ID3v2.2 (which mutagen cannot write) is
saved as v2.3, and a file with only an ID3v1 tag gets an ID3v2.3 tag beside it.
"""

from __future__ import annotations

from typing import Any

from mutagen.aiff import AIFF
from mutagen.dsf import DSF
from mutagen.id3 import ID3, TCON, TXXX, Encoding
from mutagen.mp3 import MP3
from mutagen.trueaudio import TrueAudio
from mutagen.wave import WAVE

from tagger.tags.base import PROVENANCE_KEY, TagFormat, TagSnapshot, WriteOptions, dedupe, first_text


def version_name(version: tuple[int, ...]) -> str:
    return "ID3v1" if version[0] == 1 else f"ID3v2.{version[1]}"


class ID3Format(TagFormat):
    file_types = (MP3, TrueAudio, WAVE, AIFF, DSF)

    def open(self, path: str, file_type: type) -> Any:
        audio = file_type(path, translate=False)
        if audio.tags is None:
            audio.add_tags()
            # A new tag starts as ID3v2.3, which every player reads.
            audio.tags.version = (2, 3, 0)
        return audio

    def read(self, audio: Any, id3v23_separator: str = "; ") -> TagSnapshot:
        tags: ID3 = audio.tags
        text = {frame_id: first_text(frame.text) for frame_id in ("TPE1", "TPE2", "TALB", "TIT2", "TRCK")
                for frame in tags.getall(frame_id)[:1]}
        # (mutagen upgrades ID3v2.2's three-letter frames as it loads them)
        year = next((str(f.text[0]) for key in ("TDRC", "TYER") for f in tags.getall(key) if f.text), None)
        genres = [name for frame in tags.getall("TCON") for name in frame.genres]
        if tags.version[:2] == (2, 3) and id3v23_separator.strip():
            genres = [part for name in genres for part in name.split(id3v23_separator.strip())]
        provenance = next((str(f.text[0]) for f in tags.getall(f"TXXX:{PROVENANCE_KEY}") if f.text), None)
        return TagSnapshot(
            format=f"{type(audio).__name__} ({version_name(tags.version)})",
            genres=dedupe(genres),
            provenance=provenance,
            artist=text.get("TPE1"),
            album_artist=text.get("TPE2"),
            album=text.get("TALB"),
            title=text.get("TIT2"),
            track=text.get("TRCK"),
            year=year,
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        tags: ID3 = audio.tags
        notes = []
        if tags.version < (2, 3, 0):
            notes.append(
                f"{version_name(tags.version)} tag saved as ID3v2.3"
                + (" beside the ID3v1 tag" if tags.version[0] == 1 else " (ID3v2.2 cannot be written)")
            )
            tags.update_to_v23()
        tags.delall("TCON")
        if genres:
            if saved_version(tags) == 4:
                tags.add(TCON(encoding=Encoding.UTF8, text=genres))
            else:
                joined = options.id3v23_separator.join(genres)
                tags.add(TCON(encoding=text_encoding(joined, utf16=True), text=[joined]))
        return notes

    def set_provenance(self, audio: Any, text: str | None) -> None:
        tags: ID3 = audio.tags
        tags.delall(f"TXXX:{PROVENANCE_KEY}")
        if text is not None:
            utf16 = saved_version(tags) < 4
            tags.add(TXXX(encoding=text_encoding(text, utf16), desc=PROVENANCE_KEY, text=[text]))

    def save(self, audio: Any, path: str, options: WriteOptions) -> None:
        version = saved_version(audio.tags)
        # A v1 tag is kept in step with the new genre, never added or dropped.
        kwargs = {"v1": 1} if isinstance(audio, (MP3, TrueAudio)) else {}
        # The genre is already joined. v23_sep=None keeps other frames' values as the
        # file has them: joining them too would rewrite artists and titles.
        audio.tags.save(path, v2_version=version, v23_sep=None, **kwargs)


def saved_version(tags: ID3) -> int:
    """The ID3v2 minor version a tag is saved in: its own, but at least 3."""
    major, minor = tags.version[:2]
    return minor if major == 2 and minor >= 3 else 3


def text_encoding(text: str, utf16: bool) -> Encoding:
    """Latin-1 where it fits, else the Unicode encoding this ID3 version supports."""
    try:
        text.encode("latin-1")
        return Encoding.LATIN1
    except UnicodeEncodeError:
        return Encoding.UTF16 if utf16 else Encoding.UTF8

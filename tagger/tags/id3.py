"""ID3: MP3, and the ID3 chunk of WAV, AIFF and DSF files.

Tags are loaded untranslated, so frames stay in the version the file has. An existing
ID3v2 tag (at the start of an MP3 or TrueAudio file, in the ID3 chunk of a WAV or AIFF
file, at the end of a DSF file) is rewritten at the byte level (``id3raw``): every
frame but the genre and the provenance field is copied verbatim, whether or not
mutagen can parse it, and ID3v2.2 stays v2.2. Only the genre byte of an ID3v1 tag
changes. A file without an ID3v2 tag gets an ID3v2.3 tag from mutagen, which every
player reads. A WAV file's RIFF INFO chunk, whose genre FFmpeg 5.1 shows instead of the
ID3 chunk's, is kept in step (``riffinfo``).
"""

from __future__ import annotations

import base64
import io
import json
import os
from typing import Any

from mutagen.aiff import AIFF
from mutagen.dsf import DSF
from mutagen.id3 import ID3, TCON, TXXX, Encoding
from mutagen.mp3 import MP3
from mutagen.trueaudio import TrueAudio
from mutagen.wave import WAVE

from tagger.tags import apev2, id3raw, riffinfo
from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    PROVENANCE_KEY,
    TagError,
    TagFormat,
    TagSnapshot,
    WriteOptions,
    first_text,
    read_genres,
    separated,
)
from tagger.tags.id3v1 import id3v1_block, id3v1_without_genre, restore_id3v1

# The frames a genre write changes, keyed as id3raw.frame_key keys them.
# The largest WAV or AIFF file a tag chunk is written into: RIFF and IFF sizes are 32-bit, and
# the file's own size must still fit once the chunk (with cover art, up to 16 MiB) is added.
CHUNK_SIZE_LIMIT = 0xFFFFFFFF - (16 << 20)
WRITTEN_FRAMES = frozenset({"TCON", f"TXXX:{PROVENANCE_KEY}"})


def version_name(version: tuple[int, ...]) -> str:
    return "ID3v1" if version[0] == 1 else f"ID3v2.{version[1]}"


class ID3Format(TagFormat):
    """ID3v2 tags: MP3, TrueAudio, WAV, AIFF and DSF."""

    file_types = (MP3, TrueAudio, WAVE, AIFF, DSF)

    def open(self, path: str, file_type: type) -> Any:
        return self.adopt(file_type(path, translate=False))

    def adopt(self, audio: Any) -> Any:
        if audio.tags is None:
            audio.add_tags()
            # A new tag starts as ID3v2.3, which every player reads. (add_tags() set the tag;
            # mypy still holds audio.tags to the None it was narrowed to.)
            audio.tags.version = (2, 3, 0)  # type: ignore[attr-defined]
        return audio

    def read(self, audio: Any, separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
        tags: ID3 = audio.tags
        text = {frame_id: first_text(frame.text) for frame_id in ("TPE1", "TPE2", "TALB", "TIT2", "TRCK")
                for frame in tags.getall(frame_id)[:1]}
        # (mutagen upgrades ID3v2.2's three-letter frames as it loads them)
        year = next((str(f.text[0]) for key in ("TDRC", "TYER") for f in tags.getall(key) if f.text), None)
        stored = [str(text) for frame in tags.getall("TCON") for text in frame.text]
        provenance = next((str(f.text[0]) for f in tags.getall(f"TXXX:{PROVENANCE_KEY}") if f.text), None)
        return TagSnapshot(
            format=f"{type(audio).__name__} ({version_name(tags.version)})",
            genres=read_genres(stored, separator),
            stored_genres=stored,
            provenance=provenance,
            artist=text.get("TPE1"),
            album_artist=text.get("TPE2"),
            album=text.get("TALB"),
            title=text.get("TIT2"),
            track=text.get("TRCK"),
            disc=text.get("TPOS"),
            year=year,
            duration_s=getattr(audio.info, "length", None),
        )

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> list[str]:
        tags: ID3 = audio.tags
        notes = []
        if tags.version[0] == 1:
            notes.append("ID3v1 tag kept; an ID3v2.3 tag was added beside it for the genres")
            tags.update_to_v23()
        tags.delall("TCON")
        if genres:
            values = self.stored_values(audio, genres, options)
            if saved_version(tags) == 4:
                tags.add(TCON(encoding=Encoding.UTF8, text=values))
            else:
                tags.add(TCON(encoding=text_encoding("".join(values), utf16=True), text=values))
        return notes

    def joins_values(self, audio: Any) -> bool:
        return saved_version(audio.tags) < 4

    def in_step(self, audio: Any, separator: str) -> bool:
        shown = riffinfo.shown_genres(str(audio.filename)) if isinstance(audio, WAVE) else None
        if shown is None:
            return True
        # As the genres read, so that INFO's "Rock" is in step with an ID3 genre of "(17)Rock".
        genres = read_genres(genre_values(audio.tags), separator)
        if not shown:
            return not genres
        return all(read_genres([value], separator) == genres for value in shown)

    def genre_field(self, path: str) -> str | None:
        """The genre frames' flags and bytes as stored (another tagger's UTF-16, a terminator),
        the ID3v1 genre byte, the genre item of an APEv2 tag at the end, and a WAV file's INFO chunks."""
        with open(path, "rb") as f:
            tag, v1 = tag_at(f, placed_tag(f)), id3v1_block(f)
        def stored(key: str) -> list[list]:
            return [] if tag is None else [
                [frame.frame_id, frame.flags, base64.b64encode(frame.stored).decode("ascii")]
                for frame in tag.frames if id3raw.frame_key(frame, tag.major) == key]

        # The provenance frame too: mutagen ends an ID3v2.3 text with a terminator where the
        # splice does not, so an undo rebuilding it from its text came back a byte short.
        return json.dumps({"major": tag.major if tag else None, "frames": stored("TCON"),
                           "provenance_frames": stored(f"TXXX:{PROVENANCE_KEY}"),
                           "v1_genre": v1[-1] if v1 else None, "body_size": tag.body_capacity if tag else None,
                           "apev2_genre": apev2.genre_item_record(path),
                           "riff_info": riffinfo.genre_record(path)})

    def restore_field(self, audio: Any, field: str) -> None:
        audio.genre_field = json.loads(field)

    def set_provenance(self, audio: Any, text: str | None) -> None:
        tags: ID3 = audio.tags
        tags.delall(f"TXXX:{PROVENANCE_KEY}")
        if text is not None:
            utf16 = saved_version(tags) < 4
            tags.add(TXXX(encoding=text_encoding(text, utf16), desc=PROVENANCE_KEY, text=[text]))

    def refusal(self, audio: Any, path: str) -> str | None:
        if isinstance(audio, (WAVE, AIFF)) and os.path.getsize(path) > CHUNK_SIZE_LIMIT:
            kind = "WAV" if isinstance(audio, WAVE) else "AIFF"
            return (f"refused: a {kind} file of nearly 4 GiB or more has no room for a tag chunk "
                    "(RIFF and IFF sizes are 32-bit), so it is left untouched")
        if isinstance(audio, WAVE) and (problem := riffinfo.problem(path)):
            return (f"refused: the WAV file's INFO chunk, where players such as FFmpeg read its genre, "
                    f"does not parse ({problem}), so the file is left untouched")
        return None

    def save(self, audio: Any, path: str, options: WriteOptions) -> None:
        with open(path, "rb") as f:
            v1_before = id3v1_block(f)
            place = placed_tag(f)
        if place is not None:  # the file has an ID3v2 tag already: it is rewritten at the byte level
            with open(path, "r+b") as f:
                tag = read_placed_tag(f, place)
                if self._restores_no_tag(audio, place, v1_before):
                    id3raw.remove_placed(f, place)
                else:
                    frames = replaced_frames(tag, audio.tags, recorded_frames(audio, tag.major, "frames"),
                                             recorded_frames(audio, tag.major, "provenance_frames"))
                    id3raw.write_placed(f, place, id3raw.spliced(tag, frames, recorded_body_size(audio, tag.major)))
        else:
            # A file without an ID3v2 tag gets one from mutagen: there is nothing to lose.
            # v23_sep=None keeps the values as they are; mutagen's own ID3v1 update (an MP3's
            # save updates a v1 tag it has) rebuilds the whole v1 tag from the v2 frames, so
            # the old block is put back below.
            audio.tags.save(path, v2_version=saved_version(audio.tags), v23_sep=None)
        # Separated in any version: a value stored joined holds several genres, and the ID3v1
        # byte and an MP3's APEv2 item take them one by one.
        genres = [part.strip() for frame in audio.tags.getall("TCON") for name in frame.genres
                  for part in separated(name, options.separator)]
        recorded = getattr(audio, "genre_field", None)  # an undo's
        if isinstance(audio, (MP3, TrueAudio)):
            apev2.keep_genre_in_step(path, apev2.APEv2Format().stored_values(audio, genres, options), recorded)
        if v1_before is not None:
            restore_id3v1(path, v1_before, genres, (recorded or {}).get("v1_genre"))
        if isinstance(audio, WAVE):
            save_riff_info(audio, path, options.separator)

    def check_preserved(self, original: str, written: str) -> str | None:
        with open(original, "rb") as f:
            before, v1_before = tag_at(f, placed_tag(f)), id3v1_block(f)
        with open(written, "rb") as f:
            after, v1_after = tag_at(f, placed_tag(f)), id3v1_block(f)
        if before is not None and after is None:
            # Only an undo removes the tag, where a write added it to a file that had none.
            if not only_copies_of_id3v1(placed_id3(original), v1_after):
                return "the ID3v2 tag would be removed with frames the ID3v1 tag does not hold"
        elif before is not None and after is not None:
            if after.major != before.major:
                return "the ID3v2 tag would not keep its version"
            lost = before.comparable(WRITTEN_FRAMES) - after.comparable(WRITTEN_FRAMES)
            added = after.comparable(WRITTEN_FRAMES) - before.comparable(WRITTEN_FRAMES)
            if lost or added:
                names = sorted({frame_id for frame_id, _, _ in lost + added})
                return f"the ID3 frame(s) {', '.join(names)} would not survive the write unchanged"
        if id3v1_without_genre(v1_before) != id3v1_without_genre(v1_after):
            return "the ID3v1 tag would change beyond its genre"
        if apev2.items_but_genre(original) != apev2.items_but_genre(written):
            return "the APEv2 tag would change beyond its genre"
        return riffinfo.changed(original, written)

    @staticmethod
    def _restores_no_tag(audio: Any, place: id3raw.TagPlace, v1: bytes | None) -> bool:
        """Whether an undo puts back a file that had no ID3v2 tag (an ID3v1-only or untagged
        MP3, a WAV or AIFF file without an ID3 chunk), and the tag the write added holds nothing
        but the genre, the provenance note and the fields mutagen copied from the ID3v1 tag:
        then the tag (or its chunk) goes, and the file is again byte for byte what it was."""
        field = getattr(audio, "genre_field", None)
        return (field is not None and field["major"] is None and place.container in ("start", "riff", "iff")
                and not audio.tags.getall(f"TXXX:{PROVENANCE_KEY}") and only_copies_of_id3v1(audio.tags, v1))


def save_riff_info(audio: Any, path: str, separator: str) -> None:
    """Give the WAV file's INFO chunks the genres its ID3 chunk now holds, joined; or, in an
    undo, put them back as the journal recorded them. An undo recorded by a version that left
    INFO alone leaves it alone."""
    field = getattr(audio, "genre_field", None)
    if field is None:
        values = genre_values(audio.tags)
        riffinfo.set_genre(path, separator.join(values) if values else None)
    elif field.get("riff_info") is not None:
        riffinfo.restore_genre(path, field["riff_info"])


def genre_values(tags: ID3) -> list[str]:
    """The values of the tag's genre frames, as stored."""
    return [str(text) for frame in tags.getall("TCON") for text in frame.text]


def only_copies_of_id3v1(tags: ID3, v1: bytes | None) -> bool:
    """Whether ``tags`` holds nothing beyond the genre, the provenance note and the fields an
    ID3v2.3 tag gets from the ID3v1 tag ``v1`` (mutagen copies them when it adds the tag)."""
    copied = set()
    if v1 is not None:
        from_v1 = ID3(io.BytesIO(v1))
        from_v1.update_to_v23()
        copied = {(frame.HashKey, str(frame)) for frame in from_v1.values()}
    return all((frame.HashKey, str(frame)) in copied for frame in tags.values() if frame.HashKey not in WRITTEN_FRAMES)


def placed_id3(path: str) -> ID3:
    """The file's ID3v2 tag as mutagen parses it, wherever the file keeps it."""
    with open(path, "rb") as f:
        place = placed_tag(f)
        if place is None:
            raise TagError("the file has no ID3v2 tag")
        f.seek(place.offset)
        return ID3(io.BytesIO(f.read(place.size)), translate=False)


def placed_tag(f: Any) -> id3raw.TagPlace | None:
    try:
        return id3raw.find_tag(f)
    except id3raw.RawTagError as e:
        raise TagError(f"{e}; the file is left untouched") from None


def tag_at(f: Any, place: id3raw.TagPlace | None) -> id3raw.RawTag | None:
    return None if place is None else read_placed_tag(f, place)


def read_placed_tag(f: Any, place: id3raw.TagPlace) -> id3raw.RawTag:
    try:
        return id3raw.read_placed(f, place)
    except id3raw.RawTagError as e:
        raise TagError(f"{e}; the file is left untouched") from None


def replaced_frames(tag: id3raw.RawTag, tags: ID3, genre_frames: list[id3raw.RawFrame] | None = None,
                    provenance_frames: list[id3raw.RawFrame] | None = None) -> list[id3raw.RawFrame]:
    """The tag's frames with the genre and provenance frames swapped for what ``tags`` holds now,
    or for ``genre_frames`` and ``provenance_frames`` as an undo recorded them."""
    major = tag.major
    genres = [text for frame in tags.getall("TCON") for text in frame.text]
    provenance = [str(t) for f in tags.getall(f"TXXX:{PROVENANCE_KEY}") for t in f.text]
    if genre_frames is None:
        genre_frames = [id3raw.text_frame(id3raw.GENRE_FRAME[major], major, genres)] if genres else []
    if provenance_frames is None:
        provenance_frames = ([id3raw.text_frame(id3raw.USER_TEXT_FRAME[major], major, provenance, PROVENANCE_KEY)]
                             if provenance else [])
    wanted = {"TCON": genre_frames, f"TXXX:{PROVENANCE_KEY}": provenance_frames}
    frames: list[id3raw.RawFrame] = []
    for frame in tag.frames:
        key = id3raw.frame_key(frame, major)
        if key in wanted:
            frames.extend(wanted.pop(key))  # in place of the first such frame, repeats dropped
        elif key not in WRITTEN_FRAMES:
            frames.append(frame)
    for new in wanted.values():
        frames.extend(new)
    return frames


def recorded_field(audio: Any, major: int) -> dict | None:
    """The genre field an undo puts back (``genre_field``), where the tag is still of the
    version it was recorded in; None otherwise."""
    field = getattr(audio, "genre_field", None)
    return field if field is not None and field["major"] == major else None


def recorded_frames(audio: Any, major: int, name: str) -> list[id3raw.RawFrame] | None:
    """The genre (``frames``) or provenance (``provenance_frames``) frames an undo puts back
    as recorded; None to build them from the values, also where an older version recorded none."""
    field = recorded_field(audio, major)
    if field is None or name not in field:
        return None
    return [id3raw.RawFrame(frame_id, flags, base64.b64decode(data)) for frame_id, flags, data in field[name]]


def recorded_body_size(audio: Any, major: int) -> int | None:
    """The size an undo gives the tag back (frames and padding), so that padding a write
    added goes again; None where nothing was recorded."""
    field = recorded_field(audio, major)
    return None if field is None else field.get("body_size")


def saved_version(tags: ID3) -> int:
    """The ID3v2 minor version a tag is saved in: its own, but at least 3."""
    major, minor = tags.version[:2]
    return minor if major == 2 and minor >= 3 else 3


def text_encoding(text: str, utf16: bool) -> int:
    """Latin-1 where it fits, else the Unicode encoding this ID3 version supports: an
    Encoding, which mutagen's types know only as the int it is."""
    try:
        text.encode("latin-1")
        return Encoding.LATIN1
    except UnicodeEncodeError:
        return Encoding.UTF16 if utf16 else Encoding.UTF8

"""Real audio files in every taggable format, made in the test with soundfile, PyAV and mutagen.

Each file gets display tags, a custom field and cover art, so a test can check that
writing genres leaves all of that alone.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import mutagen
import numpy as np
import soundfile as sf

from support.audio import tone
from support.id3 import id3v1

COVER = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
RATE = 44100


def audio_data(seconds: float = 2.0, rate: int = RATE) -> np.ndarray:
    return tone(seconds, rate, channels=2)


def encode_with_ffmpeg(path: Path, codec: str, sample_format: str = "fltp", bit_rate: int | None = None,
                       container_format: str | None = None) -> None:
    import av

    signal = audio_data()[:, 0]
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=RATE, layout="stereo")
        if bit_rate:
            stream.bit_rate = bit_rate
        for start in range(0, len(signal), 2048):
            chunk = np.stack([signal[start:start + 2048]] * 2)
            if sample_format.startswith("s16"):
                chunk = (chunk * 32767).astype(np.int16)
            if not sample_format.endswith("p"):  # packed: the channels interleaved in one plane
                chunk = chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format=sample_format, layout="stereo")
            frame.sample_rate, frame.pts = RATE, start  # without a pts, Ogg's muxer refuses the last packet
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def add_id3(path: Path, version: int, genre: str | None = "(17)Rock") -> None:
    from mutagen.id3 import (
        APIC,
        COMM,
        TALB,
        TCON,
        TDRC,
        TIT2,
        TPE1,
        TPE2,
        TRCK,
        TSOP,
        TXXX,
        TYER,
    )
    from mutagen.mp3 import MP3

    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags.add(TIT2(encoding=1, text="Ünïcode title"))
    tags.add(TPE1(encoding=1, text="Artist ★"))
    tags.add(TPE2(encoding=0, text="Album Artist"))
    tags.add(TALB(encoding=1, text="Album"))
    tags.add(TRCK(encoding=0, text="3/12"))
    tags.add(COMM(encoding=1, lang="eng", desc="", text="a comment"))
    tags.add(TXXX(encoding=1, desc="CUSTOM", text="kept"))
    # Off-spec in v2.3, but written by common taggers: it must survive a genre write.
    tags.add(TSOP(encoding=1, text="Artist, The"))
    tags.add(TYER(encoding=0, text="1999") if version == 3 else TDRC(encoding=3, text="1999-05-01"))
    if genre:
        tags.add(TCON(encoding=1, text=genre))
    tags.add(APIC(encoding=0, mime="image/png", type=3, desc="front", data=COVER))
    if isinstance(audio, MP3):
        tags.save(path, v2_version=version, v1=0)
    else:
        tags.save(path, v2_version=version)


def add_vorbis(path: Path) -> None:
    import base64

    from mutagen.flac import FLAC, Picture

    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    for key, value in [("TITLE", "Ünïcode title"), ("ARTIST", "Artist ★"), ("ALBUM", "Album"),
                       ("TRACKNUMBER", "3"), ("DATE", "1999"), ("GENRE", "Rock"), ("GENRE", "rock "),
                       ("COMMENT", "a comment"), ("CUSTOM", "kept")]:
        tags.append((key, value))
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", COVER
    if isinstance(audio, FLAC):
        audio.add_picture(picture)
    else:
        tags.append(("METADATA_BLOCK_PICTURE", base64.b64encode(picture.write()).decode("ascii")))
    audio.save()


def add_mp4(path: Path) -> None:
    from mutagen.mp4 import MP4Cover, MP4FreeForm

    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.update({
        "\xa9nam": ["Ünïcode title"], "\xa9ART": ["Artist ★"], "aART": ["Album Artist"], "\xa9alb": ["Album"],
        "trkn": [(3, 12)], "\xa9day": ["1999"], "\xa9gen": ["Rock", "ROCK"],
        "covr": [MP4Cover(COVER, MP4Cover.FORMAT_PNG)], "----:com.example:CUSTOM": [MP4FreeForm(b"kept")],
    })
    audio.save()


def add_apev2(path: Path) -> None:
    from mutagen.apev2 import APEv2

    tags = APEv2()
    tags.update({"Title": "Ünïcode title", "Artist": "Artist ★", "Album": "Album", "Track": "3",
                 "Year": "1999", "Genre": "17", "Custom": "kept"})
    from mutagen.apev2 import BINARY, APEValue

    tags["Cover Art (Front)"] = APEValue(b"cover.png\x00" + COVER, BINARY)
    tags.save(path)


def add_asf(path: Path) -> None:
    from mutagen.asf import ASFByteArrayAttribute

    audio = mutagen.File(path)
    audio.tags.update({"Title": ["Ünïcode title"], "Author": ["Artist ★"], "WM/AlbumTitle": ["Album"],
                       "WM/TrackNumber": ["3"], "WM/Year": ["1999"], "WM/Genre": ["Rock"], "Custom": ["kept"]})
    audio.tags["WM/Picture"] = [ASFByteArrayAttribute(b"\x03" + struct.pack("<I", len(COVER))
                                                      + "image/png\x00".encode("utf-16-le")
                                                      + "\x00".encode("utf-16-le") + COVER)]
    audio.save()


# The INFO chunk of the "wav-info" kind: items of odd and even size, the genre among them.
WAV_INFO = [(b"INAM", "Ünïcode title".encode() + b"\0"), (b"IART", b"Artist\0"), (b"IGNR", b"Rock\0"),
            (b"ISFT", b"Lavf61.7.100\0")]


def riff_item(item_id: bytes, data: bytes, pad: bytes = b"\0") -> bytes:
    """One RIFF chunk or INFO item: ID, little-endian size, data and, for odd data, ``pad``."""
    return item_id + len(data).to_bytes(4, "little") + data + (pad if len(data) & 1 else b"")


def add_riff_info(path: Path, items: list[tuple[bytes, bytes]], body: bytes | None = None) -> None:
    """Append a ``LIST/INFO`` chunk of ``items`` (or of ``body`` as given) to the WAV file at
    ``path``, and fix its RIFF size. Assembled here by hand: mutagen writes no INFO chunk."""
    if body is None:
        body = b"".join(riff_item(item_id, data) for item_id, data in items)
    with open(path, "r+b") as f:
        f.seek(0, 2)
        f.write(riff_item(b"LIST", b"INFO" + body))
        end = f.tell()
        f.seek(4)
        f.write((end - 8).to_bytes(4, "little"))


def riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level chunks of a WAV file's bytes, (ID, data), up to its RIFF size; parsed here
    by hand, independently of the code under test."""
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks, position = [], 12
    while position + 8 <= end:
        size = int.from_bytes(data[position + 4:position + 8], "little")
        chunks.append((data[position:position + 4], data[position + 8:position + 8 + size]))
        position += 8 + size + (size & 1)
    return chunks


def info_items(body: bytes) -> tuple[list[tuple[bytes, bytes]], int]:
    """The items of an INFO chunk's data (after its form type), and where the last one ends."""
    items, position = [], 0
    while position + 8 <= len(body):
        size = int.from_bytes(body[position + 4:position + 8], "little")
        items.append((body[position:position + 4], body[position + 8:position + 8 + size]))
        position += 8 + size + (size & 1)
    return items, position


def riff_info_items(path: Path) -> list[list[tuple[bytes, bytes]]]:
    """Each INFO chunk of the WAV file at ``path`` as its items: (ID, data)."""
    return [info_items(data[4:])[0] for chunk_id, data in riff_chunks(path.read_bytes())
            if chunk_id == b"LIST" and data[:4] == b"INFO"]


def assert_riff_layout(path: Path) -> None:
    """That the WAV file at ``path`` is laid out to the letter: its RIFF size is the file's, and
    its chunks and each INFO chunk's items, odd ones with their pad byte, fill them exactly."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8, "the RIFF size is not the file's"
    chunks = riff_chunks(data)
    assert 12 + sum(8 + len(d) + (len(d) & 1) for _, d in chunks) == len(data), "the chunks do not fill the file"
    for chunk_id, body in chunks:
        if chunk_id == b"LIST" and body[:4] == b"INFO":
            # The pad byte of a last item of odd size may be the chunk's own.
            assert info_items(body[4:])[1] - (len(body) - 4) in (0, len(body) & 1), "the INFO items do not fill it"


def make_dsf(folder: Path, tag: bytes, audio: bytes) -> Path:
    """``folder``/track.dsf: stereo DSD64 ``audio`` (both channels, in 4096-byte blocks)
    with ``tag`` at its end. mutagen reads DSF but no test library writes one."""
    per_channel = len(audio) // 2
    fmt = (b"fmt " + (52).to_bytes(8, "little") + b"".join(v.to_bytes(4, "little") for v in (1, 0, 2, 2, 2822400, 1))
           + (per_channel * 8).to_bytes(8, "little") + (4096).to_bytes(4, "little") + bytes(4))
    data = b"data" + (12 + len(audio)).to_bytes(8, "little") + audio
    offset = 28 + len(fmt) + len(data)
    head = (b"DSD " + (28).to_bytes(8, "little") + (offset + len(tag)).to_bytes(8, "little")
            + offset.to_bytes(8, "little"))
    path = folder / "track.dsf"
    path.write_bytes(head + fmt + data + tag)
    return path


def make(folder: Path, kind: str = "flac") -> Path:
    """One tagged file of ``kind`` (see KINDS) in ``folder``, which is made if need be."""
    folder.mkdir(parents=True, exist_ok=True)
    maker, suffix = KINDS[kind] if kind in KINDS else MORE_KINDS[kind]
    path = folder / f"{kind}{suffix}"
    maker(path)
    return path


def _sf(fmt: dict, tagger):
    def maker(path: Path) -> None:
        rate = 48000 if fmt.get("subtype") == "OPUS" else RATE
        sf.write(os.fsencode(path), audio_data(rate=rate), rate, **fmt)
        tagger(path)
    return maker


def _ffmpeg(codec: str, sample_format: str, tagger, bit_rate: int | None = None, container_format: str | None = None):
    def maker(path: Path) -> None:
        encode_with_ffmpeg(path, codec, sample_format, bit_rate, container_format)
        tagger(path)
    return maker


def _id3v1_only(path: Path) -> None:
    sf.write(os.fsencode(path), audio_data(), RATE)
    title, artist = b"v1 title".ljust(30, b"\0"), b"v1 artist".ljust(30, b"\0")
    album, comment = b"v1 album".ljust(30, b"\0"), b"comment".ljust(28, b"\0")
    tag = b"TAG" + title + artist + album + b"1998" + comment + b"\0\x05" + bytes([17])
    with open(path, "ab") as f:
        f.write(tag)


def _id3v22(path: Path) -> None:
    """mutagen cannot write ID3v2.2, so the tag is assembled by hand."""
    sf.write(os.fsencode(path), audio_data(), RATE)

    def frame(name: bytes, text: str) -> bytes:
        body = b"\x00" + text.encode("latin-1")
        return name + struct.pack(">I", len(body))[1:] + body

    frames = frame(b"TT2", "v2.2 title") + frame(b"TP1", "v2.2 artist") + frame(b"TCO", "(17)")
    size = len(frames)
    synchsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    data = path.read_bytes()
    path.write_bytes(b"ID3\x02\x00\x00" + synchsafe + frames + data)


KINDS = {
    "mp3-id3v24": (_sf({"format": "MP3"}, lambda p: add_id3(p, 4)), ".mp3"),
    "mp3-id3v23": (_sf({"format": "MP3"}, lambda p: add_id3(p, 3)), ".mp3"),
    "mp3-id3v22": (_id3v22, ".mp3"),
    "mp3-id3v1": (_id3v1_only, ".mp3"),
    "mp3-untagged": (_sf({"format": "MP3"}, lambda p: None), ".mp3"),
    "wav": (_sf({}, lambda p: add_id3(p, 3)), ".wav"),
    # FFmpeg 5.1 shows the INFO chunk's genre, IGNR, rather than the ID3 chunk's.
    "wav-info": (_sf({}, lambda p: (add_id3(p, 3), add_riff_info(p, WAV_INFO))), ".wav"),
    "aiff": (_sf({}, lambda p: add_id3(p, 4)), ".aiff"),
    "flac": (_sf({}, add_vorbis), ".flac"),
    "ogg-vorbis": (_sf({}, add_vorbis), ".ogg"),
    "opus": (_sf({"format": "OGG", "subtype": "OPUS"}, add_vorbis), ".opus"),
    "m4a-aac": (_ffmpeg("aac", "fltp", add_mp4), ".m4a"),
    "m4a-alac": (_ffmpeg("alac", "s16p", add_mp4), ".m4a"),
    "wma": (_ffmpeg("wmav2", "fltp", add_asf, bit_rate=128000), ".wma"),
    "wavpack": (_ffmpeg("wavpack", "fltp", add_apev2), ".wv"),
}


def _monkeys_audio(path: Path) -> None:
    """Monkey's Audio 3.99 with one frame that its flags mark as stereo silence, which decoders
    output as zeros without decoding it: nothing here encodes Monkey's Audio."""
    blocks = 2 * RATE
    frame = struct.pack("<II", 0x80000000, 3) + bytes(8)  # a CRC whose top bit says flags follow; the flags
    descriptor_size, header_size, seek_table_size = 52, 24, 4
    descriptor = (b"MAC " + struct.pack("<HH", 3990, 0)
                  + struct.pack("<7I", descriptor_size, header_size, seek_table_size, 0, len(frame), 0, 0) + bytes(16))
    # normal compression; "make the WAV header" flag; blocks per frame; final frame's blocks; one frame;
    # 16 bits, 2 channels
    header = struct.pack("<HHIIIHHI", 2000, 0x20, 73728 * 4, blocks, 1, 16, 2, RATE)
    seek_table = struct.pack("<I", descriptor_size + header_size + seek_table_size)
    path.write_bytes(descriptor + header + seek_table + frame)


def _dsf(path: Path) -> None:
    """DSD64 noise long enough for the write's audio probe (see test_probe.long_dsf), tagged with ID3v2.4."""
    per_channel = 4096 * 108  # 1.25 s
    noise = np.random.default_rng(1).integers(0, 256, 2 * per_channel, dtype=np.uint8).tobytes()
    made = make_dsf(path.parent, b"", noise)
    made.rename(path)
    add_id3(path, 4)


def _riff_info(path: Path, genre: str | None) -> None:
    """A WAV with a LIST/INFO chunk as libsndfile writes it, before the audio (title, artist and,
    given one, IGNR), and an id3 chunk after the audio: FFmpeg 5.1 reads INFO and not the id3 chunk."""
    with sf.SoundFile(os.fsencode(path), "w", RATE, 2) as f:
        f.title, f.artist = "Info title", "Info artist"
        if genre:
            f.genre = genre
        f.write(audio_data())
    add_id3(path, 3)


def _with_id3v1(maker):
    """``maker``'s file with an ID3v1 tag after everything, its genre byte 17 (Rock)."""
    def make_with_id3v1(path: Path) -> None:
        maker(path)
        with open(path, "ab") as f:
            f.write(id3v1(b"v1 title", b"v1 artist", b"v1 album", b"v1 comment", 17))
    return make_with_id3v1


def _tagged(make_audio, tagger):
    def maker(path: Path) -> None:
        make_audio(path)
        tagger(path)
    return maker


def _id3_only(path: Path) -> None:
    """ID3v2.4 alone, the tag Genre Tagger writes in True Audio: FFmpeg's muxer adds an APEv2 tag
    (its encoder's name), which FFmpeg shows in preference to ID3v2 (docs/formats.md)."""
    from mutagen.apev2 import delete

    delete(path)
    add_id3(path, 4)


_TRUE_AUDIO = _ffmpeg("tta", "s16p", _id3_only)
_MONKEYS_AUDIO = _tagged(_monkeys_audio, add_apev2)

# Formats and tag layouts beyond KINDS, for the reader test (tests/tags/test_readers.py): kept out
# of KINDS so that what every kind must pass there (fuzz seeds, cleanup round trips) is unchanged.
MORE_KINDS = {
    "mp3-id3v24-id3v1": (_with_id3v1(KINDS["mp3-id3v24"][0]), ".mp3"),
    "wav-sndfile-info": (lambda p: _riff_info(p, "Rock"), ".wav"),
    "wav-sndfile-info-no-genre": (lambda p: _riff_info(p, None), ".wav"),
    "dsf": (_dsf, ".dsf"),
    "true-audio": (_TRUE_AUDIO, ".tta"),
    "true-audio-id3v1": (_with_id3v1(_TRUE_AUDIO), ".tta"),
    "ogg-flac": (_ffmpeg("flac", "s16", add_vorbis, container_format="ogg"), ".oga"),
    "wavpack-id3v1": (_with_id3v1(KINDS["wavpack"][0]), ".wv"),
    "monkeys-audio": (_MONKEYS_AUDIO, ".ape"),
    "monkeys-audio-id3v1": (_with_id3v1(_MONKEYS_AUDIO), ".ape"),
}


def decoded_audio(path: Path) -> np.ndarray:
    """Every sample of the file, for checking that a write left the audio alone."""
    from tagger.audio.decode import open_audio

    reader = open_audio(path)
    try:
        return reader.read(0.0, reader.info.duration_s + 1.0)
    finally:
        reader.close()


def raw_id3_frames(path: Path, skip_genre: bool = False) -> list[tuple[str, int, bytes]]:
    """The frames of the ID3v2 tag at the start of ``path``: (ID, flags, bytes as stored)."""
    data = path.read_bytes()
    assert data[:3] == b"ID3", path
    return id3_frames_of(data, skip_genre)


def id3_frames_of(data: bytes, skip_genre: bool = False) -> list[tuple[str, int, bytes]]:
    """The frames of the ID3v2 tag at the start of ``data``.

    Parsed here by hand, independently of the code under test, for byte comparisons.
    """
    major, flags = data[3], data[5]
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    body = data[10:10 + size]
    if major < 4 and flags & 0x80:
        body = body.replace(b"\xff\x00", b"\xff")
    if flags & 0x40 and major in (3, 4):  # the extended header
        extended = (int.from_bytes(body[:4], "big") + 4 if major == 3
                    else (body[0] << 21) | (body[1] << 14) | (body[2] << 7) | body[3])
        body = body[extended:]
    frames, position = [], 0
    header_size = 6 if major == 2 else 10
    while position + header_size <= len(body) and body[position] != 0:
        if major == 2:
            frame_id, length, frame_flags = body[position:position + 3].decode("latin-1"), int.from_bytes(
                body[position + 3:position + 6], "big"), 0
        else:
            raw = body[position + 4:position + 8]
            length = (int.from_bytes(raw, "big") if major == 3
                      else (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3])
            frame_id = body[position:position + 4].decode("latin-1")
            frame_flags = int.from_bytes(body[position + 8:position + 10], "big")
        data_start = position + header_size
        frames.append((frame_id, frame_flags, body[data_start:data_start + length]))
        position = data_start + length
    if skip_genre:
        frames = [f for f in frames if f[0] not in ("TCON", "TCO")
                  and not (f[0] in ("TXXX", "TXX") and b"GENRE_TAGGER" in f[2].replace(b"\0", b""))]
    return frames


def chunked_id3(data: bytes) -> bytes | None:
    """The ID3 tag inside a WAV or AIFF chunk, or at a DSF file's metadata pointer."""
    if data[:4] == b"DSD ":
        offset = int.from_bytes(data[20:28], "little")
        return data[offset:] if 0 < offset < len(data) else None
    order = {b"RIFF": "little", b"FORM": "big"}.get(data[:4])
    if order is None:
        return None
    end = min(len(data), 8 + int.from_bytes(data[4:8], order))  # readers ignore what lies past it
    position = 12
    while position + 8 <= end:
        size = int.from_bytes(data[position + 4:position + 8], order)
        if data[position:position + 4].lower() == b"id3 ":
            return data[position + 8:position + 8 + size]
        position += 8 + size + (size & 1)
    return None


def raw_tags(path: Path) -> dict:
    """Every tag item but the genre and the provenance field, as raw as can be read.

    ID3v2 frames as stored and the ID3v1 block (less its genre byte) are parsed here by
    hand; APEv2 items, Vorbis fields and FLAC blocks, MP4 atoms and ASF attributes come
    from mutagen as bytes or typed values. Used to check that a write changed nothing else.
    """
    data = path.read_bytes()
    result: dict = {}
    id3 = data if data[:3] == b"ID3" else chunked_id3(data)
    if id3 and id3[:3] == b"ID3" and (frames := id3_frames_of(id3, skip_genre=True)):
        result["id3v2"] = sorted(frames)
    if data[-128:-125] == b"TAG" and data[-133:-125] != b"APETAGEX":
        result["id3v1"] = data[-128:-1]
    audio = mutagen.File(path)
    tags = getattr(audio, "tags", None)
    from mutagen.apev2 import APEv2
    from mutagen.apev2 import error as APEError
    from mutagen.asf import ASFTags
    from mutagen.mp4 import MP4Tags

    try:
        ape = APEv2(path)
        result["apev2"] = sorted((k.lower(), v.kind, v.value) for k, v in ape.items()
                                 if k.lower() not in ("genre", "genre tagger"))
    except APEError:
        pass
    if isinstance(tags, MP4Tags):
        result["mp4"] = mp4_atoms(path)
    elif isinstance(tags, ASFTags):
        result["asf"] = sorted((k, type(v).__name__, repr(v.value)) for k, values in tags.items() for v in values
                               if k not in ("WM/Genre", "GenreTagger/Provenance"))
    elif hasattr(tags, "vendor"):  # Vorbis comments
        result["vorbis"] = (tags.vendor, sorted((k.lower(), v) for k, v in tags
                                                if k.lower() not in ("genre", "genre_tagger")))
    if hasattr(audio, "metadata_blocks"):
        result["flac"] = [(b.code, b.write()) for b in audio.metadata_blocks if b.code not in (1, 4)]
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        result["riff_info"] = [[item for item in items if item[0] != b"IGNR"] for items in riff_info_items(path)]
    # A tag that held only a genre and now holds another is no change to the rest.
    return {kind: items for kind, items in result.items() if items not in ([], ("", []))}


def mp4_atoms(path: Path) -> list[tuple[bytes, bytes]]:
    """The raw bytes of every ilst atom but the genre atoms and the provenance atom."""
    from mutagen.mp4 import Atoms

    with open(path, "rb") as f:
        atoms = Atoms(f)
        try:
            ilst = atoms.path(b"moov", b"udta", b"meta", b"ilst")[-1]
        except KeyError:
            return []
        kept = []
        for child in ilst.children or []:
            f.seek(child.offset)
            raw = f.read(child.length)
            if child.name in (b"\xa9gen", b"gnre") or (child.name == b"----" and b"GENRE_TAGGER" in raw):
                continue
            kept.append((child.name, raw))
    return sorted(kept)


GENRE_FIELDS = {"tcon", "genre", "\xa9gen", "gnre", "wm/genre", "txxx:genre_tagger", "genre_tagger",
                "----:org.genretagger:genre_tagger", "genretagger/provenance", "genre tagger"}


def other_tags(path: Path) -> list:
    """Every tag but the genre and the provenance field, in a comparable form."""
    audio = mutagen.File(path)
    from mutagen.id3 import ID3

    if isinstance(audio.tags, ID3):
        tags = type(audio)(os.fspath(path), translate=False).tags
        # mutagen drops empty text frames when it saves: they hold nothing to lose.
        items = [(key, repr(frame)) for key, frame in tags.items() if not (hasattr(frame, "text") and not str(frame))]
    elif audio.tags is None:
        items = []
    else:
        items = [(key, repr(value)) for key, value in audio.tags.items()]
    kept = sorted((k, v) for k, v in items if k.lower() not in GENRE_FIELDS)
    pictures = [(p.type, p.mime, p.data) for p in getattr(audio, "pictures", [])]
    return [kept, pictures]

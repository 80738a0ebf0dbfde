"""Reading and changing genre tags, one module per tag system behind ``TagFormat``."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from tagger.files.regular import irregular_file
from tagger.tags.apev2 import APEv2Format
from tagger.tags.asf import ASFFormat
from tagger.tags.base import (
    DEFAULT_SEPARATOR,
    MULTI_VALUE_NOTES,
    BrokenFile,
    MultiValue,
    TagError,
    TagFormat,
    TagSnapshot,
    UnsupportedFile,
    WriteMode,
    WriteOptions,
    dedupe,
    merged,
)
from tagger.tags.id3 import ID3Format
from tagger.tags.mp4 import MP4Format
from tagger.tags.vorbis import VorbisFormat

__all__ = [
    "DEFAULT_SEPARATOR", "BrokenFile", "MultiValue", "TagError", "TagFormat", "TagSnapshot", "UnsupportedFile",
    "MULTI_VALUE_NOTES", "WriteMode", "WriteOptions",
    "dedupe", "merged", "open_tags", "read_tags", "tags_or_problem",
]

FORMATS: tuple[TagFormat, ...] = (ID3Format(), VorbisFormat(), MP4Format(), APEv2Format(), ASFFormat())


@functools.cache
def detectable_types() -> tuple[type, ...]:
    """The file types ``mutagen.File`` chooses from by default, in its order, with those that
    hold ID3 tags loading them untranslated (in the version the file has, as ID3Format reads
    and writes them): so a file is parsed once, not once to detect it and again to read it.
    Each keeps its class name, which breaks ties between equal scores."""
    import importlib

    import mutagen.id3

    id3_kinds = (mutagen.id3.ID3FileType, *ID3Format.file_types)

    def untranslated(kind: type[mutagen.FileType]) -> type:
        def load(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("translate", False)
            kind.load(self, *args, **kwargs)

        return type(kind.__name__, (kind,), {"load": load, "__module__": kind.__module__})

    # mutagen.File's default list (mutagen 1.47, mutagen/_file.py).
    names = ("mp3.MP3 trueaudio.TrueAudio oggtheora.OggTheora oggspeex.OggSpeex oggvorbis.OggVorbis "
             "oggflac.OggFLAC flac.FLAC aiff.AIFF apev2.APEv2File mp4.MP4 id3.ID3FileType wavpack.WavPack "
             "musepack.Musepack monkeysaudio.MonkeysAudio optimfrog.OptimFROG asf.ASF oggopus.OggOpus aac.AAC "
             "ac3.AC3 smf.SMF tak.TAK dsf.DSF dsdiff.DSDIFF wave.WAVE").split()
    kinds = []
    for name in names:
        module, cls = name.rsplit(".", 1)
        kind = getattr(importlib.import_module(f"mutagen.{module}"), cls)
        kinds.append(untranslated(kind) if issubclass(kind, id3_kinds) else kind)
    return tuple(kinds)


def open_tags(path: str | os.PathLike[str]) -> tuple[TagFormat, Any]:
    """The format module for ``path`` and the file loaded by it.

    Raises UnsupportedFile for what mutagen does not know or Genre Tagger cannot
    tag, BrokenFile for a file whose tags or headers do not parse cleanly, and
    TagError for what is not there, not readable or not a regular file: a path from the
    journal is checked here too, before mutagen opens it.
    """
    import mutagen

    path = os.fspath(path)
    if not os.path.lexists(path):
        raise TagError("no such file")
    if problem := irregular_file(path):
        raise TagError(problem)
    if not os.access(path, os.R_OK):
        raise TagError("permission denied")
    try:
        detected = mutagen.File(path, options=detectable_types())
        if detected is None:
            raise UnsupportedFile("not a format whose tags can be written (mutagen does not recognise it)")
        tag_format = next((f for f in FORMATS if isinstance(detected, f.file_types)), None)
        if tag_format is None:
            raise UnsupportedFile(f"{type(detected).__name__} files have no genre tag that can be written")
        return tag_format, tag_format.adopt(detected)
    except TagError:
        raise
    except PermissionError:
        raise TagError("permission denied") from None
    except FileNotFoundError:
        raise TagError("no such file") from None
    except Exception as e:  # mutagen raises many types, often bare ones, on damaged files
        raise BrokenFile(f"the file does not parse cleanly ({type(e).__name__}: {e}); it is left untouched") from None


def read_tags(path: str | os.PathLike[str], separator: str = DEFAULT_SEPARATOR) -> TagSnapshot:
    tag_format, audio = open_tags(path)
    return tag_format.read(audio, separator)


def tags_or_problem(path: Path, separator: str = DEFAULT_SEPARATOR) -> tuple[TagSnapshot | None, str | None]:
    """The file's tags, or None and why they could not be read: for work that goes on
    past a file whose tags are damaged."""
    try:
        return read_tags(path, separator), None
    except TagError as e:
        return None, str(e)
    except Exception as e:  # a tag reader's unforeseen failure costs one file, not the run
        return None, f"the tags could not be read ({type(e).__name__}: {e})"

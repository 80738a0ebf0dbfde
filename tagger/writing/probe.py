"""The audio probe: a few decoded seconds (or an MP3's audio bytes) taken before and after
every write, so that a tag library that misplaces audio data is caught before the swap."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.audio.decode import MPEG_SUFFIXES, mpeg_audio_span, open_audio

# Decoded before and after every write: a tag library that misplaces audio data
# (seen with unusual MP4 atoms and RIFF layouts) is caught before the swap.
# (where the span starts, as a share of the places it can start; seconds): the first two
# seconds, one from the middle and the last, where a chunk written after the audio can
# derail a decoder (seen with MP3 in WAV).
PROBE_SPANS_S = ((0.0, 2.0), (0.5, 1.0), (1.0, 1.0))


@dataclass(frozen=True)
class AudioProbe:
    """A few seconds of a file's decoded audio (or an MP3's audio bytes), to show a write left the audio alone."""

    samples: np.ndarray | bytes  # decoded spans, or a digest of an MP3's audio bytes
    duration_s: float  # the decoder's idea of the length, which placed the spans
    path: Path | None = None  # the file decoded, to decode again where two probes differ


def audio_probe(path: Path, duration_s: float | None = None) -> AudioProbe | None:
    """A few decoded seconds from the start, the middle and the end, or None if they do not decode.

    ``duration_s`` places the spans as in a file of that length: a copy is probed where
    its original was, even where a decoder estimates the length from the file's size
    (FFmpeg's DSF reader does). MPEG audio is compared as bytes instead: decoders start
    and end an MP3 differently when a tag appears in front of it, although not a byte changed.

    Each span is decoded by a reader of its own, opened for it: a reader that has read
    before may reach the next span by decoding forward rather than seeking (SoundfileReader
    does where a seek took longer than a read, which a busy machine decides by chance),
    and an Opus decoder that decoded its way to a span holds other state than one that
    seeked there, so its samples differ. A fresh reader's seek depends on the span's
    position alone; libsndfile and FFmpeg also find the same page in a copy whose tags
    grew, since they seek by granule position.
    """
    if path.suffix.lower() in MPEG_SUFFIXES:
        return AudioProbe(mpeg_audio_bytes(path), 0.0, path)
    spans = []
    try:
        for where, seconds in PROBE_SPANS_S:
            reader = open_audio(path)
            try:
                if duration_s is None:
                    duration_s = reader.info.duration_s
                spans.append(reader.read(where * max(0.0, duration_s - seconds), seconds))
            finally:
                reader.close()
    except Exception:  # AudioError, or a decoder's own failure: either way nothing to compare
        return None
    if duration_s is None:  # no span to place: PROBE_SPANS_S is empty
        return None
    return AudioProbe(np.concatenate(spans), duration_s, path)


def mpeg_audio_bytes(path: Path) -> bytes:
    """A digest of an MP3's bytes between its ID3v2 tag(s) and its ID3v1/APEv2 tags."""
    start, end = mpeg_audio_span(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(start)
        remaining = end - start
        while remaining and (chunk := f.read(min(remaining, 1 << 20))):
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.digest()


def same_audio(before: AudioProbe, after: AudioProbe | None) -> bool:
    """Whether two probes hold the same audio; where they differ, both files are decoded
    again and those two probes decide. A false refusal costs the person a write or an
    undo, so a decoder that did not give the same samples twice is given a second chance."""
    if same_probe(before, after):
        return True
    if after is None or before.path is None or after.path is None:
        return False
    return same_probe(audio_probe(before.path, before.duration_s), audio_probe(after.path, after.duration_s))


def same_probe(before: AudioProbe | None, after: AudioProbe | None) -> bool:
    if before is None or after is None or type(before.samples) is not type(after.samples):
        return False
    if isinstance(before.samples, bytes):
        return before.samples == after.samples
    return np.array_equal(before.samples, after.samples)

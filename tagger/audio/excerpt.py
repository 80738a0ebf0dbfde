"""Which parts of a track to analyse, and their decoded audio at the model's rate.

A track is cut into the model's patch grid: patch ``i`` holds spectrogram frames
``[i * P, (i + 1) * P)`` of the whole track, frames centred every ``hop`` samples.
The fast depth picks a few patches spread over the body of the track, the full depth
takes every patch, and the adaptive depth starts with a few patches spread over the
body and takes more, in ``patch_order``, while the genre is unsettled
(``tagger.analysis.adaptive``). Each picked run of patches is decoded on its own, with the
context its first and last frames need, so a patch is the same whichever depth asked
for it, and a deeper analysis can add patches to a shallower one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

import numpy as np
import soxr

from tagger.audio.decode import AudioReader
from tagger.audio.features import FrontEnd
from tagger.text import TextEnum


class Depth(TextEnum):
    """How much of a track is heard: a fast excerpt, adaptive rounds until settled, or all of it."""

    FAST = "fast"
    ADAPTIVE = "adaptive"
    FULL = "full"


# Intros and outros (fades, spoken intros, applause) say little about the genre.
BODY_START, BODY_END = 0.1, 0.9
# Decoded around each region so the resampler's filter has settled at its edges.
RESAMPLE_MARGIN_S = 0.1
# Regions are decoded and run through the models this many patches at a time, so
# memory stays flat however long the track is: onnxruntime's arena grows to the
# largest batch it has seen (20-patch batches took full-depth analysis to 3.2 GB).
PATCHES_PER_REGION = 8


@dataclass(frozen=True)
class Region:
    """A run of consecutive patches and the audio that covers them."""

    first_patch: int
    n_patches: int
    audio: np.ndarray  # mono float32 at the front end's rate, framed for center=False


@dataclass(frozen=True)
class Excerpt:
    """The planned patches of a track; ``regions`` decodes them one run at a time, lazily,
    so only one run's audio is in memory however long the track is. Iterate it while
    the reader is open."""

    duration_s: float
    total_patches: int
    patches: list[int]  # the patches planned first, in the order they are decoded
    regions: Iterator[Region]
    repeat_padded: bool


def patch_count(duration_s: float, front_end: FrontEnd) -> int:
    n_samples = int(duration_s * front_end.sample_rate)
    n_frames = 1 + n_samples // front_end.hop_length
    return n_frames // front_end.patch_frames


def body(total_patches: int) -> tuple[int, int]:
    """The first and last patch of the track's body, between intro and outro."""
    first = int(total_patches * BODY_START)
    return first, max(first, int(np.ceil(total_patches * BODY_END)) - 1)


def plan_patches(total_patches: int, depth: Depth, fast_patches: int, adaptive_first: int = 0) -> list[int]:
    """Patch indices to analyse first: all of them, ``fast_patches`` spread over the
    body, or the first ``adaptive_first`` of ``patch_order``."""
    if depth is Depth.FULL or total_patches <= fast_patches and depth is Depth.FAST:
        return list(range(total_patches))
    if depth is Depth.ADAPTIVE:
        return patch_order(total_patches, adaptive_first)[:adaptive_first]
    first, last = body(total_patches)
    # Evenly spaced centres of equal slices of the body, never its very edges.
    slots = (np.arange(fast_patches) + 0.5) / fast_patches
    picks = np.unique(np.round(first + slots * (last - first)).astype(int))
    return picks.tolist()


def patch_order(total_patches: int, first: int) -> list[int]:
    """Every patch of the track, in the order the adaptive depth takes them: first the
    centres of ``first`` equal slices of the track (all inside its body for first >= 3),
    then, level by level, the points halfway between those of the grid so far. Each
    complete level is an evenly spaced sample of the whole track, so wherever the depth
    stops its patches stand for all of it, intro and outro included, as full depth's
    do; a track only reaches its edges when its genre is still open after the body."""
    last = total_patches - 1
    order: list[int] = []
    seen: set[int] = set()
    slots = 2 * max(1, first)
    numerators = range(1, slots, 2)
    while len(order) < total_patches and slots <= 4 * total_patches:
        for numerator in numerators:
            index = int(numerator / slots * last + 0.5)
            if index not in seen:
                seen.add(index)
                order.append(index)
        slots *= 2
        numerators = range(1, slots, 2)
    return order + [i for i in range(total_patches) if i not in seen]


def group_runs(patches: list[int], max_run: int) -> list[tuple[int, int]]:
    """(first, count) for each run of consecutive indices, split at ``max_run``."""
    runs: list[tuple[int, int]] = []
    for index in patches:
        if runs and runs[-1][0] + runs[-1][1] == index and runs[-1][1] < max_run:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((index, 1))
    return runs


def read_excerpt(reader: AudioReader, front_end: FrontEnd, depth: Depth, fast_patches: int,
                 adaptive_first: int = 0, known: Collection[int] = ()) -> Excerpt:
    """The track's first round of patches, less those ``known`` from an earlier analysis."""
    info = reader.info
    total = patch_count(info.duration_s, front_end)
    if total == 0:
        regions = iter([] if 0 in known else [short_track_region(reader, front_end)])
        return Excerpt(info.duration_s, 1, [] if 0 in known else [0], regions, repeat_padded=True)
    patches = [i for i in plan_patches(total, depth, fast_patches, adaptive_first) if i not in known]
    return Excerpt(info.duration_s, total, patches, read_patches(reader, front_end, patches), repeat_padded=False)


def read_patches(reader: AudioReader, front_end: FrontEnd, patches: list[int]) -> Iterator[Region]:
    """The regions that hold ``patches``, decoded lazily in time order: decoders seek
    forwards far more cheaply than back."""
    for first, count in group_runs(sorted(patches), PATCHES_PER_REGION):
        yield read_region(reader, front_end, first, count)


def region_samples(front_end: FrontEnd, n_patches: int) -> int:
    """Samples that ``n_patches`` patches of uncentred frames need."""
    return (n_patches * front_end.patch_frames - 1) * front_end.hop_length + front_end.n_fft


def read_region(reader: AudioReader, front_end: FrontEnd, first_patch: int, n_patches: int) -> Region:
    rate = front_end.sample_rate
    # Centred frame k covers samples [k*hop - n_fft/2, k*hop + n_fft/2).
    start = first_patch * front_end.patch_frames * front_end.hop_length - front_end.n_fft // 2
    length = region_samples(front_end, n_patches)
    audio = read_resampled(reader, rate, start / rate, length / rate)
    return Region(first_patch, n_patches, fit_length(audio, length))


def read_resampled(reader: AudioReader, rate: int, start_s: float, length_s: float) -> np.ndarray:
    """Audio from ``start_s`` at ``rate``; the time before 0 s or after the end is silent."""
    native = reader.info.sample_rate
    lead_silence_s = max(0.0, -start_s)
    read_from = max(0.0, start_s - RESAMPLE_MARGIN_S)
    margin_s = max(0.0, start_s) - read_from
    span = reader.read(read_from, margin_s + length_s - lead_silence_s + RESAMPLE_MARGIN_S)
    audio = resample(span, native, rate)
    audio = audio[int(round(margin_s * rate)):]
    if lead_silence_s:
        audio = np.concatenate([np.zeros(int(round(lead_silence_s * rate)), np.float32), audio])
    return audio


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate or len(audio) == 0:
        return audio.astype(np.float32, copy=False)
    return soxr.resample(audio, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    if len(audio) >= length:
        return audio[:length]
    return np.concatenate([audio, np.zeros(length - len(audio), np.float32)])


def short_track_region(reader: AudioReader, front_end: FrontEnd) -> Region:
    """A track shorter than one patch, repeated until it fills one (musicnn's repeat-pad)."""
    rate = front_end.sample_rate
    audio = resample(reader.read(0.0, reader.info.duration_s), reader.info.sample_rate, rate)
    length = region_samples(front_end, 1)
    if len(audio) == 0:
        return Region(0, 1, np.zeros(length, np.float32))
    # Centred framing puts half a window of silence before the first frame.
    half = front_end.n_fft // 2
    body = np.tile(audio, int(np.ceil((length - half) / len(audio))))
    return Region(0, 1, fit_length(np.concatenate([np.zeros(half, np.float32), body]), length))

import numpy as np

from tagger.audio.decode import open_audio
from tagger.audio.excerpt import (
    Depth,
    group_runs,
    patch_count,
    plan_patches,
    read_excerpt,
)
from tagger.audio.features import FrontEnd, LogMel

FE = FrontEnd()


def test_fast_plan_skips_intro_and_outro():
    picks = plan_patches(100, Depth.FAST, 6)
    assert len(picks) == 6 and picks == sorted(picks)
    assert picks[0] >= 10 and picks[-1] < 90


def test_full_plan_and_short_tracks_take_every_patch():
    assert plan_patches(40, Depth.FULL, 6) == list(range(40))
    assert plan_patches(4, Depth.FAST, 6) == [0, 1, 2, 3]


def test_runs_are_split_for_bounded_memory():
    assert group_runs([0, 1, 2, 5, 6, 9], 2) == [(0, 2), (2, 1), (5, 2), (9, 1)]


def test_patch_count_drops_trailing_partial_patch():
    assert patch_count(2.9, FE) == 0
    assert patch_count(6.1, FE) == 2


def test_fast_patches_equal_full_patches_at_same_positions(make_audio):
    path = make_audio("song.flac", seconds=40.0, rate=44100)
    log_mel = LogMel(FE)
    reader = open_audio(path)
    try:
        fast = read_excerpt(reader, FE, Depth.FAST, 3)
        fast_regions = list(fast.regions)
        full = read_excerpt(reader, FE, Depth.FULL, 3)
        full_patches = np.concatenate([log_mel.patches(r.audio, r.n_patches) for r in full.regions])
    finally:
        reader.close()
    assert len(full_patches) == full.total_patches == 13
    for region in fast_regions:
        ours = log_mel.patches(region.audio, region.n_patches)
        theirs = full_patches[region.first_patch: region.first_patch + region.n_patches]
        # Only the resampler's edges differ, a tiny fraction of a dB.
        assert np.abs(ours - theirs).mean() < 1e-3


def test_short_clip_is_repeat_padded_to_one_patch(make_audio):
    path = make_audio("blip.wav", seconds=0.5, rate=22050, channels=1)
    reader = open_audio(path)
    try:
        excerpt = read_excerpt(reader, FE, Depth.FAST, 6)
        (region,) = excerpt.regions
    finally:
        reader.close()
    assert excerpt.repeat_padded and excerpt.total_patches == 1
    patch = LogMel(FE).patches(region.audio, 1)[0]
    # Repeated, the half-second clip fills the whole patch, not just its start.
    assert patch[-20:].mean() > 0.5 * patch[20:40].mean() > 0


def test_hour_long_track_reads_only_what_it_needs(make_audio):
    rate = 8000
    # An hour of 8 kHz mono; only the fast patches' spans get decoded.
    path = make_audio("long.wav", data=np.zeros((3600 * rate, 1), np.float32) + 0.1, rate=rate)
    reader = open_audio(path)
    try:
        excerpt = read_excerpt(reader, FE, Depth.FAST, 6)
        regions = list(excerpt.regions)
    finally:
        reader.close()
    assert excerpt.total_patches == 1203
    assert sum(r.n_patches for r in regions) == 6
    assert all(len(r.audio) < 4 * FE.sample_rate for r in regions)

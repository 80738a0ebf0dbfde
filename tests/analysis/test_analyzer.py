import numpy as np
import pytest
from support.audio import tone
from support.paths import SHARED_MUSIC

from tagger.audio.excerpt import Depth
from tagger.resources import samples_dir

DEMO = sorted(p for p in samples_dir().iterdir() if p.suffix in {".ogg", ".mp3", ".opus"})


def test_demo_samples_are_bundled():
    assert len(DEMO) == 3
    assert (samples_dir() / "ATTRIBUTION.md").is_file()


@pytest.mark.parametrize("path", DEMO, ids=lambda p: p.name)
def test_real_music_gets_ranked_calibrated_genres(analyzer, path):
    analysis = analyzer.analyse(path)
    assert analysis.music_detected
    confidences = [g.confidence for g in analysis.genres]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert len({g.genre for g in analysis.genres}) == len(analysis.genres)
    assert all(g.family for g in analysis.genres)
    assert analysis.descriptors and analysis.descriptors[0].kind
    assert analysis.duration_s == pytest.approx(20.0, abs=0.1)
    assert set(analysis.embeddings) == {"MSD_musicnn", "MTT_musicnn"}
    assert all(e.shape == (200,) and np.all(np.isfinite(e)) for e in analysis.embeddings.values())
    assert [m.name for m in analysis.models] == ["MSD_musicnn", "MTT_musicnn"]
    assert analysis.timings.inference_s > 0 and analysis.provider == "CPUExecutionProvider"


# Golden genres of the demo samples: the top 3 of each, with their confidences, at the
# default (fast) depth. Recorded from this commit's output (onnxruntime 1.32, numpy 2.4,
# identical over three runs) so that a change to the calibration, the taxonomy, the
# front end or the models shows here; a deliberate change records new values here, in
# the same commit.
#
# Recorded with the fp32 models, whose outputs do not depend on the CPU: given the same
# patches, an AVX2-only AMD EPYC and an AVX-512 Xeon gave bit-identical probabilities.
# The int8 models do depend on it: where the CPU lacks int8 dot-product instructions,
# onnxruntime's int8 convolutions saturate (see tests/analysis/test_models.py) and moved
# these confidences by up to 0.116, against at most 0.011 with AVX-512 VNNI. So
# --precision auto runs int8 only where the CPU has those instructions and a check
# finds int8 faithful (tagger/analysis/precision.py), and what it picks is held to
# these fp32 goldens with one tolerance on every CPU.
#
# Issue 10 (MTT's `indian` a descriptor, the reference floor at 0.04 and a reference
# set of 401 tracks) moved them from Indian 0.623 / Experimental 0.172 / Indian 0.589.
GOLDEN_GENRES = {
    "domina-hunting.opus": [("Jazz", 0.233), ("Progressive Rock", 0.183), ("Alternative", 0.164)],
    "mccracken-awakening.ogg": [("Ambient", 0.207), ("Experimental", 0.187), ("Jazz", 0.147)],
    "savino-caribbean.mp3": [("Jazz", 0.343), ("Folk", 0.249), ("Chillout", 0.119)],
}
# A genre near the prior (0.1) carries no evidence, and the order of such genres is
# noise (savino's Chillout leads Classical by 0.001): a golden genre below this is
# checked by its confidence, not by its rank.
RANKED_ABOVE = 0.15
# 0.02 leaves room for another decoder version's rounding; raising every reference
# level in calibration.json by 10% fails one sample, by 25% all three (levels under
# the reference floor are clipped to it, so a uniform shift moves fewer of them).
FP32_TOLERANCE = 0.02
# What --precision auto picks against the fp32 goldens: fp32's own 0.02, plus what
# faithful int8 moved them by at full depth (0.011 with AVX-512 VNNI earlier; 0.0093 on an
# AMD EPYC with it, onnxruntime 1.32). int8 without VNNI (0.116) fails it.
AUTO_TOLERANCE = 0.03


@pytest.fixture(scope="module")
def fp32_analyzer():
    from tagger.analysis.analyzer import Analyzer

    return Analyzer(device="cpu", precision="fp32")


def test_golden_genres_cover_every_demo_sample():
    assert sorted(GOLDEN_GENRES) == [p.name for p in DEMO]


@pytest.mark.parametrize("path", DEMO, ids=lambda p: p.name)
def test_demo_samples_get_their_golden_genres(fp32_analyzer, path):
    golden = GOLDEN_GENRES[path.name]
    genres = fp32_analyzer.analyse(path, Depth.FULL).genres  # the goldens are every patch's mean
    ranked = {genre for genre, confidence in golden if confidence >= RANKED_ABOVE}
    assert genres[0].genre == golden[0][0]
    assert ranked == {g.genre for g in genres[: len(ranked)]}
    confidences = {g.genre: g.confidence for g in genres}
    for genre, confidence in golden:
        assert confidences[genre] == pytest.approx(confidence, abs=FP32_TOLERANCE), genre


@pytest.mark.parametrize("path", DEMO, ids=lambda p: p.name)
def test_demo_samples_get_their_golden_genres_at_the_precision_auto_picks(analyzer, path):
    golden = GOLDEN_GENRES[path.name]
    genres = analyzer.analyse(path, Depth.FULL).genres
    assert genres[0].genre == golden[0][0]
    assert {genre for genre, confidence in golden if confidence >= RANKED_ABOVE} <= {g.genre for g in genres[:3]}
    confidences = {g.genre: g.confidence for g in genres}
    for genre, confidence in golden:
        assert confidences[genre] == pytest.approx(confidence, abs=AUTO_TOLERANCE), genre


def test_timeline_covers_the_analysed_patches(analyzer):
    analysis = analyzer.analyse(DEMO[0], Depth.FULL)
    assert analysis.patches_analysed == analysis.total_patches == len(analysis.segments) == 6
    starts = [s.start_s for s in analysis.segments]
    assert starts == sorted(starts) and starts[0] == 0.0
    for segment in analysis.segments:
        assert 0 <= segment.start_s < segment.end_s <= analysis.duration_s
        assert len(segment.genres) == 3
        assert segment.genres[0].confidence >= segment.genres[1].confidence


def test_fast_depth_analyses_fewer_patches_of_a_long_track(analyzer, make_audio):
    path = make_audio("long.flac", seconds=120.0, rate=22050)
    fast = analyzer.analyse(path, Depth.FAST)
    full = analyzer.analyse(path, Depth.FULL)
    assert fast.patches_analysed == analyzer.fast_patches < full.patches_analysed == full.total_patches == 40
    assert all(3.0 <= s.start_s <= 117.0 for s in fast.segments)  # intro and outro skipped


@pytest.mark.parametrize("level", [0.0, 1e-4], ids=["digital-silence", "near-silence"])
def test_silence_gives_no_music_not_made_up_genres(analyzer, make_audio, level):
    rng = np.random.default_rng(1)
    path = make_audio("quiet.wav", data=(level * rng.standard_normal((10 * 16000, 1))).astype(np.float32), rate=16000)
    analysis = analyzer.analyse(path)
    assert not analysis.music_detected
    assert analysis.genres == [] and analysis.segments == []


def test_silent_stretches_are_left_out_of_the_timeline(analyzer, make_audio):
    audio = tone(30.0, rate=16000, channels=1)
    audio[10 * 16000: 20 * 16000] = 0.0
    analysis = analyzer.analyse(make_audio("gap.wav", data=audio, rate=16000), Depth.FULL)
    assert analysis.music_detected
    assert analysis.patches_analysed < analysis.total_patches == 10
    assert not any(s.start_s >= 10.0 and s.end_s <= 20.0 for s in analysis.segments)


def test_half_second_clip_is_analysed(analyzer, make_audio):
    analysis = analyzer.analyse(make_audio("blip.flac", seconds=0.5))
    assert analysis.music_detected and analysis.patches_analysed == 1
    assert analysis.genres


@pytest.mark.shared
@pytest.mark.parametrize(
    "relative", ["singularity-music/Nebula.ogg", "warzone2100-music/track2.opus", "asc-music/machine_wars.mp3"]
)
def test_real_tracks_fast_top_genre_is_in_full_top_three(analyzer, relative):
    path = SHARED_MUSIC / relative
    fast = analyzer.analyse(path, Depth.FAST)
    full = analyzer.analyse(path, Depth.FULL)
    assert fast.genres[0].genre in [g.genre for g in full.genres[:3]]
    assert full.patches_analysed > 3 * fast.patches_analysed

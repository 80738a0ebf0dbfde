"""The adaptive depth: how many patches a track gets, deepening cached analyses, determinism."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from support.audio import tone

from tagger.analysis.adaptive import AdaptiveRule, lead_z
from tagger.analysis.analyzer import Analyzer, JobControl
from tagger.analysis.cache import AnalysisCache
from tagger.analysis.pipeline import AnalysisPipeline, PipelineConfig
from tagger.audio.excerpt import Depth, body, patch_order, plan_patches

RATE = 22050


def clicks(seconds: float) -> np.ndarray:
    """Noise bursts four times a second: nothing like the chord of ``tone``."""
    t = np.arange(int(seconds * RATE)) / RATE
    bursts = (np.mod(t, 0.25) < 0.02) * np.random.default_rng(1).standard_normal(len(t)) * 0.5
    return bursts[:, None].astype(np.float32)


@pytest.fixture
def uniform_track(make_audio):
    return make_audio("uniform.flac", seconds=120.0, rate=RATE, channels=1)


@pytest.fixture
def two_halves_track(make_audio):
    return make_audio("halves.flac", rate=RATE, data=np.concatenate([tone(60.0, RATE, 1), clicks(60.0)]))


def patches_run(analyzer: Analyzer, monkeypatch) -> list[int]:
    """Counts the patches that go through the models from now on."""
    counted: list[int] = []
    run = analyzer.models.run

    def counting(patches):
        counted.append(len(patches))
        return run(patches)

    monkeypatch.setattr(analyzer.models, "run", counting)
    return counted


def test_patch_order_starts_in_the_body_and_each_level_is_an_even_sample_of_the_track():
    order = patch_order(100, 4)
    assert sorted(order) == list(range(100))
    first, last = body(100)
    assert all(first <= i <= last for i in order[:4])  # the edges only once the body leaves it open
    # After the 4 centres of quarters each level halves the gaps: 4, 12 and 28 patches are spread evenly.
    for taken, gap in ((4, 25), (12, 13), (28, 7)):
        picks = sorted(order[:taken])
        assert max(np.diff(picks)) <= gap and picks[0] <= gap and picks[-1] >= 99 - gap
    assert plan_patches(100, Depth.ADAPTIVE, 6, 4) == order[:4] == [12, 37, 62, 87]


def test_a_uniform_track_stops_after_the_first_round(analyzer, uniform_track):
    analysis = analyzer.analyse(uniform_track, Depth.ADAPTIVE)
    assert analysis.depth is Depth.ADAPTIVE
    assert analysis.patches_analysed == analyzer.rule.first


def test_a_track_whose_halves_differ_gets_more_patches(analyzer, two_halves_track):
    adaptive = analyzer.analyse(two_halves_track, Depth.ADAPTIVE)
    assert analyzer.rule.first < adaptive.patches_analysed <= analyzer.rule.most
    assert adaptive.genres[0].genre == analyzer.analyse(two_halves_track, Depth.FULL).genres[0].genre


def test_the_rule_settles_on_agreeing_patches_and_not_on_disagreeing_ones(analyzer):
    scorer = analyzer.scorer
    rng = np.random.default_rng(0)
    names = [info.name for info in analyzer.models.infos]
    base = {n: rng.uniform(0.01, 0.2, 50) for n in names}
    base[names[0]][0] = 0.9  # one clear tag
    agreeing = {n: np.tile(p, (4, 1)) + rng.normal(0, 0.001, (4, 50)) for n, p in base.items()}
    assert lead_z(scorer, agreeing, population=40) > 10
    # Two patches say one thing, two another: the lead means nothing yet.
    split = {n: np.stack([np.roll(p, k) for k in (0, 0, 7, 7)]) for n, p in base.items()}
    assert lead_z(scorer, split, population=40) < 1
    assert lead_z(scorer, split, population=4) == float("inf")  # the sample is the whole track
    assert lead_z(scorer, {n: p[:1] for n, p in split.items()}, population=40) == 0.0
    rule = AdaptiveRule(first=4, step=2, most=7, settled_z=1.0)
    order = list(range(10, 50))
    assert rule.more(scorer, order, order[:4], split, 40) == order[4:6]
    assert rule.more(scorer, order, order[:6], split, 40) == order[6:7]  # never past ``most``
    assert rule.more(scorer, order, order[:7], split, 40) == []
    assert rule.more(scorer, order, order[:4], agreeing, 40) == []


def test_deepening_a_cached_analysis_adds_only_the_missing_patches(analyzer, tmp_path, monkeypatch, make_audio):
    path = make_audio("song.flac", seconds=60.0, rate=RATE, channels=1)
    cached = Analyzer(models=analyzer.models, cache=AnalysisCache(tmp_path / "cache.sqlite3"))
    fast = cached.analyse(path, Depth.FAST)
    counted = patches_run(analyzer, monkeypatch)
    deepened = cached.analyse(path, Depth.FULL)
    assert not deepened.cached and deepened.depth is Depth.FULL
    assert sum(counted) == deepened.total_patches - fast.patches_analysed
    monkeypatch.undo()
    scratch = analyzer.analyse(path, Depth.FULL)
    assert deepened.patches_analysed == scratch.patches_analysed == scratch.total_patches
    # A patch decoded in another run of patches differs only at the resampler's edges.
    for name, probabilities in scratch.patch_probabilities.items():
        assert np.abs(deepened.patch_probabilities[name] - probabilities).max() < 5e-3
        assert np.abs(deepened.embeddings[name] - scratch.embeddings[name]).max() < 5e-3
    assert [g.genre for g in deepened.genres[:5]] == [g.genre for g in scratch.genres[:5]]
    again = cached.analyse(path, Depth.FULL)
    assert again.cached and again.patches_analysed == scratch.total_patches


def test_an_adaptive_analysis_is_deepened_too(analyzer, tmp_path, monkeypatch, two_halves_track):
    cached = Analyzer(models=analyzer.models, cache=AnalysisCache(tmp_path / "cache.sqlite3"))
    adaptive = cached.analyse(two_halves_track, Depth.ADAPTIVE)
    counted = patches_run(analyzer, monkeypatch)
    full = cached.analyse(two_halves_track, Depth.FULL)
    assert sum(counted) == full.total_patches - adaptive.patches_analysed


def test_adaptive_results_are_the_same_every_time_and_through_the_pipeline(analyzer, two_halves_track,
                                                                           uniform_track):
    once = analyzer.analyse(two_halves_track, Depth.ADAPTIVE)
    twice = analyzer.analyse(two_halves_track, Depth.ADAPTIVE)
    pipeline = AnalysisPipeline(analyzer, Depth.ADAPTIVE, config=PipelineConfig(2, 2, 2))
    results = {r.path: r.analysis for r in pipeline.results([uniform_track, two_halves_track, uniform_track])}
    piped = results[two_halves_track]
    for other in (twice, piped):
        assert [s.start_s for s in other.segments] == [s.start_s for s in once.segments]
        assert [g.genre for g in other.genres] == [g.genre for g in once.genres]
        assert [g.confidence for g in other.genres] == pytest.approx([g.confidence for g in once.genres], abs=1e-5)
    assert results[uniform_track].patches_analysed == analyzer.rule.first


def test_a_file_gone_before_its_next_round_fails_alone(analyzer, monkeypatch, make_audio, two_halves_track):
    others = [make_audio(f"song{i}.flac", seconds=30.0, rate=RATE, channels=1) for i in range(3)]
    deepen = analyzer.deepen

    def deepen_then_lose_the_file(job):
        more = deepen(job)
        if more and job.path == two_halves_track:
            two_halves_track.unlink()
        return more

    monkeypatch.setattr(analyzer, "deepen", deepen_then_lose_the_file)
    pipeline = AnalysisPipeline(analyzer, Depth.ADAPTIVE, config=PipelineConfig(2, 2, 2))
    results = {r.path: r for r in pipeline.results([others[0], two_halves_track, *others[1:]])}
    assert set(results) == {two_halves_track, *others}
    assert results[two_halves_track].error == "no such file"
    assert all(results[p].ok for p in others)


def test_cancelling_between_rounds_ends_the_run(analyzer, make_audio):
    paths = [make_audio(f"halves{i}.flac", rate=RATE, data=np.concatenate([tone(60.0, RATE, 1), clicks(60.0)]))
             for i in range(4)]
    control = JobControl()
    threading.Timer(0.5, control.cancel).start()
    results = list(AnalysisPipeline(analyzer, Depth.ADAPTIVE, control, PipelineConfig(2, 2, 2)).results(paths))
    assert control.cancelled and len(results) < len(paths)
    assert not [t for t in threading.enumerate() if t.name.startswith("analysis-")]

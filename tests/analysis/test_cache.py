"""The analysis cache: reuse across runs, retagging and moves; re-ranking without inference."""

import json
import shutil

import numpy as np
import pytest
from support import tagfiles

from tagger import cli
from tagger.analysis.adaptive import AdaptiveRule
from tagger.analysis.analyzer import Analyzer
from tagger.analysis.cache import AnalysisCache
from tagger.analysis.scoring import Calibration
from tagger.audio.excerpt import Depth
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest


@pytest.fixture
def cache(tmp_path):
    cache = AnalysisCache(tmp_path / "cache.sqlite3")
    yield cache
    cache.close()


@pytest.fixture
def cached_analyzer(analyzer, cache):
    return Analyzer(models=analyzer.models, cache=cache)


def test_unchanged_file_comes_from_the_cache(cached_analyzer, make_audio):
    path = make_audio("song.flac", seconds=30.0)
    first = cached_analyzer.analyse(path)
    second = cached_analyzer.analyse(path)
    assert (first.cached, second.cached) == (False, True)
    assert second.timings.inference_s == 0.0
    assert [g.genre for g in second.genres] == [g.genre for g in first.genres]
    assert second.fingerprint == first.fingerprint
    for name in first.embeddings:
        np.testing.assert_array_equal(second.embeddings[name], first.embeddings[name])


@pytest.mark.parametrize("kind", ["flac", "mp3-id3v23", "m4a-aac", "opus"])
def test_writing_tags_keeps_the_analysis(cached_analyzer, tmp_path, kind):
    path = tagfiles.make(tmp_path, kind)
    before = cached_analyzer.analyse(path)
    writer = GenreWriter(Journal(tmp_path / "journal.sqlite3"))
    assert next(writer.write([WriteRequest(path, ["Jazz", "Bebop"])], "test")).status == "written"
    after = cached_analyzer.analyse(path)
    assert after.cached
    assert after.fingerprint != before.fingerprint  # a later write checks against the new file
    assert [g.genre for g in after.genres] == [g.genre for g in before.genres]


def test_moved_file_is_recognised(cached_analyzer, make_audio, tmp_path):
    path = make_audio("song.ogg", seconds=20.0)
    cached_analyzer.analyse(path)
    moved = tmp_path / "elsewhere" / "renamed.ogg"
    moved.parent.mkdir()
    shutil.move(path, moved)
    assert cached_analyzer.analyse(moved).cached


def test_changed_audio_is_analysed_again(cached_analyzer, make_audio):
    path = make_audio("song.flac", seconds=20.0, freq=440.0)
    cached_analyzer.analyse(path)
    make_audio("song.flac", seconds=20.0, freq=150.0)
    assert not cached_analyzer.analyse(path).cached


def test_depth_and_models_key_the_cache(cached_analyzer, analyzer, cache, make_audio):
    path = make_audio("song.flac", seconds=40.0)
    cached_analyzer.analyse(path, Depth.FAST)
    assert not cached_analyzer.analyse(path, Depth.ADAPTIVE).cached
    fewer_patches = Analyzer(models=analyzer.models, cache=cache, fast_patches=2)
    assert not fewer_patches.analyse(path, Depth.FAST).cached
    other_rule = Analyzer(models=analyzer.models, cache=cache, rule=AdaptiveRule(first=2))
    assert not other_rule.analyse(path, Depth.ADAPTIVE).cached
    assert cached_analyzer.analyse(path, Depth.FAST).cached


def test_a_full_analysis_answers_every_depth(cached_analyzer, make_audio):
    path = make_audio("song.flac", seconds=40.0)
    full = cached_analyzer.analyse(path, Depth.FULL)
    for depth in Depth:
        answer = cached_analyzer.analyse(path, depth)
        assert answer.cached and answer.depth is Depth.FULL and answer.genres == full.genres


def test_new_calibration_reranks_from_the_cache(cached_analyzer, analyzer, cache, make_audio):
    path = make_audio("song.flac", seconds=20.0)
    original = cached_analyzer.analyse(path)
    infos = analyzer.models.infos
    flat = Analyzer(models=analyzer.models, cache=cache, calibration=Calibration.neutral(infos))
    reranked = flat.analyse(path)
    assert reranked.cached and reranked.timings.inference_s == 0.0
    assert [g.confidence for g in reranked.genres] != [g.confidence for g in original.genres]
    for name, probabilities in original.tag_probabilities.items():
        np.testing.assert_array_equal(reranked.tag_probabilities[name], probabilities)


def test_corrupt_cache_is_moved_aside_and_rebuilt(tmp_path, caplog):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = AnalysisCache(path)
    assert cache.info().entries == 0
    cache.close()
    assert [p.name.split(".corrupt-")[0] for p in tmp_path.glob("*.corrupt-*")] == ["cache.sqlite3"]
    assert "damaged" in caplog.text


def test_cache_commands_and_no_cache(capsys, make_audio):
    path = make_audio("song.flac", seconds=10.0)
    for flags, cached in [([], False), ([], True), (["--no-cache"], False)]:
        assert cli.main(["suggest", str(path), "--json", "--device", "cpu", *flags]) == 0
        assert json.loads(capsys.readouterr().out)["cached"] is cached
    assert cli.main(["cache", "info"]) == 0
    assert capsys.readouterr().out.startswith("1 cached analyses")
    assert cli.main(["cache", "clear"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 cached analyses")

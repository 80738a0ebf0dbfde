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


def test_precision_keys_the_cache(cache, make_audio):
    """An analysis made at int8 is never served for fp32, nor built on by a deeper fp32 one."""
    from tagger.analysis.models import ModelSet

    path = make_audio("song.flac", seconds=40.0)
    int8 = Analyzer(models=ModelSet(device="cpu", threads=1, precision="int8"), cache=cache)
    fp32 = Analyzer(models=ModelSet(device="cpu", threads=1, precision="fp32"), cache=cache)
    # The model versions tell the two apart too; the precision must key the cache on its own.
    fp32.models_key = int8.models_key
    int8.analyse(path, Depth.FAST)
    assert not fp32.analyse(path, Depth.FAST).cached
    int8_full = int8.analyse(path, Depth.FULL)
    fp32_full = fp32.analyse(path, Depth.FULL)
    assert not fp32_full.cached and fp32_full.patches_analysed == fp32_full.total_patches
    assert fp32_full.timings.inference_s > 0
    probabilities = {name: int8_full.patch_probabilities[name] for name in int8_full.patch_probabilities}
    assert any(not np.array_equal(fp32_full.patch_probabilities[n], p) for n, p in probabilities.items())
    assert int8.analyse(path, Depth.FAST).cached and fp32.analyse(path, Depth.FAST).cached


VERSION_1_SCHEMA = """
CREATE TABLE analyses (path BLOB NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, content TEXT NOT NULL,
    models TEXT NOT NULL, depth TEXT NOT NULL, duration_s REAL NOT NULL, total_patches INTEGER NOT NULL,
    outputs BLOB NOT NULL, fingerprint TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (path, models, depth));
CREATE INDEX analyses_content ON analyses(content, models, depth);
"""


def test_a_version_1_cache_keeps_its_analyses_at_their_precision(tmp_path, analyzer, make_audio):
    """A cache from before precision was recorded is upgraded in place: each entry gets the
    precision its model version names, and is served only at that precision."""
    import sqlite3

    from tagger.analysis.models import ModelSet

    path = make_audio("song.flac", seconds=20.0)
    made = {}
    for precision in ("fp32", "int8"):
        models = ModelSet(device="cpu", threads=1, precision=precision)
        current = AnalysisCache(tmp_path / f"{precision}.sqlite3")
        made[precision] = Analyzer(models=models, cache=current).analyse(path)
        current.close()
    old = tmp_path / "old.sqlite3"
    db = sqlite3.connect(old)
    db.executescript(VERSION_1_SCHEMA)
    for precision in made:
        source = sqlite3.connect(tmp_path / f"{precision}.sqlite3")
        for row in source.execute("SELECT path, size, mtime_ns, content, models, depth, duration_s, total_patches, "
                                  "outputs, fingerprint, created FROM analyses"):
            db.execute("INSERT INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        source.close()
    db.commit()
    db.close()

    upgraded = AnalysisCache(old)
    assert upgraded.problem is None and upgraded.info().entries == 2
    for precision, analysis in made.items():
        models = ModelSet(device="cpu", threads=1, precision=precision)
        again = Analyzer(models=models, cache=upgraded).analyse(path)
        assert again.cached and again.genres == analysis.genres, precision
    upgraded.close()
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone() == (2,)
    reopened = AnalysisCache(old)  # an upgraded cache opens as it is
    assert reopened.problem is None and reopened.info().entries == 2
    reopened.close()


def test_a_cache_from_a_newer_app_is_left_alone(tmp_path, analyzer, make_audio):
    import sqlite3

    newer = tmp_path / "newer.sqlite3"
    db = sqlite3.connect(newer)
    db.execute("CREATE TABLE analyses (something TEXT)")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    cache = AnalysisCache(newer)
    assert not cache.readable and not cache.writable and "newer Genre Tagger" in cache.problem
    path = make_audio("song.flac", seconds=10.0)
    assert not Analyzer(models=analyzer.models, cache=cache).analyse(path).cached  # analyses without it
    cache.close()
    assert sqlite3.connect(newer).execute("PRAGMA user_version").fetchone() == (3,)

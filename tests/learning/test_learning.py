"""Learning the person's genres, on generated analyses whose classes are known."""

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
from support.learning import KEY, MODELS, analysis_features, library

from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.genres.taxonomy import Taxonomy
from tagger.learning.classifiers import fit_temperature
from tagger.learning.learned import (
    FEATURE_VERSION,
    Calibrator,
    LearnableGenres,
    LearnedModel,
    LearnedModelError,
    ModelChoice,
    NoLearnedModel,
    NothingToLearn,
    TaggedFile,
    features,
    fit_calibrator,
    fold_of_groups,
    forget,
    model_for,
    reliability,
    train,
)
from tagger.probability import softmax


def test_features_have_a_fixed_layout():
    rng = np.random.default_rng(1)
    x = analysis_features(rng, np.zeros(500))
    assert x.shape == (2 * (200 + 50 + 50),)
    uniform = features({m: np.zeros(200) for m in MODELS}, {m: np.full((4, 50), 0.5) for m in MODELS})
    assert np.allclose(uniform, 0.0)  # logit(0.5) = 0, and identical patches have no spread
    one_patch = features({m: np.zeros(200) for m in MODELS}, {m: np.full((1, 50), 0.9) for m in MODELS})
    assert np.allclose(one_patch[200:250], np.log(9.0)) and np.allclose(one_patch[250:300], 0.0)


def test_learns_separable_genres_and_reports_grouped_agreement():
    files = library({"Rock": 30, "Jazz": 30, "Techno": 30, "Folk": 30})
    model = train(files, KEY)
    assert sorted(model.genres) == ["Folk", "Jazz", "Rock", "Techno"]
    report = model.report
    assert report.files == 120 and report.folds == 5
    assert report.top1 > 0.9 and report.top3 == 1.0
    assert all(g.files == 30 and g.recall > 0.8 and g.precision > 0.8 for g in report.genres)
    p = model.probabilities(np.stack([f.features for f in files[:3]]))
    assert p.shape == (3, 4) and np.allclose(p.sum(axis=1), 1.0)
    assert model.genres[int(p[0].argmax())] == "Rock"


def test_genres_on_one_album_each_are_tested_file_by_file():
    # Holding out a genre's only album would hold out the genre: the model could only be
    # wrong, and its calibration would learn nothing but that.
    files = library({"Rock": 12, "Jazz": 12, "Folk": 12}, album_size=12, spread=4.0)
    report = train(files, KEY).report
    assert report.grouping == "file" and report.untested == 0
    assert report.top1 > 0.8 and report.expected_calibration_error < 0.15


def test_files_whose_genre_has_no_other_album_are_counted_not_scored():
    files = library({"Rock": 30, "Jazz": 30}, album_size=5) + library({"Polka": 6}, seed=8, album_size=6)
    report = train(files, KEY).report
    assert report.grouping == "album" and report.untested == 6
    assert {g.genre: g.files for g in report.genres}["Polka"] == 6
    assert next(g for g in report.genres if g.genre == "Polka").recall is None  # never tested
    assert sum(b.files for b in report.reliability) == 60


def test_overlapping_genres_are_calibrated_on_held_out_albums():
    files = library({f"G{i}": 40 for i in range(6)}, spread=10.0, seed=3)
    model = train(files, KEY)
    report = model.report
    assert 0.3 < report.top1 < 0.95  # overlapping on purpose: confidence has to mean something
    assert report.expected_calibration_error < 0.1
    assert sum(b.files for b in report.reliability) == report.files
    for b in report.reliability:
        assert b.low <= b.confidence <= b.high


def test_fitted_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.standard_normal((4000, 5))
    labels = np.array([rng.choice(5, p=p) for p in softmax(true_logits)])
    y = np.eye(5)[labels]
    assert fit_temperature(3.0 * true_logits, y) == pytest.approx(3.0, rel=0.15)
    assert fit_temperature(true_logits / 2.0, y) == pytest.approx(0.5, rel=0.15)


def test_calibrator_keeps_the_top_suggestion_promise():
    rng = np.random.default_rng(1)
    # Scores whose softmax always claims about 90% for the top genre, right half the time.
    scores = np.zeros((4000, 4))
    scores[:, 0] = np.log(0.9 / (0.1 / 3))
    y = np.zeros((4000, 4))
    right = rng.random(4000) < 0.5
    y[right, 0] = 1.0
    y[~right, 1 + rng.integers(0, 3, (~right).sum())] = 1.0
    calibrator = fit_calibrator(scores, y)
    p = calibrator.probabilities(scores[:3])
    assert p[:, 0] == pytest.approx(0.5, abs=0.05)
    assert np.allclose(p.sum(axis=1), 1.0) and np.allclose(p[:, 1], p[:, 2])
    assert Calibrator().probabilities(np.array([[2.0, 0.0]])) == pytest.approx(softmax(np.array([[2.0, 0.0]])))


def test_reliability_table_and_error():
    confidence = np.array([0.95, 0.95, 0.55, 0.55, 0.55, 0.55])
    correct = np.array([True, True, True, False, True, False])
    ece, table = reliability(confidence, correct)
    assert [(b.files, b.accuracy) for b in table] == [(4, 0.5), (2, 1.0)]
    assert ece == pytest.approx((4 / 6) * 0.05 + (2 / 6) * 0.05)


def test_folds_never_split_an_album_and_stay_even():
    groups = [f"album{i // 7}" for i in range(70)] + [f"single{i}" for i in range(30)]
    fold = fold_of_groups(groups, 5)
    for album in set(groups):
        assert len({fold[i] for i, g in enumerate(groups) if g == album}) == 1
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 7
    assert list(fold_of_groups(list(reversed(groups)), 5)) == list(reversed(fold))  # order does not matter


def test_spelling_variants_are_one_class_with_the_most_common_spelling():
    files = library({"Hip Hop": 12, "Jazz": 12})
    renamed = [TaggedFile(f.path, ("hip-hop",), f.group, f.features) if i < 4 else f for i, f in enumerate(files)]
    model = train(renamed, KEY)
    assert sorted(model.genres) == ["Hip Hop", "Jazz"]
    assert {g.genre: g.files for g in model.report.genres}["Hip Hop"] == 12


def test_thin_genres_are_listed_not_learned_and_multi_genre_files_count_for_each():
    files = library({"Rock": 10, "Jazz": 10, "Polka": 2})
    # Three Rock files are also Blues; with two Blues-only files Blues reaches the minimum of 4.
    extra = library({"Blues": 2}, seed=5)
    files = [TaggedFile(f.path, ("Rock", "Blues"), f.group, f.features) if i < 3 else f for i, f in enumerate(files)]
    model = train(files + extra, KEY, min_files=4)
    assert set(model.genres) == {"Rock", "Jazz", "Blues"}
    assert model.report.thin == {"Polka": 2}
    assert {g.genre: g.files for g in model.report.genres}["Blues"] == 5


@pytest.mark.parametrize("genres, message", [
    ({}, "none of these files carries a genre"),
    ({"Rock": 50}, "at least two genres"),
    ({"Rock": 3, "Jazz": 3}, "at least two genres"),
])
def test_nothing_to_learn(genres, message):
    with pytest.raises(NothingToLearn, match=message):
        train(library(genres), KEY, min_files=4)


def test_thousands_of_junk_and_single_file_genres_leave_a_working_model():
    files = library({"Rock": 20, "Jazz": 20})
    rng = np.random.default_rng(2)
    noise = [TaggedFile(Path(f"/junk/{i}.mp3"), (f"genre {i} {rng.integers(1e9)}",), f"junk{i}",
                        analysis_features(rng, np.zeros(500))) for i in range(3000)]
    junk = [TaggedFile(Path(f"/junk/u{i}.mp3"), ("Unknown", "http://radio.example/rock"), f"u{i}",
                       analysis_features(rng, np.zeros(500))) for i in range(50)]
    started = time.perf_counter()
    model = train(files + noise + junk, KEY)
    assert time.perf_counter() - started < 60  # a sanity bound, not a benchmark
    assert sorted(model.genres) == ["Jazz", "Rock"]
    assert len(model.report.thin) == 3000
    assert model.report.junk == {"Unknown": 50, "http://radio.example/rock": 50}
    assert model.report.files == 40  # only files with a learned genre are trained on


def test_non_utf8_and_long_genre_strings_round_trip(tmp_path):
    odd = "Sch\udcf6ne M\udcfcsik"  # what a Latin-1 tag decoded as UTF-8 with surrogateescape looks like
    long = "Progressive " * 20  # junk by length
    files = library({odd: 8, "Ambient": 8, long: 8})
    model = train(files, KEY)
    assert sorted(model.genres) == sorted([odd, "Ambient"])
    assert list(model.report.junk) == [" ".join(long.split())]
    path = model.save(tmp_path / "model.npz")
    loaded = LearnedModel.load(path, KEY)
    assert loaded.genres == model.genres


def test_save_and_load_round_trip_is_small_and_faithful(tmp_path):
    files = library({f"G{i}": 25 for i in range(40)}, seed=4)
    model = train(files, KEY, roots=["/music"])
    path = model.save(tmp_path / "m.npz")
    assert path.stat().st_size < 5_000_000
    loaded = LearnedModel.load(path, KEY)
    x = np.stack([f.features for f in files[:50]])
    assert np.allclose(loaded.probabilities(x), model.probabilities(x), atol=1e-4)
    assert loaded.roots == ["/music"] and loaded.report == model.report


def test_stale_damaged_and_missing_models_are_refused_with_reasons(tmp_path):
    model = train(library({"Rock": 10, "Jazz": 10}), KEY)
    path = model.save(tmp_path / "m.npz")
    with pytest.raises(LearnedModelError, match="other analysis models"):
        LearnedModel.load(path, "MSD_musicnn 2.0|MTT_musicnn 2.0")
    assert model_for("MSD_musicnn 2.0|MTT_musicnn 2.0", "auto", path)[0] is None
    assert "other analysis models" in model_for("other", "auto", path)[1]
    assert model_for(KEY, "auto", path)[0].genres == model.genres
    assert model_for(KEY, "base", path) == (None, None)

    raw = path.read_bytes()
    for damage in (raw[: len(raw) // 2], b"not a model", b""):
        path.write_bytes(damage)
        with pytest.raises(LearnedModelError, match="damaged"):
            LearnedModel.load(path, KEY)
        model_none, problem = model_for(KEY, "auto", path)
        assert model_none is None and "damaged" in problem

    # A model of another feature layout is refused, not misread.
    model.save(path)
    with np.load(path) as stored:
        arrays = dict(stored)
    meta = json.loads(arrays["meta"].tobytes())
    meta["feature_version"] = FEATURE_VERSION + 1
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(LearnedModelError, match="another version"):
        LearnedModel.load(path, KEY)

    assert forget(path) and not path.exists() and not forget(path)
    with pytest.raises(NoLearnedModel):
        LearnedModel.load(path, KEY)
    assert model_for(KEY, "auto", path) == (None, None)
    with pytest.raises(NoLearnedModel):
        model_for(KEY, ModelChoice.LEARNED, path)


def base_suggestions(**confidences: float) -> list[GenreSuggestion]:
    return sorted((GenreSuggestion(g.replace("_", " "), g, c) for g, c in confidences.items()),
                  key=lambda s: -s.confidence)


def test_blending_lets_a_sure_library_model_lead_and_the_base_model_fill_gaps():
    files = library({"Soundtrack": 20, "Hip Hop": 20}, separation=2.0)
    model = train(files, KEY)
    taxonomy = Taxonomy.load()
    base = base_suggestions(Jazz=0.9, Hip_Hop=0.8, Classical=0.3)
    sure = model.suggestions(files[0].features, base, taxonomy)
    assert sure[0].source == Source.LEARNED and sure[0].genre == "Soundtrack"
    top = sure[0].confidence
    assert top > 0.9
    jazz = next(g for g in sure if g.genre == "Jazz")
    # A file like the person's own: the bundled genres step back however unsure the library model is.
    familiar = float(model.familiarity(files[0].features)[0])
    assert familiar == 1.0 and jazz.source == Source.BASE and jazz.confidence == 0.0
    assert [g.genre for g in sure].count("Hip Hop") == 1  # the learned class, not also the base genre
    assert next(g for g in sure if g.genre == "Hip Hop").source == Source.LEARNED
    assert next(g for g in sure if g.genre == "Hip Hop").family == "Hip-Hop"  # the taxonomy's family

    # A file unlike anything the person tagged (the library has no jazz at all): the
    # library model steps back and a confident base genre comes first.
    stranger = library({"Jazz": 1}, seed=99, separation=2.0)[0].features
    unsure = model.suggestions(stranger, base, taxonomy)
    assert max(g.confidence for g in unsure if g.source == Source.LEARNED) < 0.1
    assert unsure[0].genre == "Jazz" and unsure[0].source == Source.BASE and unsure[0].confidence > 0.8
    assert [g.confidence for g in unsure] == sorted((g.confidence for g in unsure), reverse=True)


def test_training_is_deterministic():
    files = library({"A": 15, "B": 15, "C": 15}, spread=3.0)
    first, second = train(files, KEY), train(list(reversed(files)), KEY)
    x = np.stack([f.features for f in files])
    assert np.allclose(first.probabilities(x)[:, [first.genres.index(g) for g in "ABC"]],
                       second.probabilities(x)[:, [second.genres.index(g) for g in "ABC"]], atol=1e-6)


def test_vocabulary_targets_split_a_file_over_its_learned_genres():
    vocabulary = LearnableGenres.of([("Rock",)] * 4 + [("Jazz",)] * 4 + [("Rock", "Jazz", "Polka")], min_files=4)
    y = vocabulary.targets([("Rock", "jazz", "Polka"), ("Polka",), ("ROCK",)])
    assert y.tolist() == [[0.5, 0.5], [0.0, 0.0], [1.0, 0.0]]


def test_the_vocabulary_learns_aliases_as_one_genre_in_the_persons_spelling():
    from tagger.genres.vocabulary import save_user_alias

    tagged = [("DnB",)] * 3 + [("Drum & Bass",)] * 2 + [("Jazz",)] * 5 + [("Chiptune",)] * 3
    vocabulary = LearnableGenres.of(tagged, min_files=5)
    # DnB is an alias of Drum and Bass: one class of 5 files, in the library's most common spelling.
    assert vocabulary.files == {"DnB": 5, "Jazz": 5, "Chiptune": 3}
    assert vocabulary.genres == ["DnB", "Jazz"]
    save_user_alias("Chiptune", "Jazz")  # a merge the person made
    save_user_alias("DnB", "Drum & Bass")  # and a rename: their spelling wins
    vocabulary = LearnableGenres.of(tagged, min_files=5)
    assert vocabulary.files == {"Jazz": 8, "Drum & Bass": 5}
    assert vocabulary.targets(tagged)[-1].tolist() == [1.0, 0.0]  # a Chiptune file is a Jazz file now


def test_genres_on_two_or_three_files_are_learned_by_default_and_marked_few():
    files = library({"Rock": 20, "Jazz": 20, "Synthwave": 3, "Polka": 2, "Zydeco": 1}, separation=2.0, album_size=1)
    model = train(files, KEY)
    assert set(model.genres) == {"Rock", "Jazz", "Synthwave", "Polka"}
    assert model.report.thin == {"Zydeco": 1}  # one file: offered only through context
    few = {g.genre for g in model.report.genres if g.few}
    assert few == {"Synthwave", "Polka"}
    # Well-separated thin genres come back first for their own files.
    x = np.stack([f.features for f in files if f.genres[0] == "Synthwave"])
    assert all(model.genres[i] == "Synthwave" for i in model.probabilities(x).argmax(axis=1))


def test_the_library_chooses_among_candidates_and_is_never_worse_than_plain_logistic_regression():
    from tagger.learning.classifiers import AVERAGE, PLAIN

    for seed, spread in ((0, 3.0), (1, 6.0), (2, 9.0)):
        model = train(library({"A": 15, "B": 15, "C": 15, "D": 6}, seed=seed, spread=spread), KEY)
        report = model.report
        names = [c.name for c in report.candidates]
        assert PLAIN in names and AVERAGE in names and "nearest prototype" in names
        assert any(n.startswith("shrinkage LDA") for n in names)
        winner, plain = report.candidates[0], next(c for c in report.candidates if c.name == PLAIN)
        assert report.model == winner.name
        assert (winner.top1, winner.top3) >= (plain.top1, plain.top3)
        assert len(model.members) == (3 if report.model == AVERAGE else 1)


def test_calibration_learns_that_thin_genres_deserve_less():
    from tagger.learning.learned import fit_calibrator

    rng = np.random.default_rng(3)
    n = 4000
    files = np.array([2, 50])
    best = rng.integers(0, 2, n)
    scores = np.zeros((n, 2))
    scores[np.arange(n), best] = 2.0
    # At the same score a genre on 2 files is right 50% of the time, one on 50 files 88%.
    right = rng.random(n) < np.where(best == 0, 0.5, 0.88)
    y = np.zeros((n, 2))
    y[np.arange(n), np.where(right, best, 1 - best)] = 1.0
    calibrator = fit_calibrator(scores, y, files)
    p = calibrator.probabilities(np.array([[2.0, 0.0], [0.0, 2.0]]))
    assert p[0, 0] == pytest.approx(0.5, abs=0.05) and p[1, 1] == pytest.approx(0.88, abs=0.03)
    assert calibrator.thin > 0


def test_a_model_from_before_the_library_chose_its_classifier_is_refused_with_a_reason(tmp_path):
    model = train(library({"Rock": 10, "Jazz": 10}), KEY)
    path = model.save(tmp_path / "m.npz")
    with np.load(path) as stored:
        arrays = dict(stored)
    meta = json.loads(arrays["meta"].tobytes())
    meta["format"] = 1
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(LearnedModelError, match="another version of Genre Tagger; run `genre-tagger learn` again"):
        LearnedModel.load(path, KEY)


def test_report_intervals_say_how_sure_the_figures_are():
    from tagger.learning.learned import agreement_interval

    low, high = agreement_interval(0.8, 20)
    assert low < 0.8 < high and high - low > 0.2
    narrow = agreement_interval(0.8, 2000)
    assert narrow[1] - narrow[0] < 0.03
    model = train(library({"A": 15, "B": 15, "C": 15}, spread=6.0), KEY)
    low, high = model.report.calibration_interval
    assert low <= model.report.expected_calibration_error <= high
    assert model.report.tested == 45


def test_the_report_in_plain_words_gives_each_figure_its_range_and_says_what_would_help():
    from dataclasses import replace

    from tagger.learning.classifiers import CandidateFigures
    from tagger.learning.learned import GenreFigures, LearnReport, in_plain_words

    report = LearnReport(
        files=60, genres=[GenreFigures("Rock", 40, 0.9, 0.9), GenreFigures("Polka", 3, 0.5, 0.5)], thin={"Dub": 1},
        junk={}, top1=0.8, top3=0.95, expected_calibration_error=0.031, reliability=[],
        confusions=[("Polka", "Rock", 2)], temperature=1.0, folds=5, seconds=1.0, tested=50,
        model="nearest prototype", candidates=[CandidateFigures("nearest prototype", 0.8, 0.95, 0.4),
                                               CandidateFigures("logistic regression (strength 0.01)", 0.7, 0.9, 0.5)],
        calibration_interval=(0.02, 0.06))
    words = in_plain_words(report)
    assert words.figures == ["80% right first time (somewhere between 69% and 88% on a library this size)",
                             "95% in the top three (between 87% and 98%)",
                             "percentages honest to within 3 points on average (between 2 and 6 points)"]
    assert words.classifier == ("classifier: nearest prototype, chosen by cross-validation on your files; the "
                                "runner-up, logistic regression (strength 0.01), was right first time for 70% and in "
                                "the top three for 90%")
    assert words.advice == []  # nothing is poor
    poor = in_plain_words(replace(report, top1=0.4))
    assert poor.advice == [
        "tag a few more files of each genre marked few examples (Polka): each was learned from fewer than 5 files",
        "Polka was most often taken for Rock (2 files): if the two are one genre to you, merge them; if not, tag "
        "more files of each",
        "where a genre sits on one or two albums, the model learns those albums rather than the genre: tag tracks "
        "on more albums of each genre, and learn again"]
    # Figures without a size to judge them by give no range; nothing tested gives no figures.
    bare = in_plain_words(replace(report, tested=0, calibration_interval=(math.nan, math.nan)))
    assert bare.figures == ["80% right first time", "95% in the top three",
                            "percentages honest to within 3 points on average"]
    untested = in_plain_words(replace(report, folds=0, top1=math.nan))
    assert untested.figures == [] and untested.classifier is None and "learn again" in untested.advice[0]

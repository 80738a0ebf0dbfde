import numpy as np
import pytest

from tagger.analysis.models import ModelInfo, ModelSet
from tagger.analysis.scoring import PRIOR, REFERENCE_RANGE, Calibration, GenreScorer
from tagger.audio.features import FrontEnd
from tagger.genres.taxonomy import TagMeaning, Taxonomy
from tagger.probability import logit


@pytest.fixture(scope="module")
def infos():
    return ModelSet(device="cpu", threads=1).infos


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.load()


def test_every_model_tag_has_a_meaning(taxonomy, infos):
    for info in infos:
        assert set(info.labels) == set(taxonomy.tags[info.name])


def test_non_genre_tags_are_never_offered_as_genres(taxonomy, infos):
    scorer = GenreScorer(taxonomy, Calibration.load(infos), infos)
    genre_keys = {name.casefold() for name in scorer.genre_names}
    for word in ("00s", "80s", "female vocalists", "beautiful", "guitar", "piano", "sad", "instrumental", "slow"):
        assert word not in genre_keys
    assert {"female vocals", "1980s", "piano", "instrumental"} <= set(scorer.descriptor_names)
    assert scorer.descriptor_kind["1980s"] == "era" and scorer.descriptor_kind["piano"] == "instrument"


def test_families(taxonomy):
    assert taxonomy.family["House"] == "Electronic"
    assert taxonomy.family["Heavy Metal"] == "Metal"
    assert taxonomy.family["Rock"] == "Rock"
    assert taxonomy.canonical("  heavy   METAL ") == "Heavy Metal"
    assert taxonomy.canonical("hip_hop") == taxonomy.canonical("HipHop") == taxonomy.canonical("hip-hop") == "Hip-Hop"
    assert taxonomy.canonical("hip") is None


def two_tag_model(name):
    return ModelInfo(name, "test", ("rock", "jazz"), FrontEnd(), "", "0" * 64, "test")


def test_rare_genre_supported_by_audio_beats_frequent_tag(taxonomy):
    info = two_tag_model("MSD_musicnn")
    # Rock is usually at 0.2, jazz at 0.05 (both within REFERENCE_RANGE).
    calibration = Calibration({info.name: np.array([0.2, 0.05])})
    scorer = GenreScorer(taxonomy, calibration, [info])
    # Raw rock is still higher, but jazz is five times its usual level.
    ranked = scorer.genres({info.name: np.array([0.3, 0.25])})
    assert [g.genre for g in ranked] == ["Jazz", "Rock"]
    assert ranked[0].confidence > 0.3 > ranked[1].confidence
    # At their usual levels both sit at the prior.
    typical = scorer.genres({info.name: np.array([0.2, 0.05])})
    assert all(g.confidence == pytest.approx(0.1) for g in typical)


def test_confidence_rises_with_probability_and_stays_in_range(taxonomy):
    info = two_tag_model("MSD_musicnn")
    calibration = Calibration({info.name: np.array([0.2, 0.01])})
    scorer = GenreScorer(taxonomy, calibration, [info])
    probabilities = np.linspace(0, 1, 50)
    confidences = scorer.genre_confidences({info.name: np.stack([probabilities, probabilities], axis=1)})
    assert np.all((confidences >= 0) & (confidences <= 1))
    assert np.all(np.diff(confidences, axis=0) >= 0)


def test_both_models_are_combined(taxonomy):
    msd = two_tag_model("MSD_musicnn")
    mtt = ModelInfo("MTT_musicnn", "test", ("rock", "opera"), FrontEnd(), "", "1" * 64, "test")
    calibration = Calibration({"MSD_musicnn": np.array([0.1, 0.1]), "MTT_musicnn": np.array([0.1, 0.1])})
    scorer = GenreScorer(taxonomy, calibration, [msd, mtt])
    conf = dict(zip(scorer.genre_names, scorer.genre_confidences(
        {"MSD_musicnn": np.array([0.5, 0.1]), "MTT_musicnn": np.array([0.1, 0.1])})))
    # Rock's evidence is the mean of both models' lifts: MSD's lift halved.
    expected = 1 / (1 + np.exp(-((logit(np.array(0.5)) - logit(np.array(0.1))) / 2 + logit(np.array(0.1)))))
    assert conf["Rock"] == pytest.approx(float(expected))
    assert set(scorer.genre_names) == {"Rock", "Jazz", "Opera"}


def test_calibration_refuses_another_model_version(infos, tmp_path):
    other = [ModelInfo(i.name, "musicnn-9", i.labels, i.front_end, "", i.sha256, "musicnn-9") for i in infos]
    with pytest.raises(RuntimeError, match="build_calibration"):
        Calibration.load(other)


def test_a_low_probability_tag_does_not_lead_over_a_solid_one():
    # Issue 10: MTT's `indian` sat near zero on the (game-music) reference set, so a raw
    # 5% counted as fifty times its usual level and put "Indian" first. The reference
    # floor caps that lift: a tag the model gives 5% must not lead over one it gives a
    # solid 30% at three times its usual level.
    taxonomy = Taxonomy({"Indian": "World", "Classical": "Classical"},
                        {"MTT_musicnn": {"indian": TagMeaning(genre="Indian"),
                                         "classical": TagMeaning(genre="Classical")}})
    info = ModelInfo("MTT_musicnn", "test", ("indian", "classical"), FrontEnd(), "", "0" * 64, "test")
    scorer = GenreScorer(taxonomy, Calibration({info.name: np.array([0.001, 0.1])}), [info])
    ranked = scorer.genres({info.name: np.array([0.05, 0.3])})
    assert [g.genre for g in ranked] == ["Classical", "Indian"]
    # What the floor allows a raw 5% at most, whatever its reference.
    low = REFERENCE_RANGE[0]
    assert ranked[1].confidence == pytest.approx(1 / (1 + (1 - 0.05) / 0.05 * low / (1 - low) * (1 - PRIOR) / PRIOR))
    assert ranked[1].confidence < 0.2


def test_reference_is_clipped_to_its_range(taxonomy):
    info = two_tag_model("MSD_musicnn")
    low, high = REFERENCE_RANGE
    scorer = GenreScorer(taxonomy, Calibration({info.name: np.array([0.9, 1e-5])}), [info])
    np.testing.assert_allclose(scorer.reference[info.name], [high, low])
    # A tag at the edge of the range sits at the prior, however far beyond it its
    # reference set put it.
    confidences = scorer.genre_confidences({info.name: np.array([high, low])})
    np.testing.assert_allclose(confidences, PRIOR)


def test_shipped_calibration_lets_no_faint_tag_make_a_confident_genre(taxonomy, infos):
    # Every tag of the shipped calibration, near zero on its reference set or not, is
    # judged against at least the floor: a genre whose tag the model gives 5% (every
    # other tag at its usual level) stays below 20%.
    scorer = GenreScorer(taxonomy, Calibration.load(infos), infos)
    for info in infos:
        assert np.all(scorer.reference[info.name] >= REFERENCE_RANGE[0])
    usual = {info.name: scorer.reference[info.name].copy() for info in infos}
    for info in infos:
        for index, label in enumerate(info.labels):
            if taxonomy.tags[info.name][label].genre is None:
                continue
            probabilities = {name: p.copy() for name, p in usual.items()}
            probabilities[info.name][index] = 0.05
            confidences = dict(zip(scorer.genre_names, scorer.genre_confidences(probabilities)))
            assert confidences[taxonomy.tags[info.name][label].genre] < 0.2, (info.name, label)


def test_mtt_indian_is_a_style_not_a_genre(taxonomy, infos):
    # Issue 10: MTT's `indian` fires on drones, flutes and hand drums, so it put
    # "Indian" first for game music with a flute and for salsa, samba and hip-hop. It
    # describes a sound; "Indian" stays in the vocabulary for people's own tags.
    assert taxonomy.tags["MTT_musicnn"]["indian"] == TagMeaning(descriptor="indian", kind="style")
    scorer = GenreScorer(taxonomy, Calibration.load(infos), infos)
    assert "Indian" not in scorer.genre_names
    assert scorer.descriptor_kind["indian"] == "style"
    assert taxonomy.family["Indian"] == "World"


def test_suggestions_use_the_persons_renames_and_merges(taxonomy, infos):
    from tagger.genres.vocabulary import forget_vocabulary, save_user_alias

    scorer = GenreScorer(taxonomy, Calibration.load(infos), infos)
    first = scorer.rank(np.linspace(0.99, 0.01, len(scorer.genre_names)))
    assert len({g.genre for g in first}) == len(scorer.genre_names)
    # Hip-Hop renamed to "Rap & Hip Hop"; Soul merged into it: one genre, in the person's spelling,
    # at the better of the two confidences, and the ranking otherwise as before.
    save_user_alias("Hip-Hop", "Rap & Hip Hop")
    save_user_alias("Soul", "Rap & Hip Hop")
    confidences = np.full(len(scorer.genre_names), 0.1)
    confidences[scorer.genre_names.index("Soul")] = 0.7
    confidences[scorer.genre_names.index("Hip-Hop")] = 0.6
    confidences[scorer.genre_names.index("Jazz")] = 0.5
    ranked = scorer.rank(confidences, limit=3)
    assert [(g.genre, round(g.confidence, 2)) for g in ranked[:2]] == [("Rap & Hip Hop", 0.7), ("Jazz", 0.5)]
    assert ranked[0].family == taxonomy.family["Soul"]
    assert len(ranked) == 3
    forget_vocabulary()
    assert len(scorer.rank(confidences)) == len(scorer.genre_names) - 1  # the aliases stay in the config

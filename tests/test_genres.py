import numpy as np
import pytest

from tagger.features import FrontEnd
from tagger.genres import Calibration, GenreScorer, Taxonomy, logit
from tagger.model import ModelInfo, ModelSet


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
    # Rock is usually at 0.2, jazz at 0.01.
    calibration = Calibration({info.name: np.array([0.2, 0.01])})
    scorer = GenreScorer(taxonomy, calibration, [info])
    # Raw rock is still higher, but jazz is five times its usual level.
    ranked = scorer.genres({info.name: np.array([0.3, 0.05])})
    assert [g.genre for g in ranked] == ["Jazz", "Rock"]
    assert ranked[0].confidence > 0.3 > ranked[1].confidence
    # At their usual levels both sit at the prior.
    typical = scorer.genres({info.name: np.array([0.2, 0.01])})
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
    msd, mtt = two_tag_model("MSD_musicnn"), ModelInfo("MTT_musicnn", "test", ("rock", "opera"), FrontEnd(), "", "1" * 64, "test")
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

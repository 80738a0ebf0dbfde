from pathlib import Path

import numpy as np
import pytest

from tagger.model import CPU, CUDA, ModelSet, choose_providers

GOLDEN = Path(__file__).parent / "data" / "musicnn_golden.npz"


@pytest.fixture(scope="module")
def models():
    return ModelSet(device="cpu", threads=1, precision="fp32")


def test_onnx_reproduces_tensorflow_outputs(models):
    golden = np.load(GOLDEN)
    outputs = models.run(golden["log_mel"])
    assert set(outputs) == {"MSD_musicnn", "MTT_musicnn"}
    for name, output in outputs.items():
        np.testing.assert_allclose(output.probabilities, golden[f"{name}/tag_probabilities"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(output.embeddings, golden[f"{name}/penultimate"], atol=1e-4, rtol=1e-4)
        assert output.embeddings.shape == (len(golden["log_mel"]), 200)


def test_int8_models_stay_close_to_tensorflow():
    golden = np.load(GOLDEN)
    int8 = ModelSet(device="cpu", threads=1, precision="int8")
    assert int8.precision == "int8"
    for info in int8.infos:
        assert info.version.endswith("+int8-timbral")
        assert info.calibration_version == "musicnn-0.1.0+onnx1"
    for name, output in int8.run(golden["log_mel"]).items():
        reference = golden[f"{name}/tag_probabilities"]
        assert np.abs(output.probabilities - reference).max() < 0.03
        for ours, theirs in zip(output.probabilities, reference):
            assert set(np.argsort(-ours)[:3]) == set(np.argsort(-theirs)[:3])


def test_cpu_defaults_to_int8():
    assert ModelSet(device="cpu", threads=1).precision == "int8"


def test_models_carry_labels_and_front_end(models):
    msd, mtt = models.infos
    assert len(msd.labels) == len(mtt.labels) == 50
    assert "jazz" in msd.labels and "opera" in mtt.labels
    assert msd.front_end.sample_rate == 16000 and msd.front_end.patch_frames == 187
    assert msd.version.startswith("musicnn-0.1.0")
    assert len(msd.sha256) == 64 and msd.sha256 != mtt.sha256


def test_provider_choice():
    assert choose_providers("auto", [CPU]) == [CPU]
    assert choose_providers("auto", [CUDA, CPU]) == [CUDA, CPU]
    assert choose_providers("cpu", [CUDA, CPU]) == [CPU]
    assert choose_providers("gpu", [CPU]) == [CPU]  # falls back with a warning
    with pytest.raises(ValueError):
        choose_providers("tpu", [CPU])


def test_cpu_session_reports_its_provider(models):
    assert models.provider == CPU

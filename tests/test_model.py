from pathlib import Path

import numpy as np
import pytest

from tagger.model import CPU, CUDA, ModelSet, choose_providers

GOLDEN = Path(__file__).parent / "data" / "musicnn_golden.npz"


@pytest.fixture(scope="module")
def models():
    return ModelSet(device="cpu", threads=1)


def test_onnx_reproduces_tensorflow_outputs(models):
    golden = np.load(GOLDEN)
    outputs = models.run(golden["log_mel"])
    assert set(outputs) == {"MSD_musicnn", "MTT_musicnn"}
    for name, output in outputs.items():
        np.testing.assert_allclose(output.probabilities, golden[f"{name}/tag_probabilities"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(output.embeddings, golden[f"{name}/penultimate"], atol=1e-4, rtol=1e-4)
        assert output.embeddings.shape == (len(golden["log_mel"]), 200)


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

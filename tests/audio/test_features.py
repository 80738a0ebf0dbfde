import librosa
import numpy as np
import pytest
from support.audio import tone

from tagger.audio.features import FrontEnd, LogMel, compress, mel_filter_bank


@pytest.fixture(scope="module")
def log_mel():
    return LogMel(FrontEnd())


def test_mel_filter_bank_matches_librosa():
    fe = FrontEnd()
    reference = librosa.filters.mel(sr=fe.sample_rate, n_fft=fe.n_fft, n_mels=fe.n_mels, fmin=fe.fmin, fmax=fe.fmax)
    np.testing.assert_allclose(mel_filter_bank(fe), reference, rtol=1e-5, atol=1e-8)


def test_mel_power_matches_librosa_reference(log_mel):
    fe = log_mel.front_end
    audio = tone(6.0, rate=16000, channels=1)[:, 0]
    # librosa centres frames by padding half a window; the excerpt stage decodes that
    # context instead, so the same padding is given to ours explicitly.
    padded = np.pad(audio, fe.n_fft // 2)
    ours = log_mel.mel_power(padded)
    reference = librosa.feature.melspectrogram(
        y=audio, sr=16000, n_fft=512, hop_length=256, n_mels=96, pad_mode="constant"
    ).T
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-6 * reference.max())


def test_log_mel_patches_match_musicnn_front_end(log_mel):
    fe = log_mel.front_end
    audio = tone(7.0, rate=16000, channels=1, freq=220.0)[:, 0]
    padded = np.pad(audio, fe.n_fft // 2)
    patches = log_mel.patches(padded, 2)
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, n_fft=512, hop_length=256, n_mels=96, pad_mode="constant").T
    expected = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)[: 2 * 187].reshape(2, 187, 96)
    assert patches.dtype == np.float32
    np.testing.assert_allclose(patches, expected, atol=2e-3)


def test_loud_audio_does_not_overflow_float16():
    # Mel power of a full-scale square wave reaches the thousands: 10000 * float16
    # would overflow to inf under numpy 2.
    mel = np.array([[1.0, 7.0, 5000.0]], np.float32)
    out = compress(mel)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1), rtol=1e-6)
    assert out[0, 2] > out[0, 1] > out[0, 0] > 0


def test_power_beyond_float16_is_held_finite():
    with np.errstate(over="raise"):
        out = compress(np.array([[1e5, 1e30]], np.float32))
    assert np.all(np.isfinite(out)) and out[0, 0] == out[0, 1]


def test_front_end_reads_model_metadata():
    fe = FrontEnd.from_metadata(
        '{"sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 96, '
        '"fmin": 0, "fmax": 8000, "patch_frames": 187}'
    )
    assert fe == FrontEnd()
    assert fe.patch_seconds == pytest.approx(2.992)

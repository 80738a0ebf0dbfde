"""The log-mel front end musicnn was trained on, computed with numpy.

It reproduces ``librosa.feature.melspectrogram(sr=16000, n_fft=512, hop_length=256,
n_mels=96)`` (power 2, periodic Hann window, Slaney mel scale and norm, 0–8 kHz),
then musicnn's compression ``log10(10000 * float16(mel) + 1)``. Frames are taken
without centring: the excerpt stage already decodes the half window of context that
centring would pad in, so a patch is the same wherever the audio came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class FrontEnd:
    """The log-mel front end a model was trained with: sample rate, FFT, hop, bands and patch length."""

    sample_rate: int = 16000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    fmin: float = 0.0
    fmax: float = 8000.0
    patch_frames: int = 187

    @classmethod
    def from_metadata(cls, text: str) -> FrontEnd:
        """Read the parameters that the conversion script stored in the ONNX file."""
        values = json.loads(text)
        return cls(
            sample_rate=int(values["sample_rate"]),
            n_fft=int(values["n_fft"]),
            hop_length=int(values["hop_length"]),
            n_mels=int(values["n_mels"]),
            fmin=float(values["fmin"]),
            fmax=float(values["fmax"]),
            patch_frames=int(values["patch_frames"]),
        )

    @property
    def patch_seconds(self) -> float:
        return self.patch_frames * self.hop_length / self.sample_rate


class LogMel:
    """Turns framed audio into log-mel patches; holds the window and filter bank."""

    def __init__(self, front_end: FrontEnd) -> None:
        self.front_end = front_end

    @cached_property
    def _window(self) -> np.ndarray:
        n = self.front_end.n_fft
        # Periodic Hann, as scipy.signal.get_window("hann", n) and librosa use.
        return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)

    @cached_property
    def _mel_basis(self) -> np.ndarray:
        return np.ascontiguousarray(mel_filter_bank(self.front_end).T)

    def mel_power(self, audio: np.ndarray) -> np.ndarray:
        """Mel power spectrogram ``[frames, n_mels]`` of uncentred frames of ``audio``."""
        fe = self.front_end
        frames = np.lib.stride_tricks.sliding_window_view(audio, fe.n_fft)[:: fe.hop_length]
        spectrum = np.fft.rfft(frames * self._window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        return power.astype(np.float32, copy=False) @ self._mel_basis

    def patches(self, audio: np.ndarray, n_patches: int) -> np.ndarray:
        """``[n_patches, patch_frames, n_mels]`` compressed log-mel patches."""
        mel = self.mel_power(audio)[: n_patches * self.front_end.patch_frames]
        return compress(mel).reshape(n_patches, self.front_end.patch_frames, self.front_end.n_mels)


def slaney_mel(hz: npt.ArrayLike) -> np.ndarray:
    """Slaney's mel scale (Auditory Toolbox): linear to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    linear = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step, linear)


def slaney_hz(mel: npt.ArrayLike) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * (200.0 / 3))


def mel_filter_bank(fe: FrontEnd) -> np.ndarray:
    """``[n_mels, n_fft // 2 + 1]`` triangular filters, equally spaced on Slaney's mel
    scale from fmin to fmax, each scaled to unit area (Slaney normalisation); the
    same bank as librosa.filters.mel's defaults, without importing librosa and scipy
    (1.6 s) on the way to the first result."""
    fft_hz = np.linspace(0.0, fe.sample_rate / 2, fe.n_fft // 2 + 1)
    edges_hz = slaney_hz(np.linspace(slaney_mel(fe.fmin), slaney_mel(fe.fmax), fe.n_mels + 2))
    widths = np.diff(edges_hz)
    offsets = edges_hz[:, None] - fft_hz[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    bank = np.maximum(0.0, np.minimum(rising, falling))
    bank *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return bank.astype(np.float32)


def compress(mel: np.ndarray) -> np.ndarray:
    """musicnn's ``log10(10000 * float16(mel) + 1)``.

    The float16 cast is part of what the model was trained on. Under numpy 2,
    ``10000 * float16_array`` stays float16 and overflows to inf once the mel power
    passes 6.55, so the value goes back to float32 before the multiply. Power beyond
    float16's range (clipped or fuzzed files) is held at its largest value rather
    than becoming inf, which the models would turn into NaN.
    """
    held = np.minimum(mel, np.finfo(np.float16).max)
    return np.log10(10000.0 * held.astype(np.float16).astype(np.float32) + 1.0, dtype=np.float32)

"""Generated audio: a chord that looks like music to the front end, and AAC in MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def tone(seconds: float, rate: int = 44100, channels: int = 2, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    """A chord with a little noise: enough spectral content to look like music to the front end."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    mono = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 1.25, 1.5, 2))
    mono = level * mono / 2.1 + 0.01 * rng.standard_normal(len(t))
    # A slow tremolo so successive patches differ.
    mono *= 0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def make_m4a(path: Path, seconds: float = 3.0, title: str | None = None, rate: int = 44100) -> Path:
    """AAC in an MP4 container, encoded with PyAV (the test is skipped without it)."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        if title:
            container.metadata["title"] = title
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        signal = tone(seconds, rate, channels=1)[:, 0]
        for start in range(0, len(signal), 1024):
            frame = av.AudioFrame.from_ndarray(np.stack([signal[start:start + 1024]] * 2), format="fltp",
                                               layout="stereo")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path

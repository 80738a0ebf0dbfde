"""Playing an analysed segment: decoded by the core's own decoders and handed to a QAudioSink.

The app plays what it analysed through the decoders that analysed it (libsndfile, then
PyAV's FFmpeg), so it needs none of QtMultimedia's media backends: the FFmpeg plugin
that QMediaPlayer loads, with the QtQuick it links, was a fifth of the downloadable app.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soxr
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal, Slot

from tagger.analysis.analyzer import Segment
from tagger.audio.decode import AudioError, open_audio
from ui.setup_check import playback_problem_here

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioDevice, QAudioFormat

NO_SOUND_OUTPUT = ("Playback is unavailable: no sound output was found. Start the sound server "
                   "(PipeWire or PulseAudio) or connect a sound device.")

# What one sample of each QAudioFormat.SampleFormat is, by the format's name, and the
# scale from [-1, 1]: unsigned 8-bit audio is offset by 128.
SAMPLE_TYPES = {"Float": (np.dtype("<f4"), 1.0, 0.0), "Int16": (np.dtype("<i2"), 32767.0, 0.0),
                "Int32": (np.dtype("<i4"), 2147483647.0, 0.0), "UInt8": (np.dtype("u1"), 127.0, 128.0)}


def device_pcm(samples: np.ndarray, rate: int, device_rate: int, channels: int, sample_format: str) -> bytes:
    """Mono float ``samples`` at ``rate`` as interleaved PCM that a sound device takes:
    resampled to ``device_rate``, the same sound on each of ``channels``, clipped to full
    scale and stored as ``sample_format`` (a QAudioFormat.SampleFormat's name)."""
    dtype, scale, offset = SAMPLE_TYPES[sample_format]
    mono = np.asarray(samples, np.float32)
    if device_rate != rate and len(mono):
        mono = soxr.resample(mono, rate, device_rate).astype(np.float32)
    frames = np.repeat(np.clip(mono, -1.0, 1.0)[:, None], channels, axis=1)
    if dtype.kind == "f":
        return frames.astype(dtype).tobytes()
    return np.round(frames.astype(np.float64) * scale + offset).astype(dtype).tobytes()


class ExcerptPlayer(QObject):
    """Plays one analysed segment of a file, in mono as it was analysed, where QtMultimedia
    loads and a sound output exists. Decoding runs on a thread of its own; the sink starts
    on the GUI thread when the samples arrive."""

    decoded = Signal(int, object, int)  # which play asked, the mono samples, their rate
    failed = Signal(str)  # why the segment cannot play, for a person
    _undecodable = Signal(int, str)  # which play asked, and why its file would not decode

    def __init__(self) -> None:
        super().__init__()
        self._missing: str | None = None
        self.devices = None  # QMediaDevices, whose audioOutputsChanged says when a sound output comes or goes
        self._sink = None
        self._buffer: QBuffer | None = None
        self._request = 0  # the latest play's number: the samples of an earlier one arrive too late to play
        try:
            from PySide6.QtMultimedia import QMediaDevices
        except ImportError as e:  # QtMultimedia needs system audio libraries (PulseAudio, ALSA)
            # The same words, and install command, that the terminal got at start-up.
            note = playback_problem_here() or f"playback is unavailable: {e}"
            self._missing = note[:1].upper() + note[1:]
            return
        self.devices = QMediaDevices()
        self.decoded.connect(self._start)
        self._undecodable.connect(self._report)

    @property
    def unavailable(self) -> str | None:
        """Why nothing can play now, or None."""
        if self._missing is not None:
            return self._missing
        from PySide6.QtMultimedia import QMediaDevices

        # Without one (a sound library but no sound server), a play would do nothing a person could see.
        return None if QMediaDevices.audioOutputs() else NO_SOUND_OUTPUT

    @property
    def playing(self) -> bool:
        """Whether a sink holds samples to play; False once stopped."""
        return self._sink is not None

    def play(self, path: Path, segment: Segment) -> None:
        """Stop what plays and start decoding ``segment`` of ``path``; it plays when decoded."""
        if self.unavailable is not None:  # a click on the timeline, too, asks to play
            return
        self.stop()  # which also numbers this play
        threading.Thread(target=self._decode, args=(self._request, path, segment), daemon=True,
                         name="excerpt decoder").start()

    def stop(self) -> None:
        """Stop playing, and let a decode under way come to nothing."""
        self._request += 1
        if self._sink is not None:
            self._sink.stop()
            self._sink = None
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None

    def _decode(self, request: int, path: Path, segment: Segment) -> None:
        try:
            reader = open_audio(path)
            try:
                samples = reader.read(segment.start_s, segment.end_s - segment.start_s)
                rate = reader.info.sample_rate
            finally:
                reader.close()
        except AudioError as e:
            self._undecodable.emit(request, f"Cannot play {path.name}: {e}")
            return
        self.decoded.emit(request, samples, rate)

    def _report(self, request: int, reason: str) -> None:
        if request == self._request:  # a newer play's file is what the person waits for
            self.failed.emit(reason)

    def _start(self, request: int, samples: np.ndarray, rate: int) -> None:
        from PySide6.QtMultimedia import QAudioSink, QMediaDevices

        if request != self._request or self.unavailable is not None:
            return
        device = QMediaDevices.defaultAudioOutput()
        audio_format = sink_format(device, rate)
        if audio_format is None:
            self.failed.emit(f"Cannot play: the sound output {device.description()!r} takes no sample format "
                             "Qt knows")
            return
        pcm = device_pcm(samples, rate, audio_format.sampleRate(), audio_format.channelCount(),
                         audio_format.sampleFormat().name)
        self._buffer = QBuffer()
        self._buffer.setData(QByteArray(pcm))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._sink = QAudioSink(device, audio_format)
        self._sink.stateChanged.connect(self._release_when_drained)
        self._sink.start(self._buffer)

    @Slot()
    def _release_when_drained(self) -> None:
        # Idle: the segment has played out; stopping hands the sound server its stream back.
        # (By the state's name: the enum is QAudio.State before Qt 6.7 and QtAudio.State after.)
        if self._sink is not None and self._sink.state().name == "IdleState":
            self.stop()


def sink_format(device: QAudioDevice, rate: int) -> QAudioFormat | None:
    """Mono float at the file's ``rate`` where ``device`` takes it, else the device's own
    preferred format; None where it names none that device_pcm can make."""
    from PySide6.QtMultimedia import QAudioFormat

    wanted = QAudioFormat()
    wanted.setSampleRate(rate)
    wanted.setChannelCount(1)
    wanted.setSampleFormat(QAudioFormat.SampleFormat.Float)
    if device.isFormatSupported(wanted):
        return wanted
    preferred = device.preferredFormat()
    known = preferred.sampleFormat().name in SAMPLE_TYPES and preferred.channelCount() > 0
    return preferred if known and preferred.sampleRate() > 0 else None

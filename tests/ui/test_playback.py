"""Playing an analysed segment: decoded by the core's decoders, converted for the sound
device, and handed to a QAudioSink; a stale or failed decode plays nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtMultimedia
from PySide6.QtCore import QObject, Signal
from PySide6.QtMultimedia import QAudioFormat, QMediaDevices, QtAudio

from tagger.analysis.analyzer import Segment
from tagger.audio.decode import open_audio
from tagger.resources import resource_dir
from ui import playback
from ui.playback import ExcerptPlayer, device_pcm

SAMPLE = resource_dir() / "samples" / "mccracken-awakening.ogg"
SEGMENT = Segment(12.0, 15.0, [])


def test_float_mono_at_the_files_rate_passes_through_unchanged():
    samples = np.linspace(-1, 1, 101, dtype=np.float32)
    assert np.frombuffer(device_pcm(samples, 44100, 44100, 1, "Float"), "<f4").tolist() == samples.tolist()


def test_each_channel_gets_the_same_sound_interleaved():
    pcm = np.frombuffer(device_pcm(np.array([0.25, -0.5], np.float32), 8000, 8000, 2, "Float"), "<f4")
    assert pcm.tolist() == [0.25, 0.25, -0.5, -0.5]


def test_integer_formats_scale_to_full_range_and_clip_what_lies_beyond():
    samples = np.array([0.0, 0.5, -1.0, 1.0, 3.0, -3.0], np.float32)
    assert np.frombuffer(device_pcm(samples, 8000, 8000, 1, "Int16"), "<i2").tolist() == [
        0, 16384, -32767, 32767, 32767, -32767]
    assert np.frombuffer(device_pcm(samples, 8000, 8000, 1, "UInt8"), "u1").tolist() == [
        128, 192, 1, 255, 255, 1]
    assert np.frombuffer(device_pcm(samples, 8000, 8000, 1, "Int32"), "<i4")[3] == 2147483647


def test_a_device_at_another_rate_gets_the_same_length_of_sound_at_its_rate():
    tone = np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100).astype(np.float32)
    pcm = np.frombuffer(device_pcm(tone, 44100, 48000, 1, "Float"), "<f4")
    assert len(pcm) == 48000
    peak = np.argmax(np.abs(np.fft.rfft(pcm)))  # 1 s at 48 kHz: bin n is n Hz
    assert peak == 440


class RecordedSink(QObject):
    """Stands in for QAudioSink where there may be no sound server: keeps what it was given."""

    started: list[tuple[QAudioFormat, bytes]] = []
    stateChanged = Signal()
    latest: RecordedSink | None = None

    def __init__(self, device, audio_format) -> None:
        super().__init__()
        self.audio_format = audio_format
        self.current = QtAudio.State.StoppedState
        RecordedSink.latest = self

    def start(self, source) -> None:
        RecordedSink.started.append((self.audio_format, bytes(source.data())))
        self.current = QtAudio.State.ActiveState

    def state(self):
        return self.current

    def stop(self) -> None:
        self.current = QtAudio.State.StoppedState


@pytest.fixture
def player(qtbot, monkeypatch):
    """A player that sees a sound output taking mono float at any rate, and whose sink records."""
    monkeypatch.setattr(QMediaDevices, "audioOutputs", staticmethod(lambda: ["speakers"]))
    monkeypatch.setattr(playback, "sink_format", lambda device, rate: mono_float(rate))
    monkeypatch.setattr(QtMultimedia, "QAudioSink", RecordedSink)
    monkeypatch.setattr(RecordedSink, "started", [])
    return ExcerptPlayer()


def mono_float(rate: int) -> QAudioFormat:
    audio_format = QAudioFormat()
    audio_format.setSampleRate(rate)
    audio_format.setChannelCount(1)
    audio_format.setSampleFormat(QAudioFormat.SampleFormat.Float)
    return audio_format


def test_the_sink_plays_the_segment_that_was_analysed(qtbot, player):
    with qtbot.waitSignal(player.decoded, timeout=10_000):
        player.play(SAMPLE, SEGMENT)
    [(audio_format, pcm)] = RecordedSink.started
    samples, rate = np.frombuffer(pcm, "<f4"), audio_format.sampleRate()
    reader = open_audio(SAMPLE)
    try:
        expected = reader.read(SEGMENT.start_s, SEGMENT.end_s - SEGMENT.start_s)
        assert rate == reader.info.sample_rate
    finally:
        reader.close()
    assert np.array_equal(samples, expected) and len(samples) == 3 * rate
    assert player.playing


def test_the_sound_servers_stream_is_released_once_the_segment_has_played(qtbot, player):
    with qtbot.waitSignal(player.decoded, timeout=10_000):
        player.play(SAMPLE, SEGMENT)
    sink = RecordedSink.latest
    sink.stateChanged.emit()  # still active: keeps playing
    assert player.playing
    sink.current = QtAudio.State.IdleState
    sink.stateChanged.emit()
    assert not player.playing and sink.current is QtAudio.State.StoppedState


def test_a_decode_that_arrives_after_stop_plays_nothing(qtbot, player):
    with qtbot.waitSignal(player.decoded, timeout=10_000):
        player.play(SAMPLE, SEGMENT)
        player.stop()  # before the event loop delivers the samples
    assert not player.playing and not RecordedSink.started


def test_only_the_latest_of_two_plays_reaches_the_sink(qtbot, player):
    with qtbot.waitSignals([player.decoded, player.decoded], timeout=10_000):
        player.play(SAMPLE, SEGMENT)
        player.play(SAMPLE, Segment(0.0, 1.0, []))
    [(audio_format, pcm)] = RecordedSink.started
    assert len(pcm) == 4 * audio_format.sampleRate()  # the second segment's one second of float32


def test_a_file_that_cannot_be_decoded_says_why_and_plays_nothing(qtbot, player, tmp_path):
    broken = tmp_path / "not audio.ogg"
    broken.write_bytes(b"OggS" + bytes(500))
    with qtbot.waitSignal(player.failed, timeout=10_000) as failed:
        player.play(broken, SEGMENT)
    assert failed.args[0].startswith("Cannot play not audio.ogg: ")
    assert not player.playing and not RecordedSink.started


def test_a_failure_that_a_newer_play_overtook_says_nothing(qtbot, player, tmp_path):
    failures = []
    player.failed.connect(failures.append)
    with qtbot.waitSignals([player._undecodable, player.decoded], timeout=10_000):
        player.play(tmp_path / "moved away.ogg", SEGMENT)
        player.play(SAMPLE, SEGMENT)  # before the event loop delivers the first one's failure
    assert failures == [] and len(RecordedSink.started) == 1


def test_the_panel_shows_why_a_segment_cannot_play(qtbot, player, tmp_path):
    from ui.detail import AnalysisView

    view = AnalysisView(player)
    qtbot.addWidget(view)
    with qtbot.waitSignal(player.failed, timeout=10_000):
        player.play(tmp_path / "moved away.ogg", SEGMENT)
    assert view.playback_note.text().startswith("Cannot play moved away.ogg: ")
    assert not view.playback_note.isHidden()


def test_a_segment_reaches_the_sound_server(qtbot):
    player = ExcerptPlayer()
    if player.unavailable:
        pytest.skip(f"no sound output here: {player.unavailable}")
    player.play(SAMPLE, SEGMENT)
    qtbot.waitUntil(lambda: player._sink is not None and player._sink.processedUSecs() > 100_000, timeout=10_000)
    qtbot.waitUntil(lambda: not player.playing, timeout=10_000)  # released once the 3 s have played

import numpy as np
import pytest
import soundfile as sf

from tagger.audio import AudioError, open_audio

from conftest import tone


def dominant_frequency(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * rate / len(audio))


@pytest.mark.parametrize(
    "name, rate, channels, subtype",
    [
        ("pcm16-8k-mono.wav", 8000, 1, "PCM_16"),
        ("pcm24-48k-stereo.wav", 48000, 2, "PCM_24"),
        ("pcm32-96k-6ch.wav", 96000, 6, "PCM_32"),
        ("float-192k-stereo.wav", 192000, 2, "FLOAT"),
        ("u8-22k-mono.wav", 22050, 1, "PCM_U8"),
        ("pcm24-44k.flac", 44100, 2, "PCM_24"),
        ("vorbis.ogg", 44100, 2, "VORBIS"),
        ("mp3-44k.mp3", 44100, 2, "MPEG_LAYER_III"),
        ("aiff-16.aiff", 44100, 2, "PCM_16"),
    ],
)
def test_reads_span_as_mono_at_native_rate(tmp_path, name, rate, channels, subtype):
    path = tmp_path / name
    t = np.arange(4 * rate) / rate
    freq = np.where(t < 2, 440.0, 880.0)  # the second half is an octave higher
    signal = 0.5 * np.sin(2 * np.pi * np.cumsum(freq) / rate)
    sf.write(path, np.repeat(signal[:, None], channels, axis=1), rate, subtype=subtype)
    reader = open_audio(path)
    try:
        assert reader.info.sample_rate == rate and reader.info.channels == channels
        assert reader.info.duration_s == pytest.approx(4.0, abs=0.1)
        span = reader.read(2.5, 1.0)
    finally:
        reader.close()
    assert span.ndim == 1 and span.dtype == np.float32
    assert len(span) == pytest.approx(rate, rel=0.01)
    assert dominant_frequency(span, rate) == pytest.approx(880.0, rel=0.02)


def test_ffmpeg_reads_what_libsndfile_cannot(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "aac.m4a"
    rate = 44100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        t = np.arange(5 * rate) / rate
        signal = (0.4 * np.sin(2 * np.pi * np.where(t < 2.5, 440.0, 660.0) * t)).astype(np.float32)
        for start in range(0, len(signal), 1024):
            chunk = np.stack([signal[start:start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    reader = open_audio(path)
    try:
        assert reader.info.decoder == "ffmpeg"
        assert reader.info.duration_s == pytest.approx(5.0, abs=0.1)
        span = reader.read(3.5, 1.0)
        # A read after another starts where it is asked to, not where the last one stopped.
        earlier = reader.read(0.0, 1.0)
    finally:
        reader.close()
    assert len(span) == pytest.approx(rate, rel=0.01)
    assert dominant_frequency(span, rate) == pytest.approx(660.0, rel=0.02)
    assert dominant_frequency(earlier, rate) == pytest.approx(440.0, rel=0.02)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        open_audio(tmp_path / "nothing.flac")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty file \(0 bytes\)"):
        open_audio(path)


def test_text_renamed_mp3(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("These are my shopping notes, not a song.\n" * 50)
    with pytest.raises(AudioError, match="not a decodable audio file"):
        open_audio(path)


def test_a_bare_tag_without_audio_is_named_as_such(tmp_path):
    from mutagen.id3 import ID3, TIT2

    path = tmp_path / "tag-only.mp3"
    path.write_bytes(b"")
    tag = ID3()
    tag.add(TIT2(text=["no audio here"]))
    tag.save(path)
    with pytest.raises(AudioError, match="no audio stream found") as raised:
        open_audio(path)
    assert "does not exist" not in str(raised.value)


def test_truncated_flac_is_reported(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, tone(20.0), 44100, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(AudioError, match="truncated|corrupt"):
        reader = open_audio(path)
        try:
            reader.read(15.0, 3.0)
        finally:
            reader.close()


def test_file_without_read_permission(shared_tmp):
    from conftest import run_unprivileged

    path = shared_tmp / "private.flac"
    sf.write(path, tone(1.0), 44100)
    path.chmod(0o000)

    def open_it():
        try:
            open_audio(path)
        except AudioError as e:
            return str(e)
        return "opened"

    assert run_unprivileged(open_it) == "permission denied"

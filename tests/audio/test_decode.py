import re
import time

import numpy as np
import pytest
import soundfile as sf
from support.audio import make_m4a, tone

from tagger.audio.decode import AudioError, SoundfileReader, open_audio


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
    from support.privileges import unprivileged_refusal

    path = shared_tmp / "private.flac"
    sf.write(path, tone(1.0), 44100)
    path.chmod(0o000)
    assert unprivileged_refusal(lambda: open_audio(path), AudioError) == "permission denied"


# Decoders fail on broken files in ways nobody listed: every failure must come out as
# an AudioError that names the decoder and the kind of failure, never as another type.

UNFORESEEN = [
    AttributeError("'NoneType' object has no attribute 'sample_rate'"),
    UnicodeDecodeError("utf-8", b"\x97", 0, 1, "invalid start byte"),
    RuntimeError("something inside the decoder broke"),
    KeyError("codec"),
    MemoryError(),
]


@pytest.mark.parametrize("error", UNFORESEEN, ids=lambda e: type(e).__name__)
def test_any_exception_opening_a_file_is_an_audio_error(tmp_path, monkeypatch, error):
    import av
    import soundfile

    path = tmp_path / "fine.wav"
    sf.write(path, tone(1.0), 44100)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(soundfile, "SoundFile", fail)
    monkeypatch.setattr(av, "open", fail)
    with pytest.raises(AudioError) as raised:
        open_audio(path)
    message = str(raised.value)
    assert message.startswith("not a decodable audio file (libsndfile: ")
    assert "; FFmpeg: " in message and "Traceback" not in message and "\n" not in message
    if not isinstance(error, (RuntimeError, MemoryError)):
        assert f"unexpected {type(error).__name__} while opening" in message


@pytest.mark.parametrize("error", UNFORESEEN[:3], ids=lambda e: type(e).__name__)
def test_any_exception_reading_stream_information_is_an_audio_error(tmp_path, monkeypatch, error):
    import av
    import soundfile

    path = tmp_path / "fine.wav"
    sf.write(path, tone(1.0), 44100)
    closed = []

    class BrokenInfo:
        def __init__(self, *args, **kwargs):
            pass

        @property
        def samplerate(self):
            raise error

        def close(self):
            closed.append(self)

    class NoCodecStream:
        codec_context = None

    class Container:
        class streams:
            audio = [NoCodecStream()]

        def close(self):
            closed.append(self)

    monkeypatch.setattr(soundfile, "SoundFile", BrokenInfo)
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: Container())
    with pytest.raises(AudioError) as raised:
        open_audio(path)
    assert "while reading the stream information" in str(raised.value) or "libsndfile: something" in str(raised.value)
    assert "FFmpeg: no decoder for its audio codec" in str(raised.value)
    assert len(closed) == 2  # both files closed again


def test_a_stream_ffmpeg_has_no_decoder_for(tmp_path):
    """PyAV hands back such a stream without a codec context (it used to raise AttributeError)."""
    import struct

    path = tmp_path / "unknown-codec.wav"
    sf.write(path, tone(1.0), 44100, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 8: fmt + 10] = struct.pack("<H", 0x7777)  # a WAVE format tag nobody assigned
    path.write_bytes(bytes(data))
    with pytest.raises(AudioError, match="FFmpeg: no decoder for its audio codec"):
        open_audio(path)


def test_tags_that_are_not_utf8_do_not_stop_decoding(tmp_path):
    """PyAV decodes metadata strictly as UTF-8 (a UnicodeDecodeError escaped before)."""
    path = make_m4a(tmp_path / "latin1-title.m4a", title="PLACEHOLDERTITLE")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"PLACEHOLDERTITLE", b"Caf\xe9 \xff\xfe del mar!!"))
    reader = open_audio(path)
    try:
        assert reader.info.decoder == "ffmpeg"
        assert len(reader.read(1.0, 1.0)) == pytest.approx(44100, rel=0.01)
    finally:
        reader.close()


@pytest.mark.parametrize("error", UNFORESEEN[:4], ids=lambda e: type(e).__name__)
def test_any_exception_while_reading_is_an_audio_error(tmp_path, error):
    path = tmp_path / "fine.flac"
    sf.write(path, tone(3.0), 44100)
    m4a = make_m4a(tmp_path / "fine.m4a")

    class Failing:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def read(self, *args, **kwargs):
            raise error

        def decode(self, *args, **kwargs):
            raise error

    for file, decoder in [(path, "libsndfile"), (m4a, "FFmpeg")]:
        reader = open_audio(file)
        attribute = "_file" if decoder == "libsndfile" else "_container"
        real = getattr(reader, attribute)
        setattr(reader, attribute, Failing(real))
        with pytest.raises(AudioError) as raised:
            reader.read(1.0, 1.0)
        message = str(raised.value)
        assert message.startswith(f"decoding failed at 1.0 s of 3.0 s ({decoder}: ")
        if not isinstance(error, RuntimeError):
            assert f"unexpected {type(error).__name__} while decoding" in message
        real.close()


def test_closing_never_raises(tmp_path):
    path = tmp_path / "fine.flac"
    sf.write(path, tone(1.0), 44100)
    m4a = make_m4a(tmp_path / "fine.m4a")

    class Unclosable:
        def close(self):
            raise RuntimeError("close failed")

    for file, attribute in [(path, "_file"), (m4a, "_container")]:
        reader = open_audio(file)
        getattr(reader, attribute).close()
        setattr(reader, attribute, Unclosable())
        reader.close()


# Messages: a broken header must not make them print nonsense lengths and positions.

def test_read_errors_leave_out_nonsense_positions():
    from tagger.audio.decode import AudioInfo, check_complete, read_error

    sane = AudioInfo(44100, 2, 30.0, "FLAC/PCM_16", "libsndfile")
    assert str(read_error(sane, 12.0, RuntimeError("Internal psf_fseek() failed."))) == (
        "decoding failed at 12.0 s of 30.0 s (libsndfile: Internal psf_fseek() failed.); "
        "the file may be truncated or corrupt"
    )
    for duration in (384307168202282.3, float("inf"), float("nan"), -5.0):
        broken = AudioInfo(24000, 2, duration, "MP3/MPEG_LAYER_III", "libsndfile")
        message = str(read_error(broken, duration / 6, RuntimeError("Seek attempted on unseekable file type.")))
        assert message == ("decoding failed (libsndfile: Seek attempted on unseekable file type.); "
                           "the file may be truncated or corrupt")
        if duration > 0:  # a negative length promises no audio, so none is missing
            with pytest.raises(AudioError) as raised:
                check_complete(broken, 10.0, 3.0, 0.5)
            assert str(raised.value) == "the file is truncated or its header is corrupt: its audio stops early"
    ffmpeg = AudioInfo(44100, 2, 10.0, "aac", "ffmpeg")
    refused = PermissionError(1, "Operation not permitted")
    assert "(FFmpeg: the decoder gave up)" in str(read_error(ffmpeg, 0.0, refused))


def set_flac_total_samples(path, total):
    """Rewrite the 36-bit sample count of a FLAC file's STREAMINFO (0 means unknown)."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    word = int.from_bytes(data[18:26], "big")
    word = (word & ~((1 << 36) - 1)) | total
    data[18:26] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))


def open_and_read_middle(path):
    reader = open_audio(path)
    try:
        reader.read(reader.info.duration_s / 2, 3.0)
    finally:
        reader.close()


def test_an_unknown_length_gives_a_meaningful_message(tmp_path):
    """libsndfile reports an unknown length as 2**63 frames: "decoding failed at
    104573379102661.4 s of 209146758205323.7 s" before."""
    path = tmp_path / "unknown-length.flac"
    sf.write(path, tone(5.0), 44100, subtype="PCM_16")
    set_flac_total_samples(path, 0)
    with pytest.raises(AudioError) as raised:
        open_and_read_middle(path)
    message = str(raised.value)
    assert "unknown or impossible length" in message
    assert not re.search(r"\d{7,}", message)


def test_a_length_the_file_cannot_hold_is_named(tmp_path):
    path = tmp_path / "two-days.flac"
    sf.write(path, tone(1.0, rate=8000, channels=1), 8000, subtype="PCM_16")
    set_flac_total_samples(path, 2 * 86400 * 8000)  # two days, in a file of a few kB
    with pytest.raises(AudioError) as raised:
        open_and_read_middle(path)
    size = path.stat().st_size
    assert f"its header claims 172800.0 s, more than its {size:,} bytes can hold" in str(raised.value)


FILTER_SCRIPT = r"""
import os, sys
from tagger.audio.decode import DecoderNoteFilter

notes = DecoderNoteFilter()
notes.start()
sys.stderr.write("ours 1\n")
os.write(2, b"Note: Trying to resync...\n")
os.write(2, b"[src/libmpg123/parse.c:do_readahead():1083] warning: Cannot read next header\n")
os.write(2, b"Warn")  # a note that arrives in pieces
os.write(2, b"ing: Xing stream size off by more than 1%\n")
os.write(2, b"a C library's line that is no note\n")
sys.stderr.write("ours 2\n")
os.write(2, b"[unfinished")  # held back, as it might be a note, until the end
notes.stop()
sys.stderr.write(" line\nours 3\n")
print(notes.dropped)
"""


def test_the_decoder_note_filter_drops_only_notes_and_keeps_our_order():
    import subprocess
    import sys

    from support.paths import REPO

    result = subprocess.run([sys.executable, "-c", FILTER_SCRIPT], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3\n"
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("ours")] == ["ours 1", "ours 2", "ours 3"]
    # Lines from C take another path, so only their own order is kept.
    assert sorted(lines) == sorted(["ours 1", "ours 2", "ours 3", "a C library's line that is no note",
                                    "[unfinished line"])
    assert lines[-2:] == ["[unfinished line", "ours 3"]


# A real decode of a damaged MP3, in a worker thread as the app does it: mpg123 (inside
# libsndfile) writes "Note: Illegal Audio-MPEG-Header ...", "Note: Trying to resync..." and
# "Note: Skipped N bytes in input." from C to descriptor 2. In a subprocess, as the filter
# takes over the process's descriptor 2.
DECODE_SCRIPT = r"""
import sys, threading
from tagger.audio import decode as audio
if sys.argv[2] == "verbose":
    audio.show_decoder_notes(True)
notes = audio.DecoderNoteFilter()
notes.start()
sys.stderr.write("ours before\n")


def decode():
    reader = audio.open_audio(sys.argv[1])
    try:
        length = reader.info.duration_s
        reader.read(0.0, length)
    except audio.AudioError as e:
        sys.stderr.write(f"ours: {e}\n")
    finally:
        reader.close()


worker = threading.Thread(target=decode)
worker.start()
worker.join()
notes.stop()
sys.stderr.write("ours after\n")
"""
MPG123_NOTES = ("Note: Illegal Audio-MPEG-Header", "Note: Trying to resync", "Note: Skipped", "Warning: ", "[src/")


def damaged_mp3(make_audio):
    """An MP3 with noise over three stretches of its frames: mpg123 resyncs three times and says so."""
    path = make_audio("damaged.mp3", seconds=12.0)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(3)
    for fraction in (0.25, 0.5, 0.75):
        at = int(len(data) * fraction)
        data[at: at + 400] = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def decode_in_subprocess(path, mode):
    import subprocess
    import sys

    from support.paths import REPO

    result = subprocess.run([sys.executable, "-c", DECODE_SCRIPT, str(path), mode], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_a_damaged_mp3_decoded_in_a_thread_leaves_no_decoder_notes(make_audio):
    path = damaged_mp3(make_audio)
    quiet = decode_in_subprocess(path, "quiet")
    assert not [line for line in quiet.splitlines() if line.startswith(MPG123_NOTES)], quiet
    assert quiet.splitlines()[0] == "ours before" and quiet.splitlines()[-1] == "ours after"
    verbose = decode_in_subprocess(path, "verbose")
    # The same decode does make mpg123 talk, and the switch lets it through.
    assert "Note: Illegal Audio-MPEG-Header" in verbose and "Note: Trying to resync" in verbose
    assert "Note: Skipped" in verbose


@pytest.mark.shared
def test_a_real_damaged_mp3_leaves_no_decoder_notes(tmp_path):
    """A real track with noise over three stretches, as a bad download or disk leaves it."""
    from support.paths import SHARED_MUSIC

    data = bytearray((SHARED_MUSIC / "asc-music" / "frontiers.mp3").read_bytes())
    rng = np.random.default_rng(7)
    for fraction in (0.2, 0.5, 0.8):
        at = int(len(data) * fraction)
        data[at: at + 400] = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    path = tmp_path / "frontiers-damaged.mp3"
    path.write_bytes(bytes(data))
    quiet = decode_in_subprocess(path, "quiet")
    assert not [line for line in quiet.splitlines() if line.startswith(MPG123_NOTES)], quiet
    assert quiet.splitlines() == ["ours before", "ours after"]
    assert "Note: Illegal Audio-MPEG-Header" in decode_in_subprocess(path, "verbose")


def test_the_verbose_switch_reaches_a_filter_already_running():
    from tagger.audio import decode as audio
    notes = audio.DecoderNoteFilter()
    try:
        assert notes._drop(b"Note: Trying to resync...")
        audio.show_decoder_notes(True)
        assert audio.decoder_notes_shown() and not notes._drop(b"Note: Trying to resync...")
    finally:
        audio.show_decoder_notes(False)
    assert notes.dropped == 1


class SlowSeeks:
    """libsndfile's handle, but every seek scans from the start as it does in an Ogg
    Vorbis file with a negative granule position: 1 ms per 10,000 frames."""

    def __init__(self, handle) -> None:
        self._handle = handle
        self.seeks: list[int] = []

    def seek(self, frame: int) -> int:
        self.seeks.append(frame)
        time.sleep(frame / 1e7)
        return self._handle.seek(frame)

    def __getattr__(self, name):
        return getattr(self._handle, name)


def test_a_file_that_seeks_slowly_is_read_forward_with_the_same_samples(make_audio):
    path = make_audio("song.flac", seconds=60.0, rate=44100)
    expected = SoundfileReader(path)
    slow = SoundfileReader(path)
    slow._file = SlowSeeks(slow._file)
    starts = [5.0, 20.0, 35.5, 50.25]
    for start in starts:
        assert np.array_equal(slow.read(start, 3.0), expected.read(start, 3.0))
    # The first seek gave it away; the reads after it went forward without seeking.
    assert slow._file.seeks == [round(5.0 * 44100)]
    assert np.array_equal(slow.read(10.0, 3.0), expected.read(10.0, 3.0))  # behind: it seeks
    assert slow._file.seeks[-1] == round(10.0 * 44100)
    fast = SoundfileReader(path)
    for start in starts:
        fast.read(start, 3.0)
    assert not fast._slow_seeks


@pytest.mark.shared
def test_the_shared_ogg_files_that_seek_slowly_are_read_forward_exactly():
    from support.paths import SHARED_MUSIC

    path = SHARED_MUSIC / "hyperrogue-music" / "hr-savino-caribbean.ogg"
    forward = SoundfileReader(path)
    starts = [6.0, 20.0, 40.0, 50.0]
    spans = [forward.read(start, 3.0) for start in starts]
    assert forward._slow_seeks
    for start, span in zip(starts, spans):
        assert np.array_equal(span, SoundfileReader(path).read(start, 3.0))

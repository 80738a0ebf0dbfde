"""Decoding: open an audio file and read mono spans of it at its own sample rate.

libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis, Opus, MP3 and AIFF and
seeks in all of them cheaply. FFmpeg (through PyAV) reads what libsndfile cannot:
M4A/AAC/ALAC, WMA, APE, WavPack and others. Both readers only decode the spans they
are asked for, so analysing a few seconds of an hour-long file stays cheap.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


class AudioError(Exception):
    """A file that cannot be analysed, with a message meant for the user."""


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    duration_s: float
    codec: str
    decoder: str


class AudioReader(Protocol):
    info: AudioInfo

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Mono float32 samples at ``info.sample_rate``; shorter only at the end of the file."""

    def close(self) -> None: ...


# A header may promise a little more audio than the stream holds (VBR MP3 estimates,
# encoder padding); more than this missing means the file was cut short.
TRUNCATION_TOLERANCE_S = 1.0


def open_audio(path: str | os.PathLike[str]) -> AudioReader:
    """Open ``path`` with the first decoder that accepts it, or raise AudioError."""
    path = Path(path)
    check_readable_file(path)
    try:
        return SoundfileReader(path)
    except AudioError as soundfile_error:
        try:
            return PyAVReader(path)
        except AudioError as ffmpeg_error:
            raise AudioError(
                f"not a decodable audio file (libsndfile: {soundfile_error}; FFmpeg: {ffmpeg_error})"
            ) from None


def check_readable_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioError("no such file") from None
    except PermissionError:
        raise AudioError("permission denied") from None
    except OSError as e:
        raise AudioError(os_error_message(e)) from None
    if not path.is_file():
        raise AudioError("not a regular file")
    if st.st_size == 0:
        raise AudioError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioError("permission denied")


def os_error_message(error: OSError) -> str:
    if error.errno == errno.EACCES:
        return "permission denied"
    return error.strerror or str(error)


def read_error(info: AudioInfo, start_s: float, error: Exception) -> AudioError:
    # FFmpeg's generic failure code, -1, is errno EPERM, which would read as a permission problem.
    reason = "the decoder gave up" if isinstance(error, OSError) and error.errno == errno.EPERM else str(error)
    return AudioError(
        f"decoding failed at {start_s:.1f} s of {info.duration_s:.1f} s ({reason}); "
        "the file may be truncated or corrupt"
    )


def check_complete(info: AudioInfo, start_s: float, length_s: float, got_s: float) -> None:
    wanted_end = min(start_s + length_s, info.duration_s)
    if start_s + got_s < wanted_end - TRUNCATION_TOLERANCE_S:
        raise AudioError(
            f"the file is truncated: its audio stops at {start_s + got_s:.1f} s, "
            f"but its header says {info.duration_s:.1f} s"
        )


class SoundfileReader:
    def __init__(self, path: Path) -> None:
        import soundfile

        try:
            # Bytes, because soundfile encodes a str name strictly as UTF-8 and
            # fails on names that are not (surrogate-escaped by Python).
            self._file = soundfile.SoundFile(os.fsencode(path))
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
            message = str(e).split(": ", 1)[-1].strip()
            # libsndfile says this of a file that exists (checked before) but holds no
            # stream it can find, such as a bare ID3 tag.
            if "does not exist or is not a regular file" in message:
                message = "no audio stream found"
            raise AudioError(message) from None
        except OSError as e:
            raise AudioError(os_error_message(e)) from None
        f = self._file
        if f.samplerate <= 0 or f.frames <= 0:
            f.close()
            raise AudioError("no audio frames")
        self.info = AudioInfo(
            sample_rate=f.samplerate,
            channels=f.channels,
            duration_s=f.frames / f.samplerate,
            codec=f"{f.format}/{f.subtype}",
            decoder="libsndfile",
        )

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        rate = self.info.sample_rate
        try:
            self._file.seek(max(0, int(round(start_s * rate))))
            frames = self._file.read(int(round(length_s * rate)), dtype="float32", always_2d=True)
        except Exception as e:  # libsndfile reports codec failures with several types
            raise read_error(self.info, start_s, e) from None
        check_complete(self.info, start_s, length_s, len(frames) / rate)
        return frames.mean(axis=1, dtype=np.float32) if frames.shape[1] > 1 else frames[:, 0]

    def close(self) -> None:
        self._file.close()


class PyAVReader:
    def __init__(self, path: Path) -> None:
        import av

        try:
            self._container = av.open(str(path))
        except av.FFmpegError as e:
            raise AudioError(ffmpeg_message(e)) from None
        except OSError as e:
            raise AudioError(os_error_message(e)) from None
        if not self._container.streams.audio:
            self._container.close()
            raise AudioError("no audio stream")
        self._stream = self._container.streams.audio[0]
        codec = self._stream.codec_context
        rate = codec.sample_rate or self._stream.rate
        if self._stream.duration is not None and self._stream.time_base is not None:
            duration = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration is not None:
            duration = self._container.duration / av.time_base
        else:
            duration = 0.0
        if not rate or duration <= 0:
            self._container.close()
            raise AudioError("no audio frames (unknown duration or sample rate)")
        self.info = AudioInfo(
            sample_rate=rate,
            channels=codec.channels,
            duration_s=duration,
            codec=codec.name,
            decoder="ffmpeg",
        )

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        import av

        rate = self.info.sample_rate
        wanted = int(round(length_s * rate))
        start_sample = int(round(start_s * rate))
        # Resampling to mono float at the native rate only downmixes; the analysis
        # front end resamples every decoder's output the same way afterwards.
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        have = 0
        position: int | None = None
        try:
            # Always seek, and start the decoder afresh: an earlier read leaves the
            # demuxer wherever it stopped and the decoder holding its state.
            self._container.seek(int(max(0.0, start_s) / self._stream.time_base), stream=self._stream)
            self._stream.codec_context.flush_buffers()
            for frame in self._container.decode(self._stream):
                if position is None or frame.pts is not None:
                    position = (
                        int(round(float(frame.pts * frame.time_base) * rate)) if frame.pts is not None else 0
                    )
                for mono in resampler.resample(frame):
                    samples = mono.to_ndarray().reshape(-1)
                    skip = max(0, start_sample - position)
                    position += len(samples)
                    if skip < len(samples):
                        chunks.append(samples[skip:])
                        have += len(samples) - skip
                if have >= wanted:
                    break
        except av.FFmpegError as e:
            raise read_error(self.info, start_s, ffmpeg_message(e)) from None
        audio = np.concatenate(chunks)[:wanted] if chunks else np.zeros(0, np.float32)
        check_complete(self.info, start_s, length_s, len(audio) / rate)
        return audio.astype(np.float32, copy=False)

    def close(self) -> None:
        self._container.close()


def ffmpeg_message(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(": '", 1)[0]


MPEG_SUFFIXES = (".mp3", ".mp2", ".mp1")
# Decoded for the content fingerprint of formats other than MPEG.
CONTENT_SPAN_S = 1.0


def mpeg_audio_span(path: Path) -> tuple[int, int]:
    """Byte offsets of an MPEG file's audio: after its ID3v2 tag(s), before ID3v1/APEv2."""
    with open(path, "rb") as f:
        start = 0
        while True:
            f.seek(start)
            header = f.read(10)
            if len(header) < 10 or header[:3] != b"ID3":
                break
            size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]
            start += 10 + size + (10 if header[5] & 0x10 else 0)
        end = f.seek(0, 2)
        f.seek(max(0, end - 128))
        if f.read(3) == b"TAG":
            end -= 128
        f.seek(max(0, end - 32))
        footer = f.read(32)
        if footer[:8] == b"APETAGEX":
            end -= int.from_bytes(footer[12:16], "little") + (32 if footer[23] & 0x80 else 0)
    return start, max(start, end)


def content_fingerprint(path: Path, reader: AudioReader) -> str:
    """Identifies a file's audio whatever its tags, cheaply: the same after retagging or a move.

    MPEG audio by its bytes (decoders shift an MP3's samples when a tag appears in
    front of it); anything else by one decoded second from the middle.
    """
    digest = hashlib.sha256()
    if path.suffix.lower() in MPEG_SUFFIXES:
        start, end = mpeg_audio_span(path)
        window = 1 << 16
        with open(path, "rb") as f:
            for offset in sorted({start, max(start, (start + end) // 2 - window // 2), max(start, end - window)}):
                f.seek(offset)
                digest.update(f.read(min(window, end - offset)))
        digest.update(str(end - start).encode())
        return "mpeg:" + digest.hexdigest()
    info = reader.info
    middle = max(0.0, info.duration_s / 2 - CONTENT_SPAN_S / 2)
    digest.update(reader.read(middle, CONTENT_SPAN_S).tobytes())
    digest.update(f"{info.sample_rate}/{info.channels}/{info.duration_s:.3f}".encode())
    return "pcm:" + digest.hexdigest()

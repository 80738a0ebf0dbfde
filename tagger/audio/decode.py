"""Decoding: open an audio file and read mono spans of it at its own sample rate.

libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis, Opus, MP3 and AIFF and
seeks in almost all of them cheaply (see ``SoundfileReader`` for the exception).
FFmpeg (through PyAV) reads what libsndfile cannot:
M4A/AAC/ALAC, WMA, APE, WavPack and others. Both readers only decode the spans they
are asked for, so analysing a few seconds of an hour-long file stays cheap.

Broken files make decoders fail in every way, some of them unforeseen (PyAV handing
back a stream without a codec context, metadata that is not UTF-8): opening and
reading raise ``AudioError`` and nothing else, whatever the decoder raised, and
``close`` never raises.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import math
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from tagger.files.regular import irregular
from tagger.text import describe_os_error

log = logging.getLogger(__name__)


class AudioError(Exception):
    """A file that cannot be analysed, with a message meant for the user."""


@dataclass(frozen=True)
class AudioInfo:
    """What a decoder reports about a file's audio stream."""

    sample_rate: int
    channels: int
    duration_s: float
    codec: str
    decoder: str


class AudioReader(Protocol):
    """An open file that reads mono samples from any point, by whichever decoder opened it."""

    info: AudioInfo

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        """Mono float32 samples at ``info.sample_rate``; shorter only at the end of the file."""

    def close(self) -> None:
        """Release the file; never raises."""


# A header may promise a little more audio than the stream holds (VBR MP3 estimates,
# encoder padding); more than this missing means the file was cut short.
TRUNCATION_TOLERANCE_S = 1.0
# A length beyond these is a broken header (libsndfile says 2**63 frames for "unknown"),
# not audio: no recording lasts a week, and no codec stores a second in under 8 bytes.
MAX_DURATION_S = 7 * 24 * 3600.0
MIN_BYTES_PER_S = 8
# Decoded at a time when reading forward to skip audio: 2 MB of float32 stereo.
SKIP_BLOCK_FRAMES = 1 << 18


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
        raise AudioError(describe_os_error(e)) from None
    except ValueError:  # a name with a NUL byte
        raise AudioError("not a valid file name") from None
    if problem := irregular(st):
        raise AudioError(problem)
    if st.st_size == 0:
        raise AudioError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioError("permission denied")


def plausible_duration(seconds: float, file_size: int | None = None) -> bool:
    """Whether a length read from a header can be true (finite, positive, not absurd)."""
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_DURATION_S:
        return False
    return file_size is None or seconds <= max(file_size, 1) / MIN_BYTES_PER_S


def check_duration(duration_s: float, path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        size = None
    if plausible_duration(duration_s, size):
        return
    claimed = seconds_text(duration_s)
    if claimed and duration_s > 0 and size is not None:
        raise AudioError(f"its header claims {claimed}, more than its {size:,} bytes can hold")
    raise AudioError("its header gives an unknown or impossible length")


def seconds_text(seconds: float) -> str | None:
    """A position or length for a message, or None where it would be nonsense."""
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_DURATION_S:
        return None
    return f"{seconds:.1f} s"


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unexpected_error(stage: str, error: Exception) -> AudioError:
    """An exception a decoder was not known to raise, as a message without a traceback."""
    if isinstance(error, MemoryError):  # a corrupt header can ask for any amount
        return AudioError(f"out of memory while {stage}")
    detail = one_line(str(error))
    return AudioError(f"unexpected {type(error).__name__} while {stage}" + (f": {detail}" if detail else ""))


def decoder_reason(error: Exception) -> str:
    """A decoder's exception as a short reason: the decoder's own message for the
    failures it reports (libsndfile's RuntimeErrors, FFmpeg's errors, OS errors), and
    the exception's type as well for anything unforeseen."""
    # FFmpeg's generic failure code, -1, is errno EPERM, which would read as a permission problem.
    if isinstance(error, OSError) and error.errno == errno.EPERM:
        return "the decoder gave up"
    if isinstance(error, (OSError, RuntimeError)) or type(error).__module__.startswith("av."):
        return one_line(ffmpeg_message(error)) or type(error).__name__
    return unexpected_error("decoding", error).args[0]


def read_error(info: AudioInfo, start_s: float, error: Exception) -> AudioError:
    """A span that the decoder failed to read: where, which decoder, and its reason."""
    where, length = seconds_text(start_s), seconds_text(info.duration_s)
    at = f" at {where} of {length}" if where and length else ""
    decoder = "FFmpeg" if info.decoder == "ffmpeg" else "libsndfile"
    return AudioError(
        f"decoding failed{at} ({decoder}: {decoder_reason(error)}); the file may be truncated or corrupt"
    )


def check_complete(info: AudioInfo, start_s: float, length_s: float, got_s: float) -> None:
    wanted_end = min(start_s + length_s, info.duration_s)
    if start_s + got_s < wanted_end - TRUNCATION_TOLERANCE_S:
        stops, says = seconds_text(start_s + got_s), seconds_text(info.duration_s)
        raise AudioError(
            f"the file is truncated: its audio stops at {stops}, but its header says {says}"
            if stops and says else "the file is truncated or its header is corrupt: its audio stops early"
        )


class SoundfileReader:
    """libsndfile's reader. Some Ogg Vorbis files (two in ../shared/music, from one
    encoder) store a negative granule position on their first audio page. FFmpeg refuses
    them, and libsndfile cannot bisect them, so each seek scans from the start of the
    file: 3-4 ms per second of position, against well under a millisecond for other
    files. A seek that takes longer than the read after it marks such a file, and later
    reads ahead of the last one decode forward to their start instead of seeking."""

    def __init__(self, path: Path) -> None:
        import soundfile

        self._path = path
        self._position = 0  # the frame after the last one read
        self._slow_seeks = False

        try:
            # Bytes, because soundfile encodes a str name strictly as UTF-8 and
            # fails on names that are not (surrogate-escaped by Python).
            self._file = soundfile.SoundFile(os.fsencode(path))
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
            message = one_line(str(e).split(": ", 1)[-1])
            # libsndfile says this of a file that exists (checked before) but holds no
            # stream it can find, such as a bare ID3 tag.
            if "does not exist or is not a regular file" in message:
                message = "no audio stream found"
            raise AudioError(message) from None
        except OSError as e:
            raise AudioError(describe_os_error(e)) from None
        except Exception as e:
            raise unexpected_error("opening", e) from None
        try:
            self.info = self._read_info(path)
        except AudioError:
            self.close()
            raise
        except Exception as e:
            self.close()
            raise unexpected_error("reading the stream information", e) from None

    def _read_info(self, path: Path) -> AudioInfo:
        f = self._file
        if f.samplerate <= 0 or f.frames <= 0:
            raise AudioError("no audio frames")
        check_duration(f.frames / f.samplerate, path)
        return AudioInfo(
            sample_rate=f.samplerate,
            channels=f.channels,
            duration_s=f.frames / f.samplerate,
            codec=f"{f.format}/{f.subtype}",
            decoder="libsndfile",
        )

    def read(self, start_s: float, length_s: float) -> np.ndarray:
        rate = self.info.sample_rate
        start = max(0, int(round(start_s * rate)))
        try:
            if self._slow_seeks and self._position <= start:
                self._skip(start - self._position)
            else:
                started = time.perf_counter()
                self._file.seek(start)
                seek_s = time.perf_counter() - started
            started = time.perf_counter()
            frames = self._file.read(int(round(length_s * rate)), dtype="float32", always_2d=True)
            if not self._slow_seeks and start and seek_s > time.perf_counter() - started:
                self._slow_seeks = True
                log.debug("%s seeks slowly (%.0f ms to %.1f s); reading forward instead",
                          self._path, 1000 * seek_s, start_s)
            self._position = start + len(frames)
        except Exception as e:  # libsndfile reports codec failures with several types
            self._position = sys.maxsize  # unknown: the next read seeks
            raise read_error(self.info, start_s, e) from None
        check_complete(self.info, start_s, length_s, len(frames) / rate)
        return frames.mean(axis=1, dtype=np.float32) if frames.shape[1] > 1 else frames[:, 0]

    def _skip(self, frames: int) -> None:
        """Decode ``frames`` and drop them: the way forward in a file that seeks slowly."""
        while frames > 0:
            got = len(self._file.read(min(frames, SKIP_BLOCK_FRAMES), dtype="float32", always_2d=True))
            if got == 0:
                return
            frames -= got

    def close(self) -> None:
        try:
            self._file.close()
        except Exception as e:  # the audio was read, or the file is given up on anyway
            log.debug("closing a file in libsndfile failed: %r", e)


class PyAVReader:
    """Reads audio through FFmpeg (PyAV), for the formats libsndfile does not decode."""

    def __init__(self, path: Path) -> None:
        import av

        try:
            # Tags that are not UTF-8 are replaced, not fatal: the audio is what counts.
            self._container = av.open(str(path), metadata_errors="replace")
        except av.FFmpegError as e:
            raise AudioError(ffmpeg_message(e)) from None
        except OSError as e:
            raise AudioError(describe_os_error(e)) from None
        except Exception as e:
            raise unexpected_error("opening", e) from None
        try:
            self.info = self._read_info(av, path)
        except AudioError:
            self.close()
            raise
        except av.FFmpegError as e:
            self.close()
            raise AudioError(ffmpeg_message(e)) from None
        except Exception as e:
            self.close()
            raise unexpected_error("reading the stream information", e) from None

    def _read_info(self, av, path: Path) -> AudioInfo:
        if not self._container.streams.audio:
            raise AudioError("no audio stream")
        self._stream = self._container.streams.audio[0]
        codec = self._stream.codec_context
        if codec is None:  # FFmpeg knows no decoder for the stream's codec
            raise AudioError("no decoder for its audio codec")
        rate = codec.sample_rate or self._stream.rate
        if self._stream.duration is not None and self._stream.time_base is not None:
            duration = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration is not None:
            duration = self._container.duration / av.time_base
        else:
            duration = 0.0
        if not rate or duration <= 0:
            raise AudioError("no audio frames (unknown duration or sample rate)")
        check_duration(duration, path)
        return AudioInfo(
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
        chunks: list[np.ndarray] = []
        have = 0
        position: int | None = None
        try:
            # Resampling to mono float at the native rate only downmixes; the analysis
            # front end resamples every decoder's output the same way afterwards.
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            time_base = self._stream.time_base
            if time_base is None:  # FFmpeg gives every stream it demuxes one; PyAV says None for 0/0
                raise ValueError("the audio stream has no time base")
            # Always seek, and start the decoder afresh: an earlier read leaves the
            # demuxer wherever it stopped and the decoder holding its state.
            self._container.seek(int(max(0.0, start_s) / time_base), stream=self._stream)
            self._stream.codec_context.flush_buffers()
            for frame in self._container.decode(self._stream):
                if position is None or frame.pts is not None:
                    # frame.time: pts × the frame's time base, None where it has no pts.
                    position = int(round(frame.time * rate)) if frame.time is not None else 0
                for mono in resampler.resample(frame):
                    samples = mono.to_ndarray().reshape(-1)
                    skip = max(0, start_sample - position)
                    position += len(samples)
                    if skip < len(samples):
                        chunks.append(samples[skip:])
                        have += len(samples) - skip
                if have >= wanted:
                    break
        except Exception as e:  # FFmpeg's errors, and PyAV's own on odd streams (a format change mid-stream)
            raise read_error(self.info, start_s, e) from None
        audio = np.concatenate(chunks)[:wanted] if chunks else np.zeros(0, np.float32)
        check_complete(self.info, start_s, length_s, len(audio) / rate)
        return audio.astype(np.float32, copy=False)

    def close(self) -> None:
        try:
            self._container.close()
        except Exception as e:  # the audio was read, or the file is given up on anyway
            log.debug("closing a file in FFmpeg failed: %r", e)


def ffmpeg_message(error: Exception | str) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(": '", 1)[0]


MPEG_SUFFIXES = (".mp3", ".mp2", ".mp1")
# Decoded for the content fingerprint of formats other than MPEG.
CONTENT_SPAN_S = 1.0


def mpeg_audio_span(path: Path) -> tuple[int, int]:
    """Byte offsets of an MPEG file's audio: after its ID3v2 tag(s), before ID3v1/Lyrics3v2/APEv2."""
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
            f.seek(max(0, end - 15))
            lyrics = f.read(15)  # a Lyrics3v2 tag ends in its size and LYRICS200, before ID3v1
            if lyrics[6:] == b"LYRICS200" and lyrics[:6].isdigit():
                end -= 15 + int(lyrics[:6])
        f.seek(max(0, end - 32))
        footer = f.read(32)
        if len(footer) == 32 and footer[:8] == b"APETAGEX":
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


# mpg123, inside libsndfile, reports damaged MP3 frames by writing to file descriptor 2
# from C: "Note: Trying to resync...", "Warning: Xing stream size off by more than 1%...",
# "[src/libmpg123/parse.c:do_readahead():1083] warning: Cannot read next header...".
DECODER_NOTE = re.compile(rb"(?:(?:Note|Warning): |\[[^\]\n]*\.c:[^\]\n]*\] (?:note|warning|error): )")
NOTE_PREFIXES = (b"Note: ", b"Warning: ")

# Whether DecoderNoteFilter passes decoders' notes on after all: -v. One switch for the
# whole process, because the notes come from whichever thread decodes (the app's workers).
_show_notes = False


def show_decoder_notes(show: bool = True) -> None:
    """Let decoders' notes through (``-v``), also through a DecoderNoteFilter already running."""
    global _show_notes
    _show_notes = show


def decoder_notes_shown() -> bool:
    return _show_notes


def is_decoder_note(line: bytes) -> bool:
    return DECODER_NOTE.match(line) is not None


def may_become_decoder_note(partial: bytes) -> bool:
    """Whether an unfinished line could still turn out to be a decoder note."""
    if any(prefix.startswith(partial) or partial.startswith(prefix) for prefix in NOTE_PREFIXES):
        return True
    return partial.startswith(b"[") and len(partial) < 1000


class DecoderNoteFilter:
    """Keeps the notes that decoders write from C to file descriptor 2 off the terminal.

    While active, descriptor 2 is a pipe: a thread drops the lines that look like
    decoder notes and passes everything else on to the real stderr. Python's own
    ``sys.stderr`` writes to the real stderr directly meanwhile, so the program's
    messages are never delayed or reordered against its standard output. ``stop``
    restores descriptor 2 and passes on whatever is left before it returns.
    """

    def __init__(self) -> None:
        self._saved: int | None = None
        self._thread: threading.Thread | None = None
        self._python_stderr: TextIO | None = None
        self._forwarding = True
        self.dropped = 0

    def __enter__(self) -> DecoderNoteFilter:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            return  # no stderr to protect
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._saved = saved
        try:
            if sys.stderr is not None and sys.stderr.fileno() == 2:
                self._python_stderr = sys.stderr
                sys.stderr = io.TextIOWrapper(
                    io.FileIO(saved, "w", closefd=False), encoding=sys.stderr.encoding,
                    errors=sys.stderr.errors, line_buffering=True, write_through=True,
                )
        except (OSError, ValueError):  # not the process's stderr (replaced by a test, say)
            pass
        self._thread = threading.Thread(target=self._pump, args=(read_end, saved), name="decoder-note-filter",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._saved is None:
            return
        if self._python_stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            sys.stderr = self._python_stderr
            self._python_stderr = None
        os.dup2(self._saved, 2)  # closes the pipe's last writer (children may hold others)
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():  # a child still holds the pipe: leave the thread its stderr
                self._saved = None
                return
            self._thread = None
        os.close(self._saved)
        self._saved = None

    def _pump(self, read_end: int, stderr: int) -> None:
        pending = b""
        try:
            while chunk := os.read(read_end, 65536):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                kept = [line + b"\n" for line in lines if not self._drop(line)]
                if pending and not may_become_decoder_note(pending):
                    kept.append(pending)
                    pending = b""
                self._forward(b"".join(kept), stderr)
        except OSError:
            pass
        finally:
            if pending and not self._drop(pending):
                self._forward(pending, stderr)
            os.close(read_end)

    def _drop(self, line: bytes) -> bool:
        if not _show_notes and is_decoder_note(line):
            self.dropped += 1
            return True
        return False

    def _forward(self, data: bytes, stderr: int) -> None:
        # The thread keeps reading whatever happens here: writers to a full pipe would block.
        while data and self._forwarding:
            try:
                data = data[os.write(stderr, data):]
            except OSError:  # the real stderr is gone (a closed pipe): drop the rest
                self._forwarding = False

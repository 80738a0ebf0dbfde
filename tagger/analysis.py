"""The analysis pipeline: path → decoded excerpt → log-mel patches → model outputs → genres.

``Analyzer.analyse`` runs it for one file; ``Analyzer.analyse_many`` runs it over
many files on a small pool of worker threads (decoding, numpy and onnxruntime all
release the GIL), yielding one ``FileResult`` per path, in order, however a file
fails.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tagger.audio import AudioError, check_readable_file, content_fingerprint, open_audio
from tagger.cache import AnalysisCache, RawAnalysis
from tagger.excerpt import Depth, Excerpt, Region, read_excerpt
from tagger.features import LogMel
from tagger.genres import Calibration, Descriptor, GenreScorer, GenreSuggestion, Taxonomy
from tagger.model import ModelSet, default_threads
from tagger.scan import ScanEvent
from tagger.safewrite import Fingerprint, fingerprint

# Chosen by benchmarks/analysis_speed.py over ../shared/music: see the README.
DEFAULT_FAST_PATCHES = 6
# Patches per onnxruntime call. Bigger batches gain under 10% per patch on a CPU but
# grow the session's memory arena by about 150 MB per patch and worker.
INFERENCE_BATCH = 2
# Patches quieter than this are skipped; a track with nothing louder holds no music.
SILENCE_DBFS = -60.0
SEGMENT_GENRES = 3


@dataclass(frozen=True)
class Segment:
    """One analysed patch of the track and the genres it points to."""

    start_s: float
    end_s: float
    genres: list[GenreSuggestion]


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Timings:
    decode_s: float
    features_s: float
    inference_s: float

    @property
    def total_s(self) -> float:
        return self.decode_s + self.features_s + self.inference_s


@dataclass(frozen=True)
class Analysis:
    path: Path
    duration_s: float
    depth: Depth
    music_detected: bool
    genres: list[GenreSuggestion]  # best first
    descriptors: list[Descriptor]  # best first
    segments: list[Segment]  # in time order, silent patches left out
    embeddings: dict[str, np.ndarray]  # model name -> mean penultimate activation
    tag_probabilities: dict[str, np.ndarray]  # model name -> track-level raw tag probabilities
    patch_probabilities: dict[str, np.ndarray]  # model name -> [segment, tag] raw probabilities
    models: list[ModelIdentity]
    provider: str
    patches_analysed: int
    total_patches: int
    timings: Timings
    fingerprint: Fingerprint  # the file as analysed, so a later write can tell if it changed
    cached: bool = False  # rebuilt from the analysis cache, without inference


@dataclass(frozen=True)
class FileResult:
    path: Path
    analysis: Analysis | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Cancelled(Exception):
    """Analysis stopped because the user cancelled it."""


class JobControl:
    """Lets another thread (the GUI, a signal handler) pause, resume or cancel a batch."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def wait_while_paused(self) -> None:
        self._running.wait()


@dataclass
class _Accumulator:
    """Per-patch outputs gathered region by region, so long tracks stay small in memory."""

    starts: list[float] = field(default_factory=list)
    probabilities: dict[str, list[np.ndarray]] = field(default_factory=dict)
    embedding_sums: dict[str, np.ndarray] = field(default_factory=dict)
    decode_s: float = 0.0
    features_s: float = 0.0
    inference_s: float = 0.0

    def raw(self, excerpt: Excerpt) -> RawAnalysis:
        n = len(self.starts)
        return RawAnalysis(
            duration_s=excerpt.duration_s,
            total_patches=excerpt.total_patches,
            starts=np.array(self.starts, np.float64),
            patch_probabilities={name: np.concatenate(chunks) for name, chunks in self.probabilities.items()},
            embeddings={name: total / n for name, total in self.embedding_sums.items()},
        )


class Analyzer:
    """Holds the models and everything derived from them; reuse one for every file."""

    def __init__(
        self,
        device: str = "auto",
        threads: int | None = None,
        precision: str = "auto",
        fast_patches: int = DEFAULT_FAST_PATCHES,
        models: ModelSet | None = None,
        calibration: Calibration | None = None,
        cache: AnalysisCache | None = None,
    ) -> None:
        # Files run one per worker thread, each with a single-threaded session: on
        # two cores that beats two threads inside one session (MODEL.md: batching
        # and intra-op threads barely change the per-patch cost).
        self.workers = threads or default_threads()
        self.models = models or ModelSet(device=device, threads=1, precision=precision)
        self.front_end = self.models.front_end
        self.log_mel = LogMel(self.front_end)
        infos = self.models.infos
        self.scorer = GenreScorer(Taxonomy.load(), calibration or Calibration.load(infos), infos)
        self.fast_patches = fast_patches
        self.identities = [ModelIdentity(i.name, i.version, i.sha256) for i in infos]
        self.cache = cache
        self._models_key = "|".join(f"{i.name} {i.version}" for i in infos)

    def _depth_key(self, depth: Depth) -> str:
        return f"fast{self.fast_patches}" if depth is Depth.FAST else depth.value

    def analyse(
        self, path: str | os.PathLike[str], depth: Depth = Depth.FAST, control: JobControl | None = None
    ) -> Analysis:
        """Analyse one file, or rebuild it from the cache; raises AudioError with a user-facing message."""
        path = Path(path)
        check_readable_file(path)
        st = path.stat()
        key = (self._models_key, self._depth_key(depth))
        if self.cache is not None:
            hit = self.cache.by_stat(path, st, *key)
            if hit is not None:
                raw, stored_fingerprint = hit
                return self.build(path, depth, raw, Timings(0.0, 0.0, 0.0),
                                  Fingerprint.from_json(json.loads(stored_fingerprint)), cached=True)
        acc = _Accumulator()
        started = time.perf_counter()
        reader = open_audio(path)
        try:
            file_fingerprint = fingerprint(path)
            content = content_fingerprint(path, reader) if self.cache is not None else ""
            if self.cache is not None:
                raw = self.cache.by_content(content, *key)
                if raw is not None:  # retagged, moved or copied: the audio is known
                    self.cache.store(path, st, content, *key, raw, json.dumps(file_fingerprint.to_json()))
                    return self.build(path, depth, raw, Timings(0.0, 0.0, 0.0), file_fingerprint, cached=True)
            excerpt = read_excerpt(reader, self.front_end, depth, self.fast_patches)
            for region in excerpt.regions:  # decoded one run at a time
                if control is not None and control.cancelled:
                    raise Cancelled(path)
                self._analyse_region(region, acc)
        except OSError as e:
            raise AudioError(f"cannot read the file: {e.strerror or e}") from None
        finally:
            reader.close()
        # Whatever was not front end or inference went to opening and decoding.
        acc.decode_s = time.perf_counter() - started - acc.features_s - acc.inference_s
        raw = acc.raw(excerpt)
        if self.cache is not None:
            self.cache.store(path, st, content, *key, raw, json.dumps(file_fingerprint.to_json()))
        timings = Timings(acc.decode_s, acc.features_s, acc.inference_s)
        return self.build(path, depth, raw, timings, file_fingerprint, cached=False)

    def _analyse_region(self, region: Region, acc: _Accumulator) -> None:
        fe = self.front_end
        started = time.perf_counter()
        patches = self.log_mel.patches(region.audio, region.n_patches)
        step = fe.patch_frames * fe.hop_length
        loud = [
            i for i in range(region.n_patches)
            if rms_dbfs(region.audio[i * step: i * step + step + fe.n_fft]) > SILENCE_DBFS
        ]
        acc.features_s += time.perf_counter() - started
        if not loud:
            return
        acc.starts.extend((region.first_patch + i) * fe.patch_seconds for i in loud)
        for batch in range(0, len(loud), INFERENCE_BATCH):
            started = time.perf_counter()
            outputs = self.models.run(np.ascontiguousarray(patches[loud[batch: batch + INFERENCE_BATCH]]))
            acc.inference_s += time.perf_counter() - started
            for name, output in outputs.items():
                acc.probabilities.setdefault(name, []).append(output.probabilities)
                acc.embedding_sums[name] = acc.embedding_sums.get(name, 0) + output.embeddings.sum(axis=0)

    def build(self, path: Path, depth: Depth, raw: RawAnalysis, timings: Timings,
              file_fingerprint: Fingerprint, cached: bool) -> Analysis:
        """Genres, descriptors and timeline from raw model outputs: no inference."""
        common = dict(
            path=path, duration_s=raw.duration_s, depth=depth, models=self.identities,
            provider=self.models.provider, total_patches=raw.total_patches, timings=timings,
            fingerprint=file_fingerprint, cached=cached,
        )
        if len(raw.starts) == 0:
            return Analysis(
                music_detected=False, genres=[], descriptors=[], segments=[], embeddings={},
                tag_probabilities={}, patch_probabilities={}, patches_analysed=0, **common,
            )
        track = {name: p.mean(axis=0) for name, p in raw.patch_probabilities.items()}
        patch_confidences = self.scorer.genre_confidences(raw.patch_probabilities)
        length = self.front_end.patch_seconds
        segments = [
            Segment(float(start), min(float(start) + length, raw.duration_s), self.scorer.rank(conf, SEGMENT_GENRES))
            for start, conf in zip(raw.starts, patch_confidences)
        ]
        return Analysis(
            music_detected=True,
            genres=self.scorer.genres(track),
            descriptors=self.scorer.descriptors(track),
            segments=segments,
            embeddings=raw.embeddings,
            tag_probabilities=track,
            patch_probabilities=raw.patch_probabilities,
            patches_analysed=len(raw.starts),
            **common,
        )

    def analyse_many(
        self,
        items: Iterable[Path | ScanEvent],
        depth: Depth = Depth.FAST,
        on_start: Callable[[Path], None] | None = None,
        control: JobControl | None = None,
    ) -> Iterator[FileResult]:
        """A result per item, in order; at most two files per worker are in flight.

        Items are consumed lazily, so a streaming scan's first results come while it
        is still walking the tree. A scan problem comes back as a failed result.
        With ``control``, the work can be paused and cancelled: after a cancel no new
        file starts, files in flight stop at their next region, and the results end.
        """
        control = control or JobControl()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="analysis") as pool:
            pending: deque[tuple[Path, Future[Analysis] | str]] = deque()
            for item in items:
                control.wait_while_paused()
                if control.cancelled:
                    break
                if isinstance(item, ScanEvent) and item.problem is not None:
                    pending.append((item.path, item.problem))
                    continue
                path = item.path if isinstance(item, ScanEvent) else item
                if on_start:
                    on_start(path)
                pending.append((path, pool.submit(self.analyse, path, depth, control)))
                while len(pending) >= 2 * self.workers or (pending and isinstance(pending[0][1], str)):
                    yield collect(*pending.popleft())
            while pending:
                result = collect(*pending.popleft())
                if control.cancelled:
                    continue
                yield result


def collect(path: Path, future: Future[Analysis] | str) -> FileResult:
    if isinstance(future, str):
        return FileResult(path, error=future)
    try:
        return FileResult(path, analysis=future.result())
    except AudioError as e:
        return FileResult(path, error=str(e))
    except Cancelled:
        return FileResult(path, error="cancelled")
    except MemoryError:
        return FileResult(path, error="out of memory while analysing this file")


def rms_dbfs(audio: np.ndarray) -> float:
    if len(audio) == 0:
        return -np.inf
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else -np.inf

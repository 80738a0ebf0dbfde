"""The analysis pipeline: path → decoded excerpt → log-mel patches → model outputs → genres.

``Analyzer`` holds the models and runs the stages: ``begin`` (cache lookup, open),
``decode`` (regions to log-mel patches), ``infer`` (batched model runs, across files)
and ``finish`` (cache store, genre ranking). ``Analyzer.analyse`` chains them for one
file; ``tagger.analysis.pipeline`` runs them on threads over a whole library.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.analysis.adaptive import DEFAULT_RULE, AdaptiveRule
from tagger.analysis.cache import AnalysisCache, RawAnalysis
from tagger.analysis.models import ModelOutput, ModelSet, default_threads
from tagger.analysis.scoring import Calibration, GenreScorer
from tagger.audio.decode import (
    AudioError,
    AudioReader,
    check_readable_file,
    content_fingerprint,
    open_audio,
)
from tagger.audio.excerpt import (
    Depth,
    Excerpt,
    Region,
    patch_order,
    read_excerpt,
    read_patches,
)
from tagger.audio.features import LogMel
from tagger.files.identity import Fingerprint, fingerprint
from tagger.genres.suggestion import Descriptor, GenreSuggestion, Source
from tagger.genres.taxonomy import Taxonomy
from tagger.learning.learned import LearnedModel, ModelChoice, features, model_for

log = logging.getLogger(__name__)

# Chosen by benchmarks/analysis_speed.py over ../shared/music: see docs/benchmarks.md.
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
    """Which model made an analysis: its name, version and file digest, kept with cached results."""

    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Timings:
    """Seconds one file spent decoding, computing features and running the models."""

    decode_s: float
    features_s: float
    inference_s: float

    @property
    def total_s(self) -> float:
        return self.decode_s + self.features_s + self.inference_s


@dataclass(frozen=True)
class Analysis:
    """What listening to one file found: its genres and descriptors, best first, and how they were reached."""

    path: Path
    duration_s: float
    depth: Depth
    music_detected: bool
    genres: list[GenreSuggestion]  # best first
    model: Source  # Source.BASE, or Source.LEARNED where a model learned from the person's tags ranked the genres
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

    @property
    def unlike_library(self) -> bool:
        """A learned model ranked the genres, and none of the person's genres fits the
        file well enough to lead: it is unlike anything they tagged."""
        return self.model == Source.LEARNED and bool(self.genres) and self.genres[0].source == Source.BASE


@dataclass(frozen=True)
class FileResult:
    """One file's analysis, or why it could not be analysed."""

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


@dataclass(frozen=True)
class PatchChunk:
    """The loud patches of one decoded region, on their way to inference."""

    job: FileJob
    index: int  # the region's number within its file, so outputs go back in time order
    patches: np.ndarray  # [patch, frame, mel]
    starts: list[float]


class FileJob:
    """One file between opening and its result: the plan, the model outputs gathered so
    far, and the patches of the round being decoded. Decoding and inference may run on
    different threads, so completion is decided under a lock: a round is done once it
    is fully decoded (or failed) and every chunk sent to inference has come back. The
    adaptive depth may then start another round (``Analyzer.deepen``)."""

    def __init__(self, path: Path, depth: Depth, st: os.stat_result, content: str, file_fingerprint: Fingerprint,
                 reader: AudioReader, excerpt: Excerpt, seed: RawAnalysis | None = None,
                 seed_patches: tuple[int, ...] = ()) -> None:
        self.path = path
        self.depth = depth
        self.st = st
        self.content = content
        self.fingerprint = file_fingerprint
        self.excerpt = excerpt
        # The first round decodes with the reader ``begin`` opened; later rounds reopen the file.
        self.reader: AudioReader | None = reader
        self.regions: Iterator[Region] | None = excerpt.regions
        self.pending = list(excerpt.patches)
        self.planned = [*seed_patches, *excerpt.patches]  # every patch asked for, silent ones included
        self.seed = seed  # a shallower cached analysis of the file that this one deepens
        self.seq: int | None = None  # the file's place in a pipeline's input
        self.error: str | None = None
        self.decode_s = 0.0
        self.features_s = 0.0
        self.inference_s = 0.0
        self._lock = threading.Lock()
        self._chunk_numbers = itertools.count()
        self._decoded = False
        self._sent = 0
        self._outputs: dict[int, tuple[list[float], dict[str, ModelOutput]]] = {}

    def chunk_number(self) -> int:
        """A number for the next decoded chunk, unique over every round."""
        return next(self._chunk_numbers)

    def sent(self) -> None:
        with self._lock:
            self._sent += 1

    def add(self, chunk: PatchChunk, outputs: dict[str, ModelOutput], inference_s: float) -> bool:
        """Store one chunk's outputs; True if that completed the round."""
        with self._lock:
            self._outputs[chunk.index] = (chunk.starts, outputs)
            self.inference_s += inference_s
            return self._complete()

    def failed_chunk(self, chunk: PatchChunk, error: str) -> bool:
        """A chunk that inference could not run fails the file; True if that completed the round."""
        with self._lock:
            self._outputs[chunk.index] = (chunk.starts, {})
            self.error = self.error or error
            return self._complete()

    def decoded(self, error: str | None = None) -> bool:
        """The round's decoding ended, cleanly or with ``error``; True if that completed the round."""
        with self._lock:
            self._decoded = True
            self.error = self.error or error
            return self._complete()

    def _complete(self) -> bool:
        return self._decoded and len(self._outputs) == self._sent

    def next_round(self, patches: list[int]) -> None:
        """Plan another round; called once the last round is complete, when no other
        thread holds the job."""
        self._decoded = False
        self.pending = list(patches)
        self.planned += patches
        self.regions = None

    def _rows(self) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Start times, per-patch probabilities and per-patch embeddings of every loud patch so
        far, in time order. A seed's embeddings are its mean, repeated for each of its patches,
        so the mean over all rows weighs old and new patches alike."""
        parts = [self._outputs[i] for i in sorted(self._outputs)]
        if any(not outputs for _, outputs in parts):
            raise RuntimeError(f"{self.path} is not completely analysed")  # never use a partial analysis
        starts = [np.asarray(chunk_starts, np.float64) for chunk_starts, _ in parts]
        names = list(parts[0][1]) if parts else list(self.seed.patch_probabilities) if self.seed else []
        probabilities = {n: [o[n].probabilities for _, o in parts] for n in names}
        embeddings = {n: [o[n].embeddings for _, o in parts] for n in names}
        if self.seed is not None and len(self.seed.starts):
            starts.insert(0, np.asarray(self.seed.starts, np.float64))
            for n in names:
                probabilities[n].insert(0, self.seed.patch_probabilities[n])
                embeddings[n].insert(0, np.broadcast_to(self.seed.embeddings[n], (len(self.seed.starts),
                                                                                 len(self.seed.embeddings[n]))))
        if not starts:
            return np.zeros(0), {}, {}
        all_starts = np.concatenate(starts)
        order = np.argsort(all_starts, kind="stable")
        return (all_starts[order], {n: np.concatenate(p)[order] for n, p in probabilities.items()},
                {n: np.concatenate(e)[order] for n, e in embeddings.items()})

    def probabilities(self) -> dict[str, np.ndarray]:
        """Every loud patch's tag probabilities so far, per model: what ``deepen`` judges."""
        return self._rows()[1]

    def raw(self) -> RawAnalysis:
        if self.error is not None:
            raise RuntimeError(f"{self.path} is not completely analysed")  # never cache a partial analysis
        starts, probabilities, embeddings = self._rows()
        return RawAnalysis(
            duration_s=self.excerpt.duration_s,
            total_patches=self.excerpt.total_patches,
            starts=starts,
            patch_probabilities=probabilities,
            embeddings={n: e.mean(axis=0) for n, e in embeddings.items()},
            analysed=tuple(sorted(set(self.planned))),
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
        rule: AdaptiveRule = DEFAULT_RULE,
    ) -> None:
        # On a CPU, the pipeline runs one inference thread per core, each call on a
        # single-threaded session: on two cores that beats two threads inside one
        # session (MODEL.md: batching and intra-op threads barely change the
        # per-patch cost).
        self.threads = threads or default_threads()
        self.models = models or ModelSet(device=device, threads=1, precision=precision)
        self.front_end = self.models.front_end
        self.log_mel = LogMel(self.front_end)
        infos = self.models.infos
        self.scorer = GenreScorer(Taxonomy.load(), calibration or Calibration.load(infos), infos)
        self.fast_patches = fast_patches
        self.rule = rule
        self.identities = [ModelIdentity(i.name, i.version, i.sha256) for i in infos]
        self.cache = cache
        self.models_key = "|".join(f"{i.name} {i.version}" for i in infos)
        # Kept with each cached analysis, so that int8 and fp32 outputs are never mixed.
        self.precision = str(self.models.precision)
        self.learned: LearnedModel | None = None

    def use_learned(self, model: LearnedModel | None) -> None:
        """Rank genres with ``model`` (learned from the person's tags) from now on, or
        with the base model alone for None."""
        if model is not None and model.models_key != self.models_key:
            raise ValueError(f"the learned model was trained on {model.models_key}, not {self.models_key}")
        self.learned = model

    def use_stored_model(self, choice: ModelChoice = ModelChoice.AUTO) -> tuple[LearnedModel | None, str | None]:
        """Rank with the stored model learned from the person's tags, as ``choice`` asks
        (``learning.model_for``): the model used, and why a stored one could not be."""
        model, problem = model_for(self.models_key, choice)
        self.use_learned(model)
        return model, problem

    def _depth_key(self, depth: Depth) -> str:
        """The cache's name for ``depth``: an entry made with other settings is another depth."""
        if depth is Depth.FAST:
            return f"fast{self.fast_patches}"
        if depth is Depth.ADAPTIVE:
            r = self.rule
            return f"adaptive{r.first}+{r.step}<={r.most}z{r.settled_z:g}" + (f"t{r.top3_z:g}" if r.top3_z else "")
        return depth.value

    def _answering(self, depth: Depth) -> list[tuple[Depth, str]]:
        """Cached depths that answer a request for ``depth``, best first: a full analysis
        answers any request."""
        own = (depth, self._depth_key(depth))
        return [own] if depth is Depth.FULL else [own, (Depth.FULL, self._depth_key(Depth.FULL))]

    def analyse(
        self, path: str | os.PathLike[str], depth: Depth = Depth.ADAPTIVE, control: JobControl | None = None
    ) -> Analysis:
        """Analyse one file on the calling thread, or rebuild it from the cache; raises
        AudioError with a user-facing message. ``tagger.analysis.pipeline`` runs the same stages
        for many files at once."""
        job = self.begin(Path(path), Depth(depth))
        if isinstance(job, Analysis):
            return job
        while True:
            for chunk in self.decode(job, control):
                job.sent()
                self.infer([chunk], INFERENCE_BATCH, control)
            job.decoded()
            if not self.deepen(job):
                return self.finish(job)

    def begin(self, path: Path, depth: Depth) -> Analysis | FileJob:
        """Stage 1: the cached analysis if the audio is known, else an open job to decode.
        A full analysis builds on the deepest cached one, adding only the patches it lacks."""
        check_readable_file(path)
        st = path.stat()
        seed = None
        if self.cache is not None:
            for answer, key in self._answering(depth):
                hit = self.cache.by_stat(path, st, self.models_key, self.precision, key)
                if hit is not None:
                    raw, stored_fingerprint = hit
                    return self.build(path, answer, raw, Timings(0.0, 0.0, 0.0),
                                      Fingerprint.from_json(json.loads(stored_fingerprint)), cached=True)
            if depth is Depth.FULL:
                seed = self.cache.deepest(path, st, None, self.models_key, self.precision)
        started = time.perf_counter()
        reader = open_audio(path)
        try:
            file_fingerprint = fingerprint(path)
            content = content_fingerprint(path, reader) if self.cache is not None else ""
            if self.cache is not None:
                for answer, key in self._answering(depth):
                    same_audio = self.cache.by_content(content, self.models_key, self.precision, key)
                    if same_audio is not None:  # retagged, moved or copied: the audio is known
                        self.cache.store(path, st, content, self.models_key, self.precision, key, same_audio,
                                         json.dumps(file_fingerprint.to_json()))
                        reader.close()
                        return self.build(path, answer, same_audio, Timings(0.0, 0.0, 0.0), file_fingerprint,
                                          cached=True)
                if depth is Depth.FULL and seed is None:
                    seed = self.cache.deepest(path, st, content, self.models_key, self.precision)
            known = self.seed_patches(seed)
            excerpt = read_excerpt(reader, self.front_end, depth, self.fast_patches, self.rule.first, known)
        except OSError as e:
            reader.close()
            raise AudioError(f"cannot read the file: {e.strerror or e}") from None
        except BaseException:
            reader.close()
            raise
        job = FileJob(path, depth, st, content, file_fingerprint, reader, excerpt, seed, known)
        job.decode_s = time.perf_counter() - started
        return job

    def seed_patches(self, seed: RawAnalysis | None) -> tuple[int, ...]:
        """The patches a cached analysis covers; entries from before they were recorded
        name only their loud ones, by start time."""
        if seed is None:
            return ()
        return seed.analysed or tuple(int(round(s / self.front_end.patch_seconds)) for s in seed.starts)

    def decode(self, job: FileJob, control: JobControl | None = None) -> Generator[PatchChunk, None, None]:
        """Stage 2: the loud patches of the job's round, one decoded region at a time;
        closes the reader at the end of the round."""
        fe = self.front_end
        step = fe.patch_frames * fe.hop_length
        reader = job.reader
        try:
            regions = job.regions
            if regions is None:  # a later round
                started = time.perf_counter()
                reader = job.reader = open_audio(job.path)
                regions = read_patches(reader, fe, job.pending)
                job.decode_s += time.perf_counter() - started
            while True:
                if control is not None and control.cancelled:
                    raise Cancelled(job.path)
                started = time.perf_counter()
                region = next(regions, None)
                decoded = time.perf_counter()
                job.decode_s += decoded - started
                if region is None:
                    return
                patches = self.log_mel.patches(region.audio, region.n_patches)
                loud = [
                    i for i in range(region.n_patches)
                    if rms_dbfs(region.audio[i * step: i * step + step + fe.n_fft]) > SILENCE_DBFS
                ]
                job.features_s += time.perf_counter() - decoded
                if loud:
                    yield PatchChunk(job, job.chunk_number(), np.ascontiguousarray(patches[loud]),
                                     [(region.first_patch + i) * fe.patch_seconds for i in loud])
        except OSError as e:
            raise AudioError(f"cannot read the file: {e.strerror or e}") from None
        finally:
            if reader is not None:
                reader.close()
            job.reader = job.regions = None

    def deepen(self, job: FileJob) -> bool:
        """After a complete round: plan another if the adaptive depth finds the genre
        unsettled. False for the other depths, and for a file that failed."""
        if job.depth is not Depth.ADAPTIVE or job.error is not None or job.excerpt.repeat_padded:
            return False
        order = patch_order(job.excerpt.total_patches, self.rule.first)
        more = self.rule.more(self.scorer, order, job.planned, job.probabilities(), len(order))
        if not more:
            return False
        job.next_round(more)
        return True

    def infer(self, chunks: list[PatchChunk], batch_patches: int, control: JobControl | None = None) -> list[FileJob]:
        """Stage 3: run the models over the patches of several chunks (of one file or
        many) in batches of ``batch_patches``; returns the jobs this completed. A
        cancel takes effect between batches."""
        patches = np.concatenate([c.patches for c in chunks]) if len(chunks) > 1 else chunks[0].patches
        started = time.perf_counter()
        runs = []
        for first in range(0, len(patches), batch_patches):
            if control is not None and control.cancelled:
                raise Cancelled(chunks[0].job.path)
            runs.append(self.models.run(patches[first: first + batch_patches]))
        outputs = {
            name: ModelOutput(np.concatenate([r[name].probabilities for r in runs]),
                              np.concatenate([r[name].embeddings for r in runs]))
            for name in runs[0]
        }
        per_patch_s = (time.perf_counter() - started) / len(patches)
        completed, offset = [], 0
        for chunk in chunks:
            n = len(chunk.patches)
            mine = {name: ModelOutput(o.probabilities[offset: offset + n], o.embeddings[offset: offset + n])
                    for name, o in outputs.items()}
            if chunk.job.add(chunk, mine, per_patch_s * n):
                completed.append(chunk.job)
            offset += n
        return completed

    def finish(self, job: FileJob) -> Analysis:
        """Stage 4: store the raw outputs in the cache and rank genres from them."""
        raw = job.raw()
        if self.cache is not None:
            key = (self.models_key, self.precision, self._depth_key(job.depth))
            self.cache.store(job.path, job.st, job.content, *key, raw, json.dumps(job.fingerprint.to_json()))
        timings = Timings(job.decode_s, job.features_s, job.inference_s)
        return self.build(job.path, job.depth, raw, timings, job.fingerprint, cached=False)

    def build(self, path: Path, depth: Depth, raw: RawAnalysis, timings: Timings,
              file_fingerprint: Fingerprint, cached: bool) -> Analysis:
        """Genres, descriptors and timeline from raw model outputs: no inference."""
        common = {
            "path": path, "duration_s": raw.duration_s, "depth": depth, "models": self.identities,
            "provider": self.models.provider, "total_patches": raw.total_patches, "timings": timings,
            "fingerprint": file_fingerprint, "cached": cached,
        }
        if len(raw.starts) == 0:
            return Analysis(
                music_detected=False, genres=[], model=Source.BASE, descriptors=[], segments=[], embeddings={},
                tag_probabilities={}, patch_probabilities={}, patches_analysed=0, **common,
            )
        track = {name: p.mean(axis=0) for name, p in raw.patch_probabilities.items()}
        patch_confidences = self.scorer.genre_confidences(raw.patch_probabilities)
        length = self.front_end.patch_seconds
        segments = [
            Segment(float(start), min(float(start) + length, raw.duration_s), self.scorer.rank(conf, SEGMENT_GENRES))
            for start, conf in zip(raw.starts, patch_confidences)
        ]
        genres, model = self.scorer.genres(track), Source.BASE
        if self.learned is not None:
            genres = self.learned.suggestions(features(raw.embeddings, raw.patch_probabilities), genres,
                                              self.scorer.taxonomy)
            model = Source.LEARNED
        return Analysis(
            music_detected=True,
            genres=genres,
            model=model,
            descriptors=self.scorer.descriptors(track),
            segments=segments,
            embeddings=raw.embeddings,
            tag_probabilities=track,
            patch_probabilities=raw.patch_probabilities,
            patches_analysed=len(raw.starts),
            **common,
        )


def rms_dbfs(audio: np.ndarray) -> float:
    if len(audio) == 0:
        return -np.inf
    # A float32 dot product, not mean(square(float64)): no 400 KB temporary per patch,
    # and float32 sums are ample for a -60 dBFS threshold.
    rms = float(np.sqrt(np.dot(audio, audio) / len(audio)))
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def open_analyzer(device: str = "auto", threads: int | None = None, precision: str = "auto",
                  cached: bool = True) -> Analyzer:
    """The analyzer both front ends use: the bundled models on ``device``, with the
    person's analysis cache unless ``cached`` is False. A cache on a full or read-only
    disk is read without adding to it, or not used, and the log says so once."""
    cache = AnalysisCache() if cached else None
    if cache is not None and cache.problem:
        log.warning("%s; %s", cache.problem,
                    "reading it, but new analyses are not kept" if cache.readable else "analysing without it")
    return Analyzer(device=device, threads=threads, precision=precision, cache=cache)

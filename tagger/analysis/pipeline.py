"""Analysis of many files at once, as a chain of stages over bounded queues.

    items ─▶ admission ─▶ decoder threads ─▶ patch queue ─▶ inference threads ─▶ events
             (at most                        (bounded,       (batches mix
             max_in_flight files)            priority first)  patches of many files)

The scan is read lazily, so the first results come while a big tree is still being
walked, and at most ``max_in_flight`` files are open or waiting to be reported, so
memory stays flat however large the library is. Decoders run the ``Analyzer``'s
``begin`` and ``decode`` stages; inference threads gather the patches of several
files into one batch, the size the device wants (large on a GPU, small on a CPU).

The adaptive depth analyses a file in rounds: when a round's last chunk comes back
from inference and the genre is still open, the file goes back to the front of the
decoders' queue for a few more patches, and other files' work fills the gap.

The caller iterates ``events``: ``FileStarted``, ``FileResult`` and ``Progress``. A
``JobControl`` pauses, resumes or cancels the run from any thread, and ``prioritise``
moves one file to the front, for a user who wants it analysed now.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sized
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from tagger.analysis.analyzer import (
    INFERENCE_BATCH,
    Analysis,
    Analyzer,
    Cancelled,
    FileJob,
    FileResult,
    JobControl,
    PatchChunk,
)
from tagger.analysis.models import CUDA
from tagger.audio.decode import AudioError, one_line
from tagger.audio.excerpt import PATCHES_PER_REGION, Depth
from tagger.files.scan import ScanEvent

log = logging.getLogger(__name__)

# Patches per GPU inference call: large enough to keep a GPU busy, small enough
# (128 × 72 KB of input) to stay far below any card's memory.
GPU_BATCH = 128
# How often blocked threads look up to see whether the run was cancelled.
POLL_S = 0.1


@dataclass(frozen=True)
class PipelineConfig:
    """How many decoders and inference threads a pipeline runs, and its batch size."""

    decoders: int
    inference_threads: int
    batch_patches: int

    @classmethod
    def for_analyzer(cls, analyzer: Analyzer) -> PipelineConfig:
        cores = analyzer.threads
        if analyzer.models.provider == CUDA:
            return cls(decoders=cores, inference_threads=1, batch_patches=GPU_BATCH)
        return cls(decoders=cores, inference_threads=cores, batch_patches=INFERENCE_BATCH)

    @property
    def chunks_per_batch(self) -> int:
        """Decoded regions (chunks) it takes, at most, to fill one inference batch."""
        return -(-self.batch_patches // PATCHES_PER_REGION)

    @property
    def max_in_flight(self) -> int:
        # Enough open files to fill a batch while the decoders work on the next ones.
        return 2 * self.decoders + 2 * self.chunks_per_batch * self.inference_threads


@dataclass(frozen=True)
class FileStarted:
    """Sent when the pipeline begins a file, so a front end can show which one."""

    path: Path


@dataclass(frozen=True)
class Progress:
    """How far a pipeline run is: files finished, failed and from the cache, and the rate."""

    finished: int  # results so far, failures and cache hits included
    failed: int
    cached: int
    total: int | None  # None while the scan is still finding files
    elapsed_s: float

    @property
    def files_per_s(self) -> float:
        return self.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.total is None or self.files_per_s == 0:
            return None
        return max(0, self.total - self.finished) / self.files_per_s


PipelineEvent = FileStarted | FileResult | Progress


def internal_error(error: Exception, path: Path) -> str:
    """A failure no stage foresaw, as one file's error message: the run goes on, and no
    traceback reaches the user (it is logged at debug level, for developers)."""
    log.debug("analysis of %s failed", path, exc_info=error)
    if isinstance(error, MemoryError):
        return "out of memory while analysing this file"
    detail = one_line(str(error))
    return f"internal error: {type(error).__name__}" + (f": {detail}" if detail else "")


def item_path(item: Path | ScanEvent | FileJob) -> Path:
    return item if isinstance(item, Path) else item.path


class _Skipped(Enum):
    """Stands in for the result of an input item that was analysed earlier, prioritised."""

    SKIPPED = "skipped"


_SKIPPED = _Skipped.SKIPPED


@dataclass(frozen=True)
class _Admitted:
    item: Path | ScanEvent | FileJob  # a FileJob comes back for another round
    seq: int | None  # position in the input; None for a prioritised file outside it


class AnalysisPipeline:
    """One run over many files; create one per batch of work."""

    def __init__(self, analyzer: Analyzer, depth: Depth = Depth.ADAPTIVE, control: JobControl | None = None,
                 config: PipelineConfig | None = None) -> None:
        self.analyzer = analyzer
        self.depth = Depth(depth)
        self.control = control or JobControl()
        self.config = config or PipelineConfig.for_analyzer(analyzer)
        self._work: deque[_Admitted] = deque()
        self._work_ready = threading.Condition()
        self._source_done = False
        self._slots = threading.Semaphore(self.config.max_in_flight)
        # Prioritised files' chunks go first, then each file's in input order, so
        # files finish one after another instead of all together at the end.
        self._patches: queue.PriorityQueue[tuple[int, int, int, PatchChunk | None]] = queue.PriorityQueue(
            maxsize=max(4, 2 * self.config.inference_threads * self.config.chunks_per_batch)
        )
        self._order = itertools.count()
        # (seq, event), and (None, None) once every thread is done.
        self._out: queue.SimpleQueue[tuple[int | None, FileStarted | FileResult | _Skipped | None]] = (
            queue.SimpleQueue()
        )
        self._decoders_left = self.config.decoders  # guarded by _work_ready
        self._open_jobs = 0  # files begun and not yet finished, that may want another round; guarded by _work_ready
        self._prioritised: set[Path] = set()  # guarded by _work_ready
        self._inference_left = self.config.inference_threads
        self._count_lock = threading.Lock()

    @property
    def _stopped(self) -> bool:
        return self.control.cancelled

    def prioritise(self, path: Path) -> bool:
        """Analyse ``path`` next, ahead of everything queued; it may be outside the
        input. False if the run can no longer take it (cancelled, or every file has
        been decoded): start another run for it then."""
        with self._work_ready:
            if self._stopped or self._decoders_left == 0:
                return False
            for admitted in list(self._work):
                if item_path(admitted.item) == path:
                    self._work.remove(admitted)
                    self._work.appendleft(admitted)
                    break
            else:
                # Its own place in the input, if still to come, is skipped when reached.
                self._prioritised.add(path)
                self._work.appendleft(_Admitted(path, None))
            self._work_ready.notify()
            return True

    def results(self, items: Iterable[Path | ScanEvent],
                on_start: Callable[[Path], None] | None = None) -> Generator[FileResult, None, None]:
        """A result per item, in input order: for scripts and the CLI."""
        for event in self.events(items, ordered=True):
            if isinstance(event, FileStarted) and on_start:
                on_start(event.path)
            elif isinstance(event, FileResult):
                yield event

    def events(self, items: Iterable[Path | ScanEvent], total: int | None = None,
               ordered: bool = False) -> Generator[PipelineEvent, None, None]:
        """Run the pipeline. Results come as files finish, or in input order with
        ``ordered``. A ScanEvent's problem comes back as a failed result. After a
        cancel no new file starts, files in flight stop at their next region, and the
        events end without their results. Closing the iterator cancels the run."""
        if total is None and isinstance(items, Sized):
            total = len(items)
        threads = [threading.Thread(target=self._admit, args=(items,), name="analysis-admit", daemon=True)]
        threads += [threading.Thread(target=self._decode_loop, name=f"analysis-decode-{i}", daemon=True)
                    for i in range(self.config.decoders)]
        threads += [threading.Thread(target=self._inference_loop, name=f"analysis-infer-{i}", daemon=True)
                    for i in range(self.config.inference_threads)]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        finished = failed = cached = 0
        waiting: dict[int, FileResult | _Skipped] = {}
        next_seq = 0
        ended = False
        try:
            while True:
                seq, event = self._out.get()
                if event is None:
                    ended = True
                    break
                if isinstance(event, FileStarted):
                    yield event
                    continue
                if self._stopped:
                    continue
                ready = [(seq, event)]
                if ordered and seq is not None:
                    waiting[seq] = event
                    ready = []
                    while next_seq in waiting:
                        ready.append((next_seq, waiting.pop(next_seq)))
                        next_seq += 1
                for seq, result in ready:
                    if seq is not None:
                        self._slots.release()
                    if result is _SKIPPED:
                        continue
                    finished += 1
                    failed += not result.ok
                    cached += bool(result.analysis and result.analysis.cached)
                    yield result
                    yield Progress(finished, failed, cached, total, time.perf_counter() - started)
        finally:
            if not ended:  # the caller stopped listening
                self.control.cancel()
            for thread in threads[1:]:  # the admitter may be blocked inside a slow scan
                thread.join()

    # The stages, each on its own threads.

    def _admit(self, items: Iterable[Path | ScanEvent]) -> None:
        try:
            for seq, item in enumerate(items):
                while not self._slots.acquire(timeout=POLL_S):
                    if self._stopped:
                        return
                self.control.wait_while_paused()
                if self._stopped:
                    return
                with self._work_ready:
                    self._work.append(_Admitted(item, seq))
                    self._work_ready.notify()
        except Exception as e:  # a scan that breaks must still end the run cleanly
            log.error("scanning stopped: %s", e)
        finally:
            with self._work_ready:
                self._source_done = True
                self._work_ready.notify_all()

    def _next_work(self) -> tuple[_Admitted | None, bool]:
        """The next file to decode, or (None, whether this was the last decoder to stop).
        A decoder's decision to stop and the count of those left change together, so
        ``prioritise`` never queues a file that no decoder will take."""
        self.control.wait_while_paused()
        with self._work_ready:
            while not self._work and not self._stopped and (not self._source_done or self._open_jobs):
                self._work_ready.wait(POLL_S)
            if self._stopped or not self._work:
                self._decoders_left -= 1
                return None, self._decoders_left == 0
            return self._work.popleft(), False

    def _decode_loop(self) -> None:
        while True:
            admitted, last = self._next_work()
            if admitted is None:
                break
            try:
                self._decode_one(admitted)
            except Exception as e:  # never lose an item: ordered results would wait for it forever
                self._out.put((admitted.seq, FileResult(item_path(admitted.item),
                                                        error=internal_error(e, item_path(admitted.item)))))
        if last:  # after every chunk, so inference drains the queue before it stops
            for _ in range(self.config.inference_threads):
                self._put_chunk((2, 0), None)

    def _decode_one(self, admitted: _Admitted) -> None:
        item, seq = admitted.item, admitted.seq
        if isinstance(item, FileJob):
            self._decode_round(item)
            return
        if isinstance(item, ScanEvent) and item.problem is not None:
            self._out.put((seq, FileResult(item.path, error=item.problem)))
            return
        path = item_path(item)
        if seq is not None and self._prioritised:
            with self._work_ready:
                if path in self._prioritised:
                    self._prioritised.discard(path)
                    self._out.put((seq, _SKIPPED))
                    return
        self._out.put((seq, FileStarted(path)))
        try:
            job = self.analyzer.begin(path, self.depth)
        except AudioError as e:
            self._out.put((seq, FileResult(path, error=str(e))))
            return
        except Exception as e:
            self._out.put((seq, FileResult(path, error=internal_error(e, path))))
            return
        if isinstance(job, Analysis):
            self._out.put((seq, FileResult(path, analysis=job)))
            return
        job.seq = seq
        with self._work_ready:
            self._open_jobs += 1
        self._decode_round(job)

    def _decode_round(self, job: FileJob) -> None:
        error = None
        chunks = self.analyzer.decode(job, self.control)
        try:
            for chunk in chunks:
                if not self._put_chunk((0, 0) if job.seq is None else (1, job.seq), chunk):
                    raise Cancelled(job.path)
                job.sent()
        except AudioError as e:
            error = str(e)
        except Cancelled:
            error = "cancelled"
        except MemoryError:
            error = "out of memory while analysing this file"
        except Exception as e:
            error = internal_error(e, job.path)
        finally:
            chunks.close()
        if job.decoded(error):
            self._complete(job)

    def _put_chunk(self, rank: tuple[int, int], chunk: PatchChunk | None) -> bool:
        entry = (*rank, next(self._order), chunk)
        while True:
            try:
                self._patches.put(entry, timeout=POLL_S)
                return True
            except queue.Full:
                if self._stopped:
                    return False

    def _inference_loop(self) -> None:
        try:
            while True:
                try:
                    *_, chunk = self._patches.get(timeout=POLL_S)
                except queue.Empty:
                    if self._stopped:
                        return
                    continue
                if chunk is None:
                    return
                batch, size = [chunk], len(chunk.patches)
                while size < self.config.batch_patches:
                    try:
                        entry = self._patches.get_nowait()
                    except queue.Empty:
                        break
                    if entry[-1] is None:
                        self._patches.put(entry)  # an end marker: leave it for later
                        break
                    batch.append(entry[-1])
                    size += len(entry[-1].patches)
                if self._stopped:
                    continue
                self._infer(batch)
        finally:
            with self._count_lock:
                self._inference_left -= 1
                last = self._inference_left == 0
            if last:
                self._out.put((None, None))

    def _infer(self, batch: list[PatchChunk]) -> None:
        try:
            completed = self.analyzer.infer(batch, self.config.batch_patches, self.control)
        except Cancelled:
            return  # the run is over; these files report nothing
        except Exception as e:  # onnxruntime failing on one batch fails its files, not the run
            log.debug("inference failed", exc_info=True)
            message = f"inference failed: {one_line(str(e)) or type(e).__name__}"
            completed = [c.job for c in batch if c.job.failed_chunk(c, message)]
        for job in completed:
            self._complete(job)

    def _complete(self, job: FileJob) -> None:
        """A round is complete: send the file for another, or report its result."""
        if job.error is not None:
            result = FileResult(job.path, error=job.error)
        else:
            try:
                if self.analyzer.deepen(job):
                    with self._work_ready:  # ahead of new files: it holds a slot and its outputs so far
                        self._work.appendleft(_Admitted(job, job.seq))
                        self._work_ready.notify()
                    return
                result = FileResult(job.path, analysis=self.analyzer.finish(job))
            except Exception as e:
                result = FileResult(job.path, error=internal_error(e, job.path))
        self._out.put((job.seq, result))
        with self._work_ready:
            self._open_jobs -= 1
            self._work_ready.notify_all()

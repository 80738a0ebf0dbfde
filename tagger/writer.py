"""Writing genres: planned in the journal, applied one file at a time, atomically.

All writes of a process go through one writer thread, so two writes never run at
once (Picard keeps a separate single-thread pool for saving for the same reason),
and an advisory lock on each file keeps two processes apart. Every write:

1. refuses a file that changed since it was analysed (``Fingerprint``);
2. parses it, and leaves it untouched if it does not parse cleanly;
3. records the old and new genres in the journal;
4. changes a copy, reads the copy back to check it, and swaps it in atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tagger import __version__
from tagger.audio import MPEG_SUFFIXES, mpeg_audio_span
from tagger.journal import OPEN_STATES, Entry, Journal
from tagger.safewrite import Fingerprint, WriteRefused, rewrite_atomically
from tagger.tags import TagError, WriteOptions, dedupe, merged, open_tags
from tagger.tags.base import WriteMode

_writer_pool: ThreadPoolExecutor | None = None


def writer_pool() -> ThreadPoolExecutor:
    """The process's single writer thread."""
    global _writer_pool
    if _writer_pool is None:
        _writer_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tag-writer")
    return _writer_pool


def _forget_pool_after_fork() -> None:
    # A forked child has no copy of the parent's thread; a new one starts on first use.
    global _writer_pool
    _writer_pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


@dataclass(frozen=True)
class WriteRequest:
    path: Path
    genres: list[str]
    expected: Fingerprint | None = None  # what the file looked like when analysed
    provenance: str | None = None  # the provenance field to write; None removes it
    require_current: list[str] | None = None  # undo: only if the file still holds these
    undoes: int | None = None  # undo: the journal entry this reverts


@dataclass(frozen=True)
class WriteResult:
    path: Path
    status: str  # planned (dry run), written, unchanged, skipped, error
    old_genres: list[str] = field(default_factory=list)
    new_genres: list[str] = field(default_factory=list)
    message: str | None = None
    batch: int | None = None

    @property
    def failed(self) -> bool:
        return self.status == "error"


def provenance_text(details: dict) -> str:
    """The provenance field: Genre Tagger's version plus what the caller knows (model, confidences)."""
    return json.dumps({"tool": f"genre-tagger {__version__}", **details}, ensure_ascii=False, separators=(",", ":"))


def same_genres(a: Iterable[str], b: Iterable[str]) -> bool:
    from tagger.genres import normalise_name

    return [normalise_name(g) for g in dedupe(a)] == [normalise_name(g) for g in dedupe(b)]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An advisory lock against another Genre Tagger process writing the same file."""
    try:
        import fcntl
    except ImportError:  # Windows: the single writer thread still serialises this process
        yield
        return
    try:
        handle = open(path, "rb")
    except OSError:
        yield  # the write itself reports the problem
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# Decoded before and after every write: a tag library that misplaces audio data
# (seen with unusual MP4 atoms and RIFF layouts) is caught before the swap.
PROBE_SPANS_S = ((0.0, 2.0), (0.5, 1.0))  # (position as a share of the duration, seconds)


def audio_probe(path: Path) -> np.ndarray | bytes | None:
    """A few decoded seconds from the start and the middle, or None if it does not decode.

    MPEG audio is compared as bytes instead: decoders start and end an MP3
    differently when a tag appears in front of it, although not a byte changed.
    """
    from tagger.audio import AudioError, open_audio

    if path.suffix.lower() in MPEG_SUFFIXES:
        return mpeg_audio_bytes(path)

    try:
        reader = open_audio(path)
    except AudioError:
        return None
    try:
        duration = reader.info.duration_s
        return np.concatenate([reader.read(where * duration if where else 0.0, seconds)
                               for where, seconds in PROBE_SPANS_S])
    except AudioError:
        return np.zeros(0, np.float32)  # undecodable: after the write it must stay exactly that
    finally:
        reader.close()


def mpeg_audio_bytes(path: Path) -> bytes:
    """A digest of an MP3's bytes between its ID3v2 tag(s) and its ID3v1/APEv2 tags."""
    start, end = mpeg_audio_span(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(start)
        remaining = end - start
        while remaining and (chunk := f.read(min(remaining, 1 << 20))):
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.digest()


def same_audio(before: np.ndarray | bytes, after: np.ndarray | bytes | None) -> bool:
    if isinstance(before, bytes):
        return before == after
    return isinstance(after, np.ndarray) and np.array_equal(before, after)


class GenreWriter:
    def __init__(self, journal: Journal | None = None, options: WriteOptions = WriteOptions()) -> None:
        self.journal = journal or Journal()
        self.options = options

    def write(self, requests: Iterable[WriteRequest], command: str, dry_run: bool = False) -> Iterator[WriteResult]:
        """Write every request, yielding a result per file in order; one failure stops nothing."""
        requests = list(requests)
        if dry_run:
            for request in requests:
                yield writer_pool().submit(self._plan_one, request).result()
            return
        batch, ids = self.journal.plan(
            command, self.options.mode.value,
            [{"path": r.path, "requested": r.genres,
              "expected": r.expected.to_json() if r.expected else None,
              "provenance": r.provenance,
              "require_current": r.require_current, "undoes": r.undoes}
             for r in requests],
        )
        for entry in self.journal.entries(batch):
            yield writer_pool().submit(self._apply, entry).result()

    def undo(self, batch: int | None = None) -> Iterator[WriteResult]:
        """Restore the genres a batch replaced; files changed since are skipped."""
        batch = batch if batch is not None else self.journal.last_batch(undoable=True)
        if batch is None:
            raise LookupError("nothing to undo: the journal has no written batch")
        entries = [e for e in self.journal.entries(batch) if e.state in ("written", "pending")]
        if not entries:
            raise LookupError(f"batch {batch} has no writes left to undo")
        # Undo restores exactly the old genres and provenance field, in reverse order.
        requests = [
            WriteRequest(e.path, e.old_genres or [], provenance=e.old_provenance, require_current=e.new_genres,
                         undoes=e.id)
            for e in reversed(entries)
        ]
        undo_writer = GenreWriter(self.journal, replace(self.options, mode=WriteMode.REPLACE))
        yield from undo_writer.write(requests, f"undo {batch}")

    def finish(self, batch: int | None = None) -> Iterator[WriteResult]:
        """Carry out what an interrupted batch had not written yet."""
        batch = batch if batch is not None else self.journal.last_batch()
        if batch is None:
            raise LookupError("the journal is empty")
        open_entries = [e for e in self.journal.entries(batch) if e.state in OPEN_STATES]
        if not open_entries:
            raise LookupError(f"batch {batch} has nothing left to finish")
        # The batch finishes in the mode it was planned in, whatever today's options say.
        mode = next(b.mode for b in self.journal.batches() if b.id == batch)
        batch_writer = GenreWriter(self.journal, replace(self.options, mode=WriteMode(mode)))
        for entry in open_entries:
            yield writer_pool().submit(batch_writer._apply, entry).result()

    def _target(self, current: list[str], requested: list[str]) -> list[str]:
        return merged(current, requested, self.options.mode)

    def _plan_one(self, request: WriteRequest) -> WriteResult:
        try:
            tag_format, audio = open_tags(request.path)
            snapshot = tag_format.read(audio, self.options.id3v23_separator)
        except TagError as e:
            return WriteResult(request.path, "error", message=str(e))
        new = self._target(snapshot.genres, request.genres)
        status = "unchanged" if same_genres(new, snapshot.genres) else "planned"
        return WriteResult(request.path, status, snapshot.genres, new)

    def _apply(self, entry: Entry) -> WriteResult:
        journal = self.journal
        try:
            tag_format, audio = open_tags(entry.path)
            snapshot = tag_format.read(audio, self.options.id3v23_separator)
        except TagError as e:
            journal.finish(entry.id, "error", str(e))
            return WriteResult(entry.path, "error", message=str(e), batch=entry.batch)
        if entry.state == "pending" and same_genres(snapshot.genres, entry.new_genres or []):
            # The write finished before the process stopped.
            journal.finish(entry.id, "written")
            return WriteResult(entry.path, "written", entry.old_genres or [], entry.new_genres or [],
                               "already written before the interruption", entry.batch)
        if entry.undoes is not None and snapshot.genres == entry.requested and snapshot.provenance == entry.provenance:
            # Undoing a write that a crash stopped before it happened: nothing to restore.
            journal.finish(entry.id, "unchanged")
            return WriteResult(entry.path, "unchanged", snapshot.genres, snapshot.genres,
                               "the interrupted write had not happened", entry.batch)
        if entry.require_current is not None and not same_genres(snapshot.genres, entry.require_current):
            message = (f"skipped: its genres changed since they were written "
                       f"(now {', '.join(snapshot.genres) or 'none'})")
            journal.finish(entry.id, "skipped", message)
            return WriteResult(entry.path, "skipped", snapshot.genres, snapshot.genres, message, entry.batch)
        new = self._target(snapshot.genres, entry.requested)
        provenance = entry.provenance
        if snapshot.genres == new and provenance == snapshot.provenance:
            journal.finish(entry.id, "unchanged")
            return WriteResult(entry.path, "unchanged", snapshot.genres, new, batch=entry.batch)
        journal.mark_pending(entry.id, snapshot.genres, new, snapshot.provenance)
        notes: list[str] = []

        def edit(temp: str) -> None:
            temp_audio = tag_format.open(temp, type(audio))
            notes.extend(tag_format.set_genres(temp_audio, new, self.options))
            tag_format.set_provenance(temp_audio, provenance)
            tag_format.save(temp_audio, temp, self.options)
            written = tag_format.read(tag_format.open(temp, type(audio)), self.options.id3v23_separator)
            if not same_genres(written.genres, new):
                raise WriteRefused(f"the written genres read back as {written.genres}, not {new}")
            if reference_audio is not None and not same_audio(reference_audio, audio_probe(Path(temp))):
                raise WriteRefused("writing the tags would change how the audio decodes, so the file is left untouched")

        reference_audio = audio_probe(entry.path)
        expected = Fingerprint.from_json(entry.expected) if entry.expected else None
        try:
            with file_lock(entry.path):
                rewrite_atomically(entry.path, edit, expected, self.options.keep_mtime)
        except (WriteRefused, TagError) as e:
            journal.finish(entry.id, "error", str(e))
            return WriteResult(entry.path, "error", snapshot.genres, snapshot.genres, str(e), entry.batch)
        except Exception as e:  # a mutagen failure on the copy; the original is untouched
            message = f"writing failed ({type(e).__name__}: {e}); the file is unchanged"
            journal.finish(entry.id, "error", message)
            return WriteResult(entry.path, "error", snapshot.genres, snapshot.genres, message, entry.batch)
        journal.finish(entry.id, "written", "; ".join(notes) or None)
        return WriteResult(entry.path, "written", snapshot.genres, new, "; ".join(notes) or None, entry.batch)

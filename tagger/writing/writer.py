"""Writing genres: planned in the journal, applied one file at a time, atomically.

All writes of a process go through one writer thread, so two writes never run at
once (Picard keeps a separate single-thread pool for saving for the same reason),
and an advisory lock on each file keeps two processes apart. Every write:

1. refuses a file that changed since it was analysed (``Fingerprint``) or since its
   batch was planned (``FileIdentity``), and one whose audio cannot be decoded to
   check it afterwards;
2. parses it, and leaves it untouched if it does not parse cleanly;
3. records the old and new genres in the journal;
4. changes a copy, reads the copy back (genres, every other tag item, the audio) to
   check it, and swaps it in atomically.

A failure of one file, expected or not, is that file's result: it never stops a batch.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tagger import __version__
from tagger.files.atomic import (
    WriteRefused,
    check_unchanged,
    remove_stale_temporaries,
    rewrite_atomically,
)
from tagger.files.identity import FileIdentity, Fingerprint, fingerprint
from tagger.files.locks import file_lock
from tagger.files.regular import irregular_file
from tagger.genres.vocabulary import genre_key
from tagger.tags import DEFAULT_SEPARATOR, TagError, TagFormat, WriteOptions, dedupe, merged, open_tags
from tagger.tags.base import TagSnapshot, WriteMode, separated
from tagger.text import TextEnum
from tagger.writing.journal import (
    OPEN_STATES,
    UNDOABLE_STATES,
    BatchState,
    BatchSummary,
    Entry,
    EntryState,
    Journal,
    JournalError,
    PlannedEntry,
)
from tagger.writing.probe import audio_probe, same_audio

# Called with a batch's id at a point of its life (GenreWriter.write's and undo's).
BatchHook = Callable[[int], None]

_writer_pool: ThreadPoolExecutor | None = None


def writer_pool() -> ThreadPoolExecutor:
    """The process's single writer thread."""
    global _writer_pool
    if _writer_pool is None:
        _writer_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tag-writer")
    return _writer_pool


def wait_for_writes() -> None:
    """Return once the write in flight, if any, is finished and recorded."""
    if _writer_pool is not None:
        # The pool's one thread runs in order: this no-op runs after the write before it.
        _writer_pool.submit(lambda: None).result()


def _forget_pool_after_fork() -> None:
    # A forked child has no copy of the parent's thread; a new one starts on first use.
    global _writer_pool
    _writer_pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


@dataclass(frozen=True)
class WriteRequest:
    """One file to write: its new genres, and what must still hold for the write to go ahead."""

    path: Path
    genres: list[str]
    expected: Fingerprint | None = None  # what the file looked like when analysed
    provenance: str | None = None  # the provenance field to write; None removes it
    require_current: list[str] | None = None  # undo: only if the file still holds these
    undoes: int | None = None  # undo: the journal entry this reverts
    identity: FileIdentity | None = None  # undo: the file as the reverted batch left it
    restore_field: str | None = None  # undo: the genre field as recorded before the write (TagFormat.genre_field)
    # This file's mode where it is not the batch's: a genre cleanup's genres are the file's
    # whole new list, which merging with the old spellings would undo.
    mode: WriteMode | None = None

    def __post_init__(self) -> None:
        if self.mode is not None:
            object.__setattr__(self, "mode", WriteMode(self.mode))


class WriteStatus(TextEnum):
    """What became of one file's write: the final entry state the journal records, or a dry run's planned.

    A view of EntryState rather than EntryState itself: a result is never pending or
    undone, and a dry run's planned (would be written) is recorded nowhere.
    """

    PLANNED = EntryState.PLANNED.value  # a dry run's: would be written
    WRITTEN = EntryState.WRITTEN.value
    UNCHANGED = EntryState.UNCHANGED.value  # it already held these genres
    SKIPPED = EntryState.SKIPPED.value  # an undo left alone a file that changed since
    ERROR = EntryState.ERROR.value

    @property
    def entry_state(self) -> EntryState:
        """The state the journal records for a file with this outcome."""
        return EntryState(self.value)


# The outcomes where the file holds what was asked (or a dry run found it could).
SUCCEEDED = (WriteStatus.PLANNED, WriteStatus.WRITTEN, WriteStatus.UNCHANGED)


@dataclass(frozen=True)
class WriteResult:
    """What became of one file's write: its status, its genres before and after, and why."""

    path: Path
    status: WriteStatus
    old_genres: list[str] = field(default_factory=list)
    new_genres: list[str] = field(default_factory=list)
    message: str | None = None
    batch: int | None = None
    # The values the file stores afterwards, where the write read or wrote them: ID3v2.3 (or
    # joined storage) holds the new genres as one value, "Rock; Pop".
    stored: list[str] | None = None

    @property
    def stored_genres(self) -> list[str]:
        """The file's genre values as stored after the write, as far as it knows them."""
        return self.new_genres if self.stored is None else self.stored

    @property
    def failed(self) -> bool:
        return self.status is WriteStatus.ERROR

    @property
    def ok(self) -> bool:
        """The file holds what was asked (or a dry run found it could)."""
        return self.status in SUCCEEDED


def provenance_text(details: dict) -> str:
    """The provenance field: Genre Tagger's version plus what the caller knows (model, confidences)."""
    return json.dumps({"tool": f"genre-tagger {__version__}", **details}, ensure_ascii=False, separators=(",", ":"))


def same_genres(a: Iterable[str], b: Iterable[str], separator: str = DEFAULT_SEPARATOR) -> bool:
    """Whether two genre lists name the same genres in the same order, however each is spelt
    and whether or not it joins them with ``separator``."""
    def keys(genres: Iterable[str]) -> list[str]:
        return [genre_key(g) for g in dedupe(p for g in genres for p in separated(g, separator))]

    return keys(a) == keys(b)


class GenreWriter:
    """Writes through ``journal``, which the caller opens once and shares: every write
    and undo of a command or a window goes into the same one."""

    def __init__(self, journal: Journal, options: WriteOptions = WriteOptions()) -> None:
        self.journal = journal
        self.options = options

    def start(self, command: str) -> int:
        """Record a batch as started before its files are known; pass the id to ``write``.

        A command killed while it scans or analyses then leaves an unfinished batch
        behind, and a following ``undo`` stops there instead of reverting an older one.
        """
        return self.journal.start(command, self.options.mode.value)

    def write(self, requests: Iterable[WriteRequest], command: str, dry_run: bool = False,
              batch: int | None = None, carried_out: BatchHook | None = None) -> Iterator[WriteResult]:
        """Write every request, yielding a result per file in order; one failure stops nothing.

        ``carried_out(batch)`` runs once a file of the batch holds its new genres (written, or
        holding them already), also when the caller stops early; never for a dry run or a
        batch whose every file failed. A genre cleanup saves its renames there.
        """
        requests = list(requests)
        if dry_run:
            for request in requests:
                yield writer_pool().submit(self._plan_one, request).result()
            return
        if batch is None:
            batch = self.start(command)
        self.remove_stale_temporaries()
        self.journal.plan(batch, [planned_entry(r) for r in requests])
        any_carried_out = False
        try:
            # Results name each file as the caller did, a symlink included; the journal holds its target.
            entries = self.journal.entries(batch)
            # Only a caller's identity (an undo's, a cleanup plan's) binds this run to one state of
            # the file; the one recorded while planning is for finish, after a crash. Under the
            # lock a plain write reads the file as it is, another process's write included, so two
            # merges end with both genres rather than a refusal for the second.
            bound = {entry.id for entry, request in zip(entries, requests) if request.identity is not None}
            for index, result in enumerate(self._run(batch, entries, bound)):
                any_carried_out = any_carried_out or result.ok
                yield replace(result, path=requests[index].path)
        finally:
            if any_carried_out and carried_out is not None:
                carried_out(batch)

    def undo(self, batch: int | None = None, moved_to: Path | None = None,
             before_writing: BatchHook | None = None) -> Iterator[WriteResult]:
        """Restore the genres a batch replaced, files changed since skipped.

        ``before_writing(batch)`` runs once the batch is known to have writes to undo, before
        the first file is restored: a genre cleanup takes back the renames it saved there.

        ``moved_to`` is where the folder that held the batch's files (their deepest common
        folder) is now, after it was moved or renamed. A moved file keeps its inode, size
        and modification time, so it is still recognised as the file the batch wrote.
        """
        summary = self.batch_to_undo(batch)
        entries = [e for e in self.journal.entries(summary.id) if e.state in UNDOABLE_STATES]
        if not entries:
            raise LookupError(f"batch {summary.id} has no writes left to undo")
        folder = Path(os.path.commonpath([e.path.parent for e in entries]))
        if moved_to is None and not any(e.path.exists() for e in entries):
            raise LookupError(f"none of batch {summary.id}'s {len(entries)} written file(s) is in {folder} any "
                              f"more; if that folder was moved or renamed, undo the batch from its new place: "
                              f"genre-tagger undo {summary.id} --root NEW_FOLDER")

        def now_at(path: Path) -> Path:
            return path if moved_to is None else Path(os.path.abspath(moved_to)) / path.relative_to(folder)

        # Undo restores exactly the old genres and provenance field, in reverse order.
        requests = [
            WriteRequest(now_at(e.path), e.old_genres or [], provenance=e.old_provenance, require_current=e.new_genres,
                         undoes=e.id, identity=self._identity_to_revert(e), restore_field=e.old_field)
            for e in reversed(entries)
        ]
        if before_writing is not None:
            before_writing(summary.id)
        undo_writer = GenreWriter(self.journal, self._undo_options())
        yield from undo_writer.write(requests, f"undo {summary.id}")

    def batch_to_undo(self, batch: int | None = None) -> BatchSummary:
        """The batch ``undo(batch)`` reverts, for saying what is about to happen before it does."""
        return self.journal.batch(batch) if batch is not None else self.journal.batch_to_undo()

    def finish(self, batch: int | None = None) -> Iterator[WriteResult]:
        """Carry out what an interrupted batch had not written yet."""
        batch = batch if batch is not None else self.journal.last_batch()
        if batch is None:
            raise LookupError("the journal is empty")
        summary = self.journal.batch(batch)
        open_entries = [e for e in self.journal.entries(batch) if e.state in OPEN_STATES]
        if not open_entries:
            if summary.state is BatchState.DONE:
                raise LookupError(f"batch {batch} has nothing left to finish")
            self.journal.complete(batch)  # interrupted before it planned a file: nothing to do
            return
        self.remove_stale_temporaries()
        # The batch finishes in the mode it was planned in, whatever today's options say,
        # and an undo batch (undo() writes nothing else into it) as an undo.
        undoing = open_entries[0].undoes is not None
        options = self._undo_options() if undoing else replace(self.options, mode=WriteMode(summary.mode))
        yield from GenreWriter(self.journal, options)._run(batch, open_entries)

    def _undo_options(self) -> WriteOptions:
        """An undo puts the old values back as they were stored: not merged, joined or tidied
        (verbatim stores them one each, whatever the multi-value setting)."""
        return replace(self.options, mode=WriteMode.REPLACE, exact=True, verbatim=True)

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove the temporary copies that killed writers left behind."""
        return remove_stale_temporaries(self.journal.temporaries(), self.journal.forget_temporary)

    def _identity_to_revert(self, entry: Entry) -> FileIdentity | None:
        """The file an undo of ``entry`` may change: as Genre Tagger last wrote it (this batch or a
        later one, an undo included), or as a crash during this entry's write left it."""
        try:
            current = FileIdentity.of(entry.path)
        except OSError:
            current = None
        crash_states = (entry.identity, entry.temp_identity)
        if entry.state is EntryState.PENDING and current is not None and current in crash_states:
            return current
        return self.journal.last_written_identity(entry.path)

    def _run(self, batch: int, entries: list[Entry], bound: set[int] | None = None) -> Iterator[WriteResult]:
        """Write ``entries``; those in ``bound`` (all, where None) only to the file their recorded
        identity names, the others to the file as the write finds it under the lock."""
        for entry in entries:
            yield writer_pool().submit(self._apply_safely, entry, bound is None or entry.id in bound).result()
        self.journal.complete(batch)

    def _target(self, current: list[str], requested: list[str], undoes: int | None,
                mode: WriteMode | None) -> list[str]:
        # An undo restores the values exactly as they were, repeats and stray spaces included.
        return list(requested) if undoes is not None else merged(current, requested, mode or self.options.mode)

    def _holds(self, tag_format: TagFormat, audio: object, snapshot: TagSnapshot, genres: list[str],
               provenance: str | None) -> bool:
        """Whether the file holds ``genres`` already: as it reads, or with ``exact`` as it stores them,
        and in every field that repeats its genre (a WAV's INFO chunk)."""
        if self.options.exact:
            same = snapshot.stored_genres == tag_format.stored_values(audio, genres, self.options)
        else:
            same = snapshot.genres == genres
        return same and provenance == snapshot.provenance and tag_format.in_step(audio, self.options.separator)

    def _plan_one(self, request: WriteRequest) -> WriteResult:
        try:
            tag_format, audio = open_tags(request.path)
            snapshot = tag_format.read(audio, self.options.separator)
        except TagError as e:
            return WriteResult(request.path, WriteStatus.ERROR, message=str(e))
        new = self._target(snapshot.genres, request.genres, request.undoes, request.mode)
        # As the write itself decides: a new provenance note is a change too.
        status = (WriteStatus.UNCHANGED if self._holds(tag_format, audio, snapshot, new, request.provenance)
                  else WriteStatus.PLANNED)
        return WriteResult(request.path, status, snapshot.genres, new)

    def _apply_safely(self, entry: Entry, bound: bool) -> WriteResult:
        try:
            # Held from the first read to the journal's record of the outcome: no other Genre
            # Tagger process reads the file between this one's read and its swap.
            with file_lock(entry.path):
                if not bound:
                    with contextlib.suppress(OSError):  # a file that is gone: reading it says so
                        entry = replace(entry, identity=FileIdentity.of(entry.path))
                return self._apply(entry)
        except Exception as e:  # a decoder's, tag library's or journal's failure before the swap
            return self._refuse(entry, f"writing failed ({type(e).__name__}: {e}); the file is unchanged")

    def _record(self, entry: Entry, state: EntryState, message: str | None = None,
                identity: FileIdentity | None = None) -> str | None:
        """Record an entry's outcome; returns why the journal could not, for the result's message."""
        try:
            self.journal.finish(entry.id, state, message, identity=identity)
        except JournalError as e:
            return f"the journal could not record this: {e}"
        return None

    def _refuse(self, entry: Entry, message: str, genres: list[str] | None = None) -> WriteResult:
        unrecorded = self._record(entry, EntryState.ERROR, message)
        message = f"{message}; {unrecorded}" if unrecorded else message
        return WriteResult(entry.path, WriteStatus.ERROR, genres or [], genres or [], message, entry.batch)

    def _result(self, entry: Entry, status: WriteStatus, old: list[str], new: list[str], message: str | None = None,
                identity: FileIdentity | None = None, stored: list[str] | None = None) -> WriteResult:
        """Record a final state and say so; a journal that fails now changes nothing in the file."""
        unrecorded = self._record(entry, status.entry_state, message, identity)
        if unrecorded:
            message = "; ".join(filter(None, [message, unrecorded, f"'genre-tagger finish {entry.batch}' records "
                                              "it once the journal can be written"]))
        return WriteResult(entry.path, status, old, new, message, entry.batch, stored)

    def _apply(self, entry: Entry) -> WriteResult:
        journal = self.journal
        if not entry.path.is_absolute():
            return self._refuse(entry, "recorded with a relative path by an older version; "
                                       "it is not clear which file was meant, so nothing is written")
        try:
            # Taken before the tags are read: a program other than Genre Tagger that changes the
            # file after this moment is noticed just before the swap.
            # A FIFO would block the read; opening it for its tags refuses it with a reason.
            seen: Fingerprint | None = None if irregular_file(entry.path) else fingerprint(entry.path)
        except OSError:
            seen = None  # opening it for its tags says what is wrong
        try:
            tag_format, audio = open_tags(entry.path)
            snapshot = tag_format.read(audio, self.options.separator)
        except TagError as e:
            return self._refuse(entry, str(e))
        if entry.identity is not None and not is_recorded_file(entry):
            return self._refuse(entry, "refused: this is not the file the batch recorded (it was replaced, "
                                       "renamed or changed since), so it is left untouched", snapshot.genres)
        separator = self.options.separator
        if entry.state is EntryState.PENDING and same_genres(snapshot.genres, entry.new_genres or [], separator):
            # The write finished before the process stopped, or before the journal could record it.
            return self._result(entry, WriteStatus.WRITTEN, entry.old_genres or [], entry.new_genres or [],
                                "already written before the interruption", FileIdentity.of(entry.path),
                                snapshot.stored_genres)
        if entry.undoes is not None and self._holds(tag_format, audio, snapshot, entry.requested, entry.provenance):
            # Undoing a write that a crash stopped before it happened: nothing to restore.
            return self._result(entry, WriteStatus.UNCHANGED, snapshot.genres, snapshot.genres,
                                "the interrupted write had not happened", stored=snapshot.stored_genres)
        if entry.require_current is not None and not same_genres(snapshot.genres, entry.require_current, separator):
            message = (f"skipped: its genres changed since they were written "
                       f"(now {', '.join(snapshot.genres) or 'none'})")
            return self._result(entry, WriteStatus.SKIPPED, snapshot.genres, snapshot.genres, message)
        new = self._target(snapshot.genres, entry.requested, entry.undoes, entry.mode)
        provenance = entry.provenance
        if self._holds(tag_format, audio, snapshot, new, provenance):
            return self._result(entry, WriteStatus.UNCHANGED, snapshot.genres, new, stored=snapshot.stored_genres)
        refusal = tag_format.refusal(audio, os.fspath(entry.path))
        if refusal:
            return self._refuse(entry, refusal, snapshot.genres)
        try:
            check_unchanged(entry.path, entry.expected)
        except WriteRefused as e:
            return self._refuse(entry, str(e), snapshot.genres)
        reference_audio = audio_probe(entry.path)
        if reference_audio is None and not self.options.force_undecodable:
            return self._refuse(entry, "refused: its audio does not decode, so the write could not be checked "
                                       "to leave the audio intact (--force-undecodable writes it anyway)",
                                snapshot.genres)
        # Write-ahead: the old values as stored (so that an undo puts back the same bytes) are
        # durable before the file is touched.
        journal.mark_pending(entry.id, snapshot.stored_genres, new, snapshot.provenance,
                             tag_format.genre_field(os.fspath(entry.path)))
        notes: list[str] = []
        stored: list[str] = []

        def edit(temp: str) -> None:
            temp_audio = tag_format.open(temp, type(audio))
            notes.extend(tag_format.set_genres(temp_audio, new, self.options))
            if entry.restore_field is not None:
                tag_format.restore_field(temp_audio, entry.restore_field)
            tag_format.set_provenance(temp_audio, provenance)
            stored[:] = tag_format.stored_values(temp_audio, new, self.options)
            tag_format.save(temp_audio, temp, self.options)
            written = tag_format.read(tag_format.open(temp, type(audio)), separator)
            if written.stored_genres != stored:
                # Seen where a damaged chunk or atom size hides the tag that was written.
                raise WriteRefused(f"the written genres read back as {written.stored_genres}, not {stored}: "
                                   "the file's layout may be damaged, so it is left untouched")
            problem = tag_format.check_preserved(os.fspath(entry.path), temp)
            if problem:
                raise WriteRefused(f"{problem}, so the file is left untouched")
            if reference_audio is not None and not same_audio(
                    reference_audio, audio_probe(Path(temp), reference_audio.duration_s)):
                raise WriteRefused("writing the tags would change how the audio decodes, so the file is left untouched")

        temporaries: list[Path] = []

        def record_temporary(temp: Path) -> None:
            temporaries.append(temp)
            journal.record_temporary(temp, entry.path)

        try:
            # The copy's identity is durable before the swap: if the journal cannot record the
            # outcome afterwards, finish and undo still recognise the file as this write's.
            identity = rewrite_atomically(
                entry.path, edit, seen or entry.expected, self.options.keep_mtime, on_temporary=record_temporary,
                on_ready=lambda copy: journal.set_temp_identity(entry.id, copy),
            )
        except (WriteRefused, TagError) as e:
            return self._refuse(entry, str(e), snapshot.genres)
        except Exception as e:  # a mutagen or journal failure before the swap; the original is untouched
            return self._refuse(entry, f"writing failed ({type(e).__name__}: {e}); the file is unchanged",
                                snapshot.genres)
        finally:
            for temp in temporaries:
                with contextlib.suppress(JournalError):  # a stale record is dropped by the next write
                    journal.forget_temporary(temp)
        return self._result(entry, WriteStatus.WRITTEN, snapshot.genres, new, "; ".join(notes) or None, identity,
                            stored)


def planned_entry(request: WriteRequest) -> PlannedEntry:
    """A request as the journal records it: absolute, resolved path, and the file's identity now."""
    path = Path(os.path.realpath(request.path))
    identity = request.identity
    if identity is None:
        try:
            identity = FileIdentity.of(path)
        except OSError:
            identity = None  # the write reports the problem
    return PlannedEntry(path=path, requested=request.genres, expected=request.expected, provenance=request.provenance,
                        require_current=request.require_current, undoes=request.undoes, identity=identity,
                        restore_field=request.restore_field, mode=request.mode)


def is_recorded_file(entry: Entry) -> bool:
    """Whether the file at the entry's path is the one the journal recorded for it.

    A pending write may already have swapped in its copy, whose identity was recorded
    just before the swap.
    """
    try:
        current = FileIdentity.of(entry.path)
    except OSError:
        return False
    recorded = [entry.identity] + ([entry.temp_identity] if entry.state is EntryState.PENDING else [])
    return current in recorded

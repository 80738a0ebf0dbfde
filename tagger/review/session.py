"""The review session: the files under review, the rules over them, and their writes.

Both front ends drive one ``ReviewSession``: the command line's ``apply`` accepts
what reaches a threshold and writes it; the desktop app adds rows as a scan finds
them, takes analyses as workers finish them, and writes what a person accepted. The
session is the only owner of the rows. It announces every change to its
subscribers (the table, the album view, the panels), so no caller has to remember
which views to repaint.

It opens nothing itself: the journal is passed in, and one journal serves every
write and undo of a session. Undo is scoped to the batches this session applied,
so an undo never reaches a file the person is not looking at; older batches stay
reachable by id (the app's History).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tagger.analysis.analyzer import Analysis, FileResult
from tagger.files.atomic import write_file_atomically
from tagger.files.regular import read_state_file
from tagger.genres.suggestion import GenreSuggestion
from tagger.genres.vocabulary import genre_key
from tagger.library.context import ContextIndex
from tagger.review.items import ReviewItem, ReviewState
from tagger.settings import EvidenceChoice, Settings
from tagger.tags import WriteMode, WriteOptions
from tagger.writing.journal import BatchSummary, Journal
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult

log = logging.getLogger(__name__)

SAVED_SESSION_VERSION = 1


@dataclass(frozen=True)
class Change:
    """What changed in a session: rows appended (``added``), or rows whose content
    changed (``paths``); ``reset`` where every row may have changed."""

    paths: tuple[Path, ...] = ()
    added: tuple[ReviewItem, ...] = ()
    reset: bool = False


Listener = Callable[[Change], None]


class SavedSessionError(Exception):
    """A saved session that cannot be restored, with the reason."""


class ReviewSession:
    """The review of a set of files: the rules for suggesting, accepting, editing, applying and undoing, shared by
    the app and the command line."""

    def __init__(self, settings: Settings, journal: Journal) -> None:
        self.settings = settings
        self.journal = journal
        self.items: list[ReviewItem] = []
        self.roots: list[Path] = []  # the folders and files added, which learning reads again
        self._index_of: dict[Path, int] = {}
        self._listeners: list[Listener] = []
        self._applied: list[int] = []  # journal batches this session wrote, oldest first, not undone yet
        # Renames and merges marked in the rows (old, new, the rows' paths), not written yet.
        self._renames: list[tuple[str, str, frozenset[Path]]] = []
        self._context: ContextIndex | None = None  # built from the rows' tags when first needed
        self._given_context: ContextIndex | None = None  # use_context's, which stands for the rows'

    # The observable store.

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the call that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _announce(self, change: Change) -> None:
        if change.paths or change.added or change.reset:
            for listener in list(self._listeners):
                listener(change)

    def changed(self, items: Iterable[ReviewItem]) -> None:
        """Announce rows that changed outside the session's own calls."""
        self._announce(Change(paths=tuple(i.path for i in items)))

    def item(self, path: Path) -> ReviewItem | None:
        index = self._index_of.get(path)
        return None if index is None else self.items[index]

    def known_paths(self) -> frozenset[Path]:
        return frozenset(self._index_of)

    def add(self, items: Iterable[ReviewItem]) -> list[ReviewItem]:
        """Append the rows not listed yet; returns them."""
        fresh = []
        for item in items:
            if item.path not in self._index_of:
                self._index_of[item.path] = len(self.items)
                self.items.append(item)
                fresh.append(item)
        if fresh:
            self._context = None
        self._announce(Change(added=tuple(fresh)))
        return fresh

    def clear(self) -> None:
        """Drop every row (the files stay as they are); the undo stack stays."""
        self.items, self._index_of, self.roots = [], {}, []
        self._context = None
        self._announce(Change(reset=True))

    def add_roots(self, paths: Iterable[Path]) -> None:
        self.roots += [p for p in paths if p not in self.roots]

    # Analysis.

    def to_analyse(self, paths: Sequence[Path] | None = None) -> list[Path]:
        """``paths`` (those not being analysed now), or with None every row that
        lacks an analysis or failed: a re-run can mend a file a decoder could not read
        then, and rejected files are left alone."""
        if paths is not None:
            return [p for p in paths if (i := self.item(p)) is not None and i.state is not ReviewState.ANALYSING]
        return [i.path for i in self.items if i.state not in (ReviewState.REJECTED, ReviewState.ANALYSING)
                and (i.analysis is None or i.state is ReviewState.ERROR)]

    def analysis_started(self, paths: Iterable[Path]) -> None:
        started = [i for i in map(self.item, paths) if i is not None]
        for item in started:
            item.start_analysis()
        self.changed(started)

    def take_analyses(self, results: Iterable[FileResult]) -> list[str]:
        """Give each row its analysis or its error; returns the errors, one line each."""
        errors, touched = [], []
        for result in results:
            item = self.item(result.path)
            if item is None:
                continue
            if result.error is not None:
                item.failed(result.error)
                errors.append(f"{result.path.name}: {result.error}")
            elif result.analysis is not None:
                item.analysed(result.analysis, self.settings.min_confidence, self.settings.max_genres,
                              self.suggestions(result.analysis))
            touched.append(item)
        self.changed(touched)
        return errors

    def use_context(self, context: ContextIndex) -> None:
        """Take ``context`` (built from more files than the rows, as the CLI reads a
        whole collection before analysing) instead of the one the rows make."""
        self._given_context = context

    def context(self) -> ContextIndex:
        """What the rows' albums, artists and folders say, from their tags as read."""
        if self._given_context is not None:
            return self._given_context
        if self._context is None:
            self._context = ContextIndex.of((i.path, i) for i in self.items)
        return self._context

    def suggestions(self, analysis: Analysis) -> list[GenreSuggestion]:
        """A file's suggestions: its analysis's genres, with its context's evidence
        unless the settings ask for the audio's alone."""
        if self.settings.evidence is EvidenceChoice.AUDIO or not analysis.music_detected:
            return list(analysis.genres)
        return self.context().combine(analysis.path, analysis.genres)

    def analysis_ended(self) -> None:
        """Rows whose analysis a cancel cut short go back to where they were."""
        interrupted = [i for i in self.items if i.state is ReviewState.ANALYSING]
        for item in interrupted:
            item.analysis_interrupted()
        self.changed(interrupted)

    def review(self, result: FileResult) -> ReviewItem:
        """A row for one analysed file, for callers that stream files through (``apply``)."""
        item = self.item(result.path) or self.add([ReviewItem(result.path)])[0]
        self.take_analyses([result])
        return item

    # Decisions.

    def accept(self, items: Iterable[ReviewItem]) -> list[ReviewItem]:
        """Accept ``items``; returns those with nothing to accept."""
        items = list(items)
        refused = [i for i in items if not i.accept()]
        self.changed(items)
        return refused

    def above(self, threshold: float) -> list[ReviewItem]:
        """The rows no one has decided on whose best candidate reaches ``threshold``:
        what ``accept_above`` takes, for previewing it."""
        return [i for i in self.items if i.state in (ReviewState.SUGGESTED, ReviewState.UNSURE)
                and (i.top_confidence or 0.0) >= threshold]

    def accept_above(self, threshold: float, items: Iterable[ReviewItem] | None = None) -> list[ReviewItem]:
        """Accept every undecided row (of ``items``, or all) whose best candidate reaches
        ``threshold``, with its candidates that reach it; returns those accepted."""
        pool = self.above(threshold) if items is None else [
            i for i in items if i.state in (ReviewState.SUGGESTED, ReviewState.UNSURE)]
        accepted = [i for i in pool if i.accept(threshold, self.settings.max_genres)]
        self.changed(pool)
        return accepted

    def reject(self, items: Iterable[ReviewItem]) -> None:
        items = list(items)
        for item in items:
            item.reject()
        self.changed(items)

    def edit(self, items: Iterable[ReviewItem], genres: Sequence[str]) -> list[ReviewItem]:
        return self.edit_each((item, genres) for item in items)

    def edit_each(self, edits: Iterable[tuple[ReviewItem, Sequence[str]]]) -> list[ReviewItem]:
        """Each row its own genres: a multi-row edit keeps what only some rows had. Returns
        the rows that failed, whose genres wait for an analysis that succeeds."""
        items = []
        for item, genres in edits:
            item.edit(genres)
            items.append(item)
        self.changed(items)
        return [i for i in items if i.waits_for_analysis]

    def cleanup(self, edits: Iterable[tuple[ReviewItem, Sequence[str]]],
                renames: Sequence[tuple[str, str]] = ()) -> None:
        """A genre cleanup marked in the rows: each row's genres replace the file's (none at
        all where only junk was there). Each rename or merge of ``renames``, (old, new),
        becomes the person's alias with the write that carries it out, not before: rows
        edited again or never written leave the aliases as they were."""
        items = []
        for item, genres in edits:
            item.rewrite(genres)
            items.append(item)
        self.changed(items)
        paths = frozenset(item.path for item in items)
        self._renames += [(old, new, paths) for old, new in renames]

    def renames_in(self, requests: Sequence[WriteRequest]) -> list[tuple[str, str]]:
        """The marked renames that writing ``requests`` carries out (a row of theirs is written
        as that cleanup, with the new name), for the writer to save with its batch. Written
        again after an undo, they are carried out again."""
        writing = {r.path: {genre_key(g) for g in r.genres} for r in requests if r.mode is WriteMode.REPLACE}
        return [(old, new) for old, new, paths in self._renames
                if any(genre_key(new) in writing.get(path, ()) for path in paths)]

    def toggle(self, item: ReviewItem, genre: str) -> bool:
        changed = item.toggle(genre)
        self.changed([item])
        return changed

    def set_settings(self, settings: Settings) -> list[ReviewItem]:
        """Take new settings; new thresholds re-pick the undecided rows' candidates, and
        another choice of evidence ranks them again (decided rows keep what their
        decision rested on). Returns the rows that changed."""
        rerank = settings.evidence != self.settings.evidence
        self.settings = settings
        changed = []
        for item in self.items:
            undecided = item.state in (ReviewState.SUGGESTED, ReviewState.UNSURE) and not item.edited
            if rerank and undecided and item.analysis is not None and not item.album_genres:
                item.suggestions = self.suggestions(item.analysis)
                item.repick(settings.min_confidence, settings.max_genres, force=True)
                changed.append(item)
            elif item.repick(settings.min_confidence, settings.max_genres):
                changed.append(item)
        self.changed(changed)
        return changed

    def undecided_work(self) -> list[ReviewItem]:
        """Rows with a decision no file holds yet: what quitting would lose unsaved."""
        return [i for i in self.items if i.undecided_work]

    # Writing.

    def writer(self, mode: WriteMode | None = None, options: WriteOptions | None = None) -> GenreWriter:
        """The writer of this review's Apply, for the app and the command line alike, over the
        session's journal: with the settings' options or the command line's ``options``, and
        ``mode`` overriding theirs for one batch. It writes exactly what a row shows, so a genre
        cleanup's tidying (a numeric code named, a stray space gone) is a change even where the
        genres read the same."""
        chosen = replace(options or self.settings.write_options(), exact=True)
        return GenreWriter(self.journal, chosen if mode is None else replace(chosen, mode=mode))

    def writable(self, items: Iterable[ReviewItem] | None = None) -> list[ReviewItem]:
        return [i for i in (self.items if items is None else items) if i.can_write]

    def write_requests(self, items: Iterable[ReviewItem] | None = None) -> list[WriteRequest]:
        """The writes of the accepted rows (of ``items``, or all)."""
        return [i.write_request(self.settings.provenance) for i in self.writable(items)]

    def take_written(self, results: Iterable[WriteResult]) -> list[str]:
        """Show each file as the write left it; returns the failures, one line each."""
        return self._take(results, undo=False)

    def applied(self, batch: int | None) -> None:
        """A batch this session wrote: the next undo reverts it (if it wrote anything)."""
        if batch is not None and batch not in self._applied and self.journal.batch(batch).undoable:
            self._applied.append(batch)

    @property
    def can_undo(self) -> bool:
        """Whether this session wrote a batch it has not undone; asks nothing of the journal,
        so the app can ask often (``batch_to_undo`` checks the journal)."""
        return bool(self._applied)

    def batch_to_undo(self) -> BatchSummary | None:
        """The newest batch this session wrote that has writes left to undo; None if none."""
        while self._applied:
            try:
                summary = self.journal.batch(self._applied[-1])
            except LookupError:
                summary = None
            if summary is not None and summary.undoable:
                return summary
            self._applied.pop()  # undone elsewhere (the command line), or nothing was written
        return None

    def take_undone(self, results: Iterable[WriteResult], batch: int) -> list[str]:
        """Show each file as an undo of ``batch`` left it; the batch is off the undo stack
        either way, so a second undo never reverts it again."""
        if batch in self._applied:
            self._applied.remove(batch)
        return self._take(results, undo=True)

    def _take(self, results: Iterable[WriteResult], undo: bool) -> list[str]:
        errors, touched = [], []
        for result in results:
            item = self.item(result.path)
            if item is not None:
                (item.undone if undo else item.written)(result)
                touched.append(item)
            if not result.ok:
                errors.append(f"{result.path.name}: {result.message or result.status}")
        if touched:  # their genres are evidence for the next analyses of their album mates
            self._context = None
        self.changed(touched)
        return errors

    # Saving and restoring.

    def save(self, path: Path) -> None:
        """Keep the rows, decisions and undo stack in ``path`` for the next start (atomically);
        the app's own saved review goes through ``tagger.review.saved.SavedReview``, its one owner."""
        record = {"version": SAVED_SESSION_VERSION, "roots": [str(r) for r in self.roots],
                  "applied": self._applied, "items": [i.to_json() for i in self.items],
                  "renames": [[old, new, sorted(map(str, paths))] for old, new, paths in self._renames]}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(path, json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogateescape"))

    def restore(self, path: Path) -> list[ReviewItem]:
        """Take the rows a saved session kept in ``path``; [] if there is none. The rows that had an
        analysis need it again (from the cache) before they can be written.
        SavedSessionError for a file that is not a saved session."""
        try:
            record = json.loads(read_state_file(path).decode("utf-8", "surrogateescape"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as e:
            raise SavedSessionError(f"the saved review in {path} cannot be read ({e})") from None
        try:
            if record["version"] != SAVED_SESSION_VERSION:
                raise SavedSessionError(f"the saved review in {path} is from another version of Genre Tagger")
            items = [ReviewItem.from_json(r) for r in record["items"]]
            roots = [Path(r) for r in record["roots"]]
            applied = [int(b) for b in record["applied"]]
            renames = [(str(old), str(new), frozenset(map(Path, paths)))
                       for old, new, paths in record.get("renames", [])]
        except (KeyError, TypeError, ValueError) as e:
            raise SavedSessionError(f"the saved review in {path} is damaged ({type(e).__name__}: {e})") from None
        self.add_roots(roots)
        self._applied = applied + [b for b in self._applied if b not in applied]
        self._renames += [r for r in renames if r not in self._renames]
        return self.add(items)

"""Genre cleanup: the genres a library already holds, and plans that tidy, rename and merge them.

    paths -> each file's stored genre values (tags only, no audio decoded)
          -> GenreOverview (distinct values, their groups, spellings and problems)
          -> GenrePlan per file (the values to store) -> write requests, one undoable batch

Two values are one genre when ``Vocabulary.key`` says so. A stored value is read
as ``tagger.tags.read_genres`` reads it, except that a joined value is split
when each part is a genre of the vocabulary *or of this library*, which only the
whole library shows.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tagger.files.identity import FileIdentity
from tagger.files.scan import ScanEvent, scan
from tagger.genres.vocabulary import (
    AliasChange,
    Vocabulary,
    genre_key,
    is_junk,
    joined_parts,
    save_user_alias,
    take_back_alias,
    vocabulary,
)
from tagger.tags import DEFAULT_SEPARATOR, MultiValue, tags_or_problem
from tagger.tags.base import dedupe, legacy_genre_names, separated
from tagger.text import TextEnum
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult


class Flag(TextEnum):
    """A problem with one stored genre value that cleanup can fix."""

    JUNK = "junk"  # not a genre: "Other", "Unknown", a URL, an empty value
    NUMERIC = "numeric"  # an ID3v1 code such as "(17)" or "17"
    JOINED = "joined"  # several genres in one value, other than by the storage separator: "Rock/Pop"


class Storage(TextEnum):
    """How a file stores its genres."""

    NONE = "none"
    SINGLE = "single"  # one value
    SEPARATE = "separate"  # one value per genre
    JOINED = "joined"  # one value, several genres joined by the separator (ID3v2.3's way)


class Target(TextEnum):
    """Which spelling a group of variants gets."""

    LIBRARY = "library"  # the library's most common (ties: the canonical one)
    CANONICAL = "canonical"  # the vocabulary's, where it knows the genre


@dataclass(frozen=True)
class FileGenres:
    """One file's genre values as stored, or why its tags could not be read."""

    path: Path
    stored: tuple[str, ...] = ()
    format: str = ""
    provenance: str | None = None
    identity: FileIdentity | None = None  # the file when it was read: a write refuses a file changed since
    problem: str | None = None


@dataclass(frozen=True)
class ValueReading:
    """What one stored value means."""

    genres: tuple[str, ...]  # spacing tidied, codes named, joined values split
    flags: frozenset[Flag]
    tidy: bool  # stored as cleanup would store it: no stray spaces, empty pieces or numeric codes


@dataclass(frozen=True)
class GenreGroup:
    """One genre of the library in all the ways its files spell it."""

    name: str  # the spelling cleanup gives it (the library's most common)
    files: int
    variants: dict[str, int]  # each stored value that names it, with its file count
    canonical: str | None
    family: str | None
    flags: frozenset[Flag]
    untidy_files: int = 0  # files that store it otherwise than normalise would: those normalise rewrites for it

    @property
    def has_variants(self) -> bool:
        """Stored, in some file, otherwise than normalise would store it (``Planner.untidy``): the one
        rule of the Genres tab, ``genres`` and ``normalise``. A value that joins it with other genres by
        the storage separator ("Jazz;Blues") is how a file stores several genres, not a variant."""
        return self.untidy_files > 0

    @property
    def has_problem(self) -> bool:
        return bool(self.flags) or self.has_variants


@dataclass(frozen=True)
class CleanupRules:
    """How normalise tidies genres: which spelling wins, whether junk goes and how values are stored."""

    to: Target = Target.LIBRARY
    drop_junk: bool = False
    split: bool = True
    multi_value: MultiValue | None = None  # None keeps each file's way of storing several genres


@dataclass(frozen=True)
class GenrePlan:
    """One file's genres as stored and as cleanup would store them."""

    file: FileGenres
    after: tuple[str, ...]  # the values to store

    @property
    def changed(self) -> bool:
        return self.after != self.file.stored


# Below this many files, starting worker processes (each imports mutagen) costs more than they save.
PARALLEL_FROM = 2000
CHUNK = 256  # files a worker reads per task


def survey(paths: Iterable[Path], separator: str = DEFAULT_SEPARATOR,
           workers: int | None = None) -> Iterator[FileGenres]:
    """Every audio file under ``paths`` with its stored genres, in scan order; problems are results too.

    Parsing tags is pure Python, so a large library is read by ``workers`` processes
    (default: one per CPU), a few chunks in flight at a time so that memory stays flat.
    """
    events = scan(paths)
    head = list(itertools.islice(events, PARALLEL_FROM))
    workers = workers or os.cpu_count() or 1
    if len(head) < PARALLEL_FROM or workers < 2:
        yield from read_files(itertools.chain(head, events), separator)
        return
    # spawn, not fork: a fork copies whatever threads and locks the caller holds.
    context = multiprocessing.get_context("spawn")
    chunks = iter(lambda: list(itertools.islice(events, CHUNK)), [])
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        in_flight: deque = deque()
        for chunk in itertools.chain([head[i:i + CHUNK] for i in range(0, len(head), CHUNK)], chunks):
            in_flight.append(pool.submit(read_chunk, chunk, separator))
            if len(in_flight) > 2 * workers:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()


def read_chunk(events: list[ScanEvent], separator: str) -> list[FileGenres]:
    return list(read_files(events, separator))


def read_files(events: Iterable[ScanEvent], separator: str) -> Iterator[FileGenres]:
    for event in events:
        if event.problem:
            yield FileGenres(event.path, problem=event.problem)
            continue
        try:
            identity = FileIdentity.of(event.path)
        except OSError as e:
            yield FileGenres(event.path, problem=e.strerror or str(e))
            continue
        snapshot, problem = tags_or_problem(event.path, separator)
        if snapshot is None:
            yield FileGenres(event.path, identity=identity, problem=problem)
        else:
            yield FileGenres(event.path, tuple(snapshot.stored_genres), snapshot.format, snapshot.provenance, identity)


@dataclass
class _Tally:
    files: int = 0
    spellings: Counter[str] = field(default_factory=Counter)  # spelling -> files
    variants: Counter = field(default_factory=Counter)  # stored value -> files
    flags: set = field(default_factory=set)
    untidy_files: int = 0


class GenreOverview:
    """The library's genres, counted file by file.

    It keeps each distinct combination of stored values with its file count, so memory
    grows with the variety of a library's tags, not with its files. Readings settle
    once every file is counted: whether "Rock/Pop" splits depends on the whole library.
    """

    def __init__(self, vocab: Vocabulary | None = None, separator: str = DEFAULT_SEPARATOR) -> None:
        self.vocabulary = vocab or vocabulary()
        self.separator = separator
        self.files = 0
        self.problems = 0
        self._combinations: Counter[tuple[str, ...]] = Counter()  # a file's stored values -> files
        self._library_keys: set[str] | None = None
        self._readings: dict[tuple[str, bool], ValueReading] = {}

    def add(self, file: FileGenres) -> None:
        if file.problem is not None:
            self.problems += 1
            return
        self.files += 1
        self._combinations[file.stored] += 1
        if self._library_keys is not None:
            self._library_keys = None
            self._readings.clear()

    def storage(self) -> Counter[Storage]:
        """How many files store their genres in each way."""
        counts: Counter[Storage] = Counter()
        for stored, files in self._combinations.items():
            counts[self.storage_of(stored)] += files
        return counts

    # -- reading values --------------------------------------------------------------------------

    def known(self, name: str) -> bool:
        """A genre of the vocabulary, or one this library holds as a value of its own."""
        if self._library_keys is None:
            values = {value for stored in self._combinations for value in stored}
            self._library_keys = {self.vocabulary.key(g) for value in values for g in self._plain(value)
                                  if not is_junk(g)}
        return self.vocabulary.knows(name) or self.vocabulary.key(name) in self._library_keys

    def _pieces(self, value: str) -> list[str]:
        """The value with numeric codes named, split at the storage separator, spacing tidied;
        a blank value is one blank piece."""
        if not value.strip():
            return [""]
        pieces = [" ".join(p.split()) for n in legacy_genre_names([value]) for p in separated(n, self.separator)]
        return [p for p in pieces if p] or [""]

    def _plain(self, value: str) -> list[str]:
        """The value's genres that are not joined: what a library holds on its own, and so makes known."""
        return [p for p in self._pieces(value) if len(joined_parts(p)) == 1]

    def reading(self, value: str, split: bool = True) -> ValueReading:
        cached = self._readings.get((value, split))
        if cached is not None:
            return cached
        flags = set()
        if value.strip() and legacy_genre_names([value]) != [value]:
            flags.add(Flag.NUMERIC)
        genres: list[str] = []
        for piece in self._pieces(value):
            parts = joined_parts(piece)
            if len(parts) > 1 and not self.known(piece) and all(map(self.known, parts)):
                flags.add(Flag.JOINED)
                if split:
                    genres += parts
                    continue
            genres.append(piece)
        if any(is_junk(g) for g in genres):
            flags.add(Flag.JUNK)
        tidy = (Flag.NUMERIC not in flags and value == " ".join(value.split())
                and all(p.strip() for p in separated(value, self.separator)))
        reading = ValueReading(tuple(genres), frozenset(flags), tidy)
        self._readings[(value, split)] = reading
        return reading

    def storage_of(self, stored: Iterable[str]) -> Storage:
        values = [v for v in stored if v.strip()]
        if not values:
            return Storage.NONE
        if len(values) > 1:
            return Storage.SEPARATE
        pieces = [p for p in separated(values[0], self.separator) if p.strip()]
        return Storage.JOINED if len(pieces) > 1 else Storage.SINGLE

    # -- the groups ------------------------------------------------------------------------------

    def _tallies(self) -> dict[str, _Tally]:
        tallies: dict[str, _Tally] = {}
        for stored, files in self._combinations.items():
            # This combination's genres and spellings: a file counts once for each.
            counted: set[str | tuple[str, str]] = set()
            for value in dict.fromkeys(stored):
                reading = self.reading(value)
                for genre in dict.fromkeys(reading.genres):
                    key = self.vocabulary.key(genre)  # "" for every blank value
                    tally = tallies.setdefault(key, _Tally())
                    if key not in counted:
                        counted.add(key)
                        tally.files += files
                    if (key, genre) not in counted:
                        counted.add((key, genre))
                        tally.spellings[genre] += files
                    tally.variants[value] += files
                    tally.flags |= reading.flags if is_junk(genre) else reading.flags - {Flag.JUNK}
        return tallies

    def groups(self) -> list[GenreGroup]:
        """Every genre of the library, most files first. A file holding two variants of a
        genre counts once for the genre and once for each variant."""
        tallies = self._tallies()
        # Whether a group is stored untidily is normalise's own decision, file by file.
        normalise = self.planner(CleanupRules())
        for stored, files in self._combinations.items():
            for key in normalise.untidy(FileGenres(Path(), stored)):
                tallies[key].untidy_files += files
        groups = []
        for tally in tallies.values():
            name = self._spelling(tally.spellings, Target.LIBRARY)
            junk = is_junk(name)
            groups.append(GenreGroup(
                name, tally.files, dict(tally.variants.most_common()),
                None if junk else self.vocabulary.canonical(name),
                None if junk else self.vocabulary.family(name),
                frozenset(tally.flags | ({Flag.JUNK} if junk else set())),
                tally.untidy_files,
            ))
        groups.sort(key=lambda g: (-g.files, g.name.casefold()))
        return groups

    def _spelling(self, spellings: Counter[str], to: Target) -> str:
        """The spelling a group gets: the person's choice, else (with ``to``) the vocabulary's,
        else the most common in the library, ties going to the vocabulary's."""
        some = next(iter(spellings))
        chosen = self.vocabulary.chosen(some)
        if chosen:
            return chosen
        canonical = self.vocabulary.canonical(some)
        if to is Target.CANONICAL and canonical:
            return canonical
        top = max(spellings.values())
        tied = [s for s, n in spellings.items() if n == top]
        return canonical if canonical in tied else tied[0]

    def spellings(self, to: Target = Target.LIBRARY) -> dict[str, str]:
        """Genre key -> the spelling cleanup gives that genre."""
        return {key: self._spelling(t.spellings, to) for key, t in self._tallies().items()}

    # -- plans -----------------------------------------------------------------------------------

    def planner(self, rules: CleanupRules) -> Planner:
        return Planner(self, rules)


class Planner:
    """Per-file plans under one set of rules, for a library already counted."""

    def __init__(self, overview: GenreOverview, rules: CleanupRules) -> None:
        self.overview = overview
        self.rules = rules
        self._spelling = overview.spellings(rules.to)

    def _same(self, genre: str) -> str:
        """What makes two of a file's genres one: their group, or for junk its own spelling."""
        if is_junk(genre):
            return genre_key(genre) or genre
        return self.overview.vocabulary.key(genre)

    def genres(self, file: FileGenres) -> list[str]:
        """The file's genres after cleanup, in the file's order."""
        result: dict[str, str] = {}
        for value in file.stored:
            for genre in self.overview.reading(value, self.rules.split).genres:
                same = self._same(genre)
                if is_junk(genre):
                    if not self.rules.drop_junk:
                        result.setdefault(same, genre)
                else:
                    result.setdefault(same, self._spelling.get(same, genre))
        return list(result.values())

    def as_read(self, file: FileGenres) -> list[str]:
        return [g for value in file.stored for g in self.overview.reading(value, self.rules.split).genres]

    def plan(self, file: FileGenres, genres: list[str] | None = None) -> GenrePlan:
        """The values that store ``genres`` (by default the file's cleaned genres); the file's
        own values where that would only restyle them ("Rock;Blues" stays, while "Hip Hop "
        loses its stray space and "(17)" becomes "Rock")."""
        genres = self.genres(file) if genres is None else genres
        if genres == self.as_read(file) and all(map(self._keeps_value, file.stored)) and self._keeps_style(file):
            return GenrePlan(file, file.stored)
        return GenrePlan(file, self.stored(file, genres))

    def _keeps_value(self, value: str) -> bool:
        """Whether a stored value is one the plan keeps as it is: tidy (junk is kept as stored
        unless it is a numeric code), and not a joined value it splits."""
        reading = self.overview.reading(value)
        if self.rules.split and Flag.JOINED in reading.flags:
            return False
        return reading.tidy or reading.flags & {Flag.JUNK, Flag.NUMERIC} == {Flag.JUNK}

    def untidy(self, file: FileGenres) -> set[str]:
        """The groups (by key) that the file stores otherwise than its plan does: in a value the
        plan rewrites, in another spelling, twice, or where the plan drops them. Empty exactly
        where the plan keeps the file as it is, its way of storing several genres aside."""
        if not self.plan(file).changed:
            return set()
        after = {self._same(genre): genre for genre in self.genres(file)}
        untidy: set[str] = set()
        seen: set[str] = set()
        for value in file.stored:
            kept = self._keeps_value(value)
            for genre in self.overview.reading(value, self.rules.split).genres:
                same = self._same(genre)
                if not kept or same in seen or after.get(same) != genre:
                    untidy.add(self.overview.vocabulary.key(genre))
                seen.add(same)
        return untidy

    def merged(self, file: FileGenres, olds: Iterable[str], new: str) -> list[str] | None:
        """The file's genres with each of ``olds`` (in any spelling or alias) become ``new``;
        None for a file that has none of them."""
        key = self.overview.vocabulary.key
        keys = {key(old) for old in olds}
        genres = self.as_read(file)
        if not any(key(g) in keys for g in genres):
            return None
        return dedupe(new if key(g) in keys else g for g in genres)

    def rename(self, file: FileGenres, old: str, new: str) -> GenrePlan:
        """``old`` (in any spelling or alias) becomes ``new``; a file without it is left as it is."""
        genres = self.merged(file, [old], new)
        return GenrePlan(file, file.stored if genres is None else self.stored(file, genres))

    def split(self, file: FileGenres, values: Iterable[str]) -> list[str] | None:
        """The file's genres with each of ``values`` split at its separators, whether or not its
        parts are known (the person asked for it); None for a file with none of them."""
        joined = {" ".join(v.split()) for v in values}
        genres = self.as_read(file)
        if not joined.intersection(genres):
            return None
        return dedupe(p for g in genres for p in (joined_parts(g) if g in joined else [g]))

    def _keeps_style(self, file: FileGenres) -> bool:
        """Whether the file stores its genres as the rules ask already."""
        storage = self.overview.storage_of(file.stored)
        wanted = self.rules.multi_value
        return wanted is None or storage in (Storage.NONE, Storage.SINGLE) or storage.value == wanted.value

    def stored(self, file: FileGenres, genres: list[str]) -> tuple[str, ...]:
        """The values that store ``genres``, joined or not as the rules or the file say."""
        style = self.rules.multi_value
        if style is None:
            joined = self.overview.storage_of(file.stored) is Storage.JOINED
            style = MultiValue.JOINED if joined else MultiValue.SEPARATE
        if style is MultiValue.JOINED and len(genres) > 1:
            return (self.overview.separator.join(genres),)
        return tuple(genres)


def write_renaming(writer: GenreWriter, requests: Sequence[WriteRequest], command: str,
                   renames: Sequence[tuple[str, str]], dry_run: bool = False) -> Iterator[WriteResult]:
    """Write a batch that renames or merges genres. Once a file of it holds the new genres,
    each (old, new) becomes the person's alias, recorded with the batch so that
    ``undo_batch`` takes it back."""
    def save_aliases(batch: int) -> None:
        for old, new in renames:
            writer.journal.record_alias_change(batch, asdict(save_user_alias(old, new)))

    return writer.write(requests, command, dry_run, carried_out=save_aliases if renames else None)


def undo_batch(writer: GenreWriter, batch: int | None = None, moved_to: Path | None = None) -> Iterator[WriteResult]:
    """Undo a batch (the last one by default), taking back the aliases its renames saved."""
    def take_back_aliases(undone: int) -> None:
        for change in writer.journal.alias_changes(undone):
            take_back_alias(AliasChange(**change))

    return writer.undo(batch, moved_to, before_writing=take_back_aliases)

"""Context: what a file's album, artist and folders say about its genre.

An analysis hears only the audio, and musicnn's vocabulary caps what audio can say.
The person's library knows more: an untagged track on an album whose other tracks are
tagged Jazz is almost surely Jazz; the same artist's other albums, and a folder named
``Jazz/``, say so less surely.

    the collection's tags ─▶ ContextIndex: albums, artists, genre-named folders, and
        how often each has been right on this library's own tagged files
    ─▶ Evidence for one file (never from the file itself)
    ─▶ combine(the audio's suggestions, evidence) ─▶ suggestions with their sources

A source is trusted as far as it was right here: for each tagged file, what its album
mates (or its artist's other albums, or its folders) said is checked against the
genres the person gave it, and that share, pulled toward a prior where few files can
tell, is the source's reliability. Evidence then acts as independent chances of
being right (a noisy-or): ``1 - (1 - audio) * prod(1 - reliability * share)``, so a
genre that album and audio agree on rises above either, and a genre only the album
vouches for is offered at about the rate albums have been right.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagger.genres.suggestion import CONTEXT_SOURCES, GenreSuggestion, Source
from tagger.genres.vocabulary import is_junk, preferred_spellings, vocabulary
from tagger.library.albums import AlbumGrouper, AlbumTags

# Before a library shows otherwise: how often each source is right, and how many
# files' worth that belief counts for. Album mates share a genre far more often than
# an artist's albums do; a genre-named folder was put there by a person, but may be
# coarser than their tags ("Electronic/" over "Synthwave").
PRIOR_RELIABILITY = {Source.ALBUM: 0.8, Source.ARTIST: 0.6, Source.FOLDER: 0.6}
PRIOR_FILES = 4.0
# Names that credit no one artist: their "other albums" are anybody's.
NO_ARTIST = frozenset({"various artists", "various", "va", "v.a.", "soundtrack", "original soundtrack", "ost",
                       "artist", "unknown artist"})


def artist_key(artist: str | None) -> str | None:
    """The artist as one key, or None for none, a placeholder or a URL."""
    name = " ".join((artist or "").split()).casefold()
    if not name or is_junk(name) or name in NO_ARTIST:
        return None
    return name


@dataclass(frozen=True)
class ContextFile:
    """What the context needs of one file: its genres as tagged, its album and artist."""

    path: Path
    genres: tuple[str, ...]
    album: str | None  # AlbumGrouper's key; None for a file on no album
    artist: str | None  # artist_key of its artist (its album artist where the track names none)

    @classmethod
    def of(cls, path: Path, tags: AlbumTags | None, grouper: AlbumGrouper) -> ContextFile:
        """From anything with ``genres``/``current_genres``, ``album``, ``album_artist``
        and ``artist`` (a TagSnapshot, a ReviewItem); None: a file with unreadable tags."""
        if tags is None:
            return cls(path, (), None, None)
        genres: Iterable[str] | None = getattr(tags, "current_genres", None)
        if genres is None:
            genres = getattr(tags, "genres", ())
        album = grouper.album_of(path, tags)
        artist = artist_key(getattr(tags, "artist", None)) or artist_key(getattr(tags, "album_artist", None))
        return cls(path, tuple(g for g in genres if not is_junk(g)), album[0] if album else None, artist)


@dataclass(frozen=True)
class Evidence:
    """Per source, each genre's share of what that source says (genre key -> 0..1)."""

    shares: dict[Source, dict[str, float]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.shares.values())


@dataclass
class _Votes:
    """Tagged files' genre votes: a file with several genres splits its vote."""

    votes: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    voters: int = 0

    def add(self, keys: frozenset[str], sign: int = 1) -> None:
        if keys:
            self.voters += sign
            for k in keys:
                self.votes[k] += sign / len(keys)

    def without(self, *others: _Votes) -> dict[str, float]:
        """Each genre's share of these votes once ``others`` (contained in them) are taken out."""
        voters = self.voters - sum(o.voters for o in others)
        if voters <= 0:
            return {}
        votes = defaultdict(float, self.votes)
        for o in others:
            for k, v in o.votes.items():
                votes[k] -= v
        return {k: v / voters for k, v in votes.items() if v > 1e-9}


def folder_genres(path: Path, known: Collection[str] = frozenset()) -> list[str]:
    """The folders above ``path`` whose whole name is a genre the vocabulary knows or
    one of the ``known`` keys (the library's own genres): their genre keys, nearest
    first. A folder whose name merely contains a genre word ("Rocky Horror") names none."""
    vocab = vocabulary()
    found = []
    for folder in path.parents:
        name = " ".join(folder.name.split())
        if not name or is_junk(name):
            continue
        candidates = [name] + ([name[:-1]] if name.casefold().endswith("s") else [])
        for candidate in candidates:
            if vocab.knows(candidate) or vocab.key(candidate) in known:
                if (k := vocab.key(candidate)) not in found:
                    found.append(k)
                break
    return found


class ContextIndex:
    """The collection's albums, artists and genre-named folders, and how reliable each
    kind of evidence has been on the library's own tagged files."""

    def __init__(self, files: Iterable[ContextFile], extra_genres: Iterable[str] = ()) -> None:
        # Votes are summed once per album, artist and artist's album, and a file's
        # evidence takes its own (or its album's) votes out: building stays linear in files.
        self.files = {f.path: f for f in files}
        key = vocabulary().key
        self._keys = {path: frozenset({key(g) for g in f.genres if not is_junk(g)} - {""})
                      for path, f in self.files.items()}
        self._albums: dict[str, _Votes] = {}
        self._artists: dict[str, _Votes] = {}
        self._artist_albums: dict[tuple[str, str], _Votes] = {}
        for path, f in self.files.items():
            if f.album is not None:
                self._albums.setdefault(f.album, _Votes()).add(self._keys[path])
            if f.artist is not None:
                self._artists.setdefault(f.artist, _Votes()).add(self._keys[path])
                if f.album is not None:
                    self._artist_albums.setdefault((f.artist, f.album), _Votes()).add(self._keys[path])
        names = [g for f in self.files.values() for g in f.genres] + list(extra_genres)
        self._spelling = preferred_spellings(names, key)
        self._folders: dict[Path, list[str]] = {}
        self.reliability = self._measure()

    @classmethod
    def of(cls, entries: Iterable[tuple[Path, AlbumTags | None]]) -> ContextIndex:
        """From (path, tags) pairs; see ContextFile.of."""
        grouper = AlbumGrouper()
        return cls(ContextFile.of(path, tags, grouper) for path, tags in entries)

    def spelling(self, genre_key: str) -> str:
        """The library's own spelling of a genre, else the vocabulary's."""
        vocab = vocabulary()
        return vocab.chosen(genre_key) or self._spelling.get(genre_key) or vocab.canonical(genre_key) or genre_key

    def evidence(self, path: Path) -> Evidence:
        """What the rest of the collection says about ``path``'s genre."""
        me = self.files.get(path)
        shares: dict[Source, dict[str, float]] = {}
        if me is not None:
            own = _Votes()
            own.add(self._keys[path])
            if me.album is not None:
                shares[Source.ALBUM] = self._albums[me.album].without(own)
            if me.artist is not None:
                same_album = self._artist_albums[(me.artist, me.album)] if me.album is not None else own
                shares[Source.ARTIST] = self._artists[me.artist].without(same_album)
        if path.parent not in self._folders:
            self._folders[path.parent] = folder_genres(path, self._spelling.keys())
        named = self._folders[path.parent]
        if named:
            shares[Source.FOLDER] = {k: 1.0 / len(named) for k in named}
        return Evidence({s: v for s, v in shares.items() if v})

    def _measure(self) -> dict[Source, float]:
        """Each source's reliability, leave-one-out over the tagged files."""
        hits = dict.fromkeys(CONTEXT_SOURCES, 0.0)
        mass = dict.fromkeys(CONTEXT_SOURCES, 0.0)
        for path in self.files:
            mine = self._keys[path]
            if not mine:
                continue
            for source, shares in self.evidence(path).shares.items():
                hits[source] += sum(share for k, share in shares.items() if k in mine)
                mass[source] += sum(shares.values())
        return {s: (hits[s] + PRIOR_FILES * PRIOR_RELIABILITY[s]) / (mass[s] + PRIOR_FILES) for s in CONTEXT_SOURCES}

    def combine(self, path: Path, audio: Sequence[GenreSuggestion]) -> list[GenreSuggestion]:
        """``audio``'s suggestions for ``path`` with the context's evidence, best first;
        each genre says what each source contributed."""
        return combine(audio, self.evidence(path), self.reliability, self.spelling)


def combine(audio: Sequence[GenreSuggestion], evidence: Evidence, reliability: Mapping[Source, float],
            spelling: Callable[[str], str] | None = None) -> list[GenreSuggestion]:
    """The noisy-or of the audio's confidence and each source's ``reliability * share``."""
    if not evidence:
        return list(audio)
    vocab = vocabulary()
    key = vocab.key
    parts: dict[str, dict[Source, float]] = {}
    shown: dict[str, GenreSuggestion] = {}
    for s in audio:
        k = key(s.genre)
        if k not in shown:
            shown[k] = s
            parts[k] = {s.source: s.confidence}
    for source, shares in evidence.shares.items():
        for k, share in shares.items():
            parts.setdefault(k, {})[source] = reliability[source] * share
    out = []
    for k, contributions in parts.items():
        doubt = 1.0
        for value in contributions.values():
            doubt *= 1.0 - value
        leading = max(contributions, key=contributions.__getitem__)
        if k in shown:
            genre, family = shown[k].genre, shown[k].family
        else:
            genre = spelling(k) if spelling else (vocab.canonical(k) or k)
            family = vocab.family(genre) or genre
        evidence_of = tuple((source, round(value, 4)) for source, value in contributions.items())
        out.append(GenreSuggestion(genre, family, 1.0 - doubt, leading, evidence_of))
    return sorted(out, key=lambda g: (-g.confidence, g.genre))


def sibling_paths(paths: Iterable[Path]) -> list[Path]:
    """The folders of files named directly, so a single file's album mates count too."""
    return sorted({p.parent for p in paths if not p.is_dir()} - {p for p in paths if p.is_dir()}, key=os.fsencode)

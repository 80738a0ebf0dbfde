"""Albums: which files belong together, and the genres an album agrees on.

Files are one album when they share an album tag and an album artist, or, where no
album artist is set, an album tag and a folder (a disc folder such as ``CD2`` counts
as its parent): a soundtrack by three composers, or a compilation, is one album.
Files without an album tag form an album only by their folder, and only when the
folder looks like one: a few dozen audio files at most and no subfolders holding audio.
A flat folder of unrelated downloads is never an album.

The tracks of an album nearly always share a genre, so an album's genres combine
its tracks' analyses with the genres its tagged tracks already carry, and each
track's suggestion moves toward what the rest of its album says, unless its own
audio strongly disagrees with the other tracks' audio (a bonus remix). Where the
person tagged the other tracks, their tags outweigh any one analysis.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tagger.files.scan import is_audio_name
from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.genres.vocabulary import is_junk, vocabulary


class AlbumTags(Protocol):
    """The tags that place a file on an album: a file's snapshot or a review row has them."""

    # Read-only, so that a frozen dataclass (TagSnapshot) has them too.
    @property
    def album(self) -> str | None: ...
    @property
    def album_artist(self) -> str | None: ...
    @property
    def artist(self) -> str | None: ...


# A folder with more audio files than this is a collection, not an album (the
# longest common releases, box-set discs aside, stay under 40 tracks).
MAX_FOLDER_ALBUM_FILES = 40
# A tagged track's genres weigh as much as this many tracks' analyses: a person (or
# MusicBrainz) said so, where an analysis only guesses.
TAG_WEIGHT = 3.0
# How far a track moves toward the rest of its album: evidence / (evidence + this).
# One other analysed track moves it halfway; a tagged one, three quarters.
OWN_WEIGHT = 1.0
MAX_PULL = 0.9
# A track keeps its own genres when its audio is at least this sure of a genre
# that the other tracks' audio gives less than DISAGREEMENT_FLOOR (a bonus remix).
# Where the person tagged the other tracks, their word decides instead: one
# analysis, however sure, is wrong more often than an album is mixed.
STRONG_OWN = 0.85
DISAGREEMENT_FLOOR = 0.15


def folder_is_album(folder: Path) -> bool:
    """Whether an untagged folder looks like one album: few audio files, no audio below it."""
    try:
        audio = 0
        with os.scandir(folder) as entries:
            subfolders = []
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif is_audio_name(entry.name):
                    audio += 1
                    if audio > MAX_FOLDER_ALBUM_FILES:
                        return False
        for subfolder in subfolders:
            for _, _, names in os.walk(subfolder):
                if any(is_audio_name(n) for n in names):
                    return False
    except OSError:
        return False
    return audio > 0


DISC_FOLDER = re.compile(r"(cd|dis[ck])\s*\d+", re.IGNORECASE)


def album_folder(path: Path) -> Path:
    """The folder that holds ``path``'s album: its own, or the one above a disc folder ("CD2")."""
    folder = path.parent
    return folder.parent if DISC_FOLDER.fullmatch(folder.name.strip()) else folder


class AlbumGrouper:
    """Names each file's album; remembers which folders look like albums."""

    def __init__(self) -> None:
        self._folders: dict[Path, bool] = {}
        self._homes: dict[Path, str] = {}

    def _home(self, folder: Path) -> str:
        """The folder's real path, worked out once per folder."""
        if folder not in self._homes:
            self._homes[folder] = os.fsdecode(os.path.realpath(folder))
        return self._homes[folder]

    def album_of(self, path: Path, tags: AlbumTags | None) -> tuple[str, str] | None:
        """(key, display name) of the file's album, or None if it belongs to none."""
        album = " ".join((tags.album or "").split()) if tags else ""
        if tags and album:
            album_artist = " ".join((tags.album_artist or "").split())
            if album_artist:
                return f"tags\x1f{album_artist.casefold()}\x1f{album.casefold()}", f"{album_artist} – {album}"
            # No album artist: the album's folder holds it together, whatever its tracks'
            # artists (a soundtrack by three composers, a compilation).
            home = self._home(album_folder(path))
            artist = " ".join((tags.artist or "").split())
            return f"tags\x1f\x1f{home}\x1f{album.casefold()}", f"{artist} – {album}" if artist else album
        folder = path.parent
        if folder not in self._folders:
            self._folders[folder] = folder_is_album(folder)
        if self._folders[folder]:
            return f"folder\x1f{self._home(folder)}", f"{folder.name}/"
        return None


@dataclass(frozen=True)
class Track:
    """What one track brings to its album's vote."""

    path: Path
    suggestions: Sequence[GenreSuggestion]  # its own analysis, best first; empty if none
    tagged: Sequence[str] = ()  # the genres it carries already

    @property
    def analysed(self) -> bool:
        return bool(self.suggestions)

    @property
    def tag_keys(self) -> set[str]:
        return {vocabulary().key(g) for g in self.tagged if not is_junk(g)}


@dataclass(frozen=True)
class TrackAdvice:
    """One track's suggestion after hearing its album, and how far the album moved it."""

    path: Path
    genres: list[GenreSuggestion]  # its suggestion after hearing the album, best first
    pull: float  # how far it moved toward the rest of the album, 0..1
    disagrees: bool  # its own audio strongly disagrees with the album, so it kept its own


@dataclass(frozen=True)
class AlbumConsensus:
    """What an album's tracks say together, and each track's advice."""

    key: str
    name: str
    genres: list[GenreSuggestion]  # what the album as a whole says, best first
    tracks: list[TrackAdvice]  # in the order given
    votes: dict[str, dict[str, float]]  # per track path: each genre's weight in the vote


def consensus(key: str, name: str, tracks: Sequence[Track]) -> AlbumConsensus:
    """Combine an album's tracks' analyses and tags, and move each track toward the rest."""
    genre_key = vocabulary().key  # a tag and a suggestion in other spellings or aliases are one genre
    labels: dict[str, GenreSuggestion] = {}  # genre key -> how to show it
    evidence: list[dict[str, float]] = []
    weights: list[float] = []
    tag_weights: list[float] = []
    for track in tracks:
        vote: dict[str, float] = {}
        weight = 0.0
        if track.analysed:
            weight += 1.0
            for s in track.suggestions:
                k = genre_key(s.genre)
                vote[k] = vote.get(k, 0.0) + s.confidence
                if k not in labels or labels[k].source == Source.ALBUM:
                    labels[k] = s
        for g in track.tagged:
            k = genre_key(g)
            if is_junk(g) or not k:
                continue
            weight += TAG_WEIGHT / max(1, len(track.tag_keys))
            vote[k] = vote.get(k, 0.0) + TAG_WEIGHT / max(1, len(track.tag_keys))
            labels.setdefault(k, GenreSuggestion(" ".join(g.split()), " ".join(g.split()), 0.0, Source.ALBUM))
        evidence.append(vote)
        weights.append(weight)
        tag_weights.append(weight - track.analysed)
    total_weight = sum(weights)
    total_tag_weight = sum(tag_weights)
    totals: dict[str, float] = {}
    for vote in evidence:
        for k, v in vote.items():
            totals[k] = totals.get(k, 0.0) + v

    def shown(scores: dict[str, float]) -> list[GenreSuggestion]:
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], labels[kv[0]].genre))
        return [GenreSuggestion(labels[k].genre, labels[k].family, min(1.0, v), labels[k].source) for k, v in ranked]

    album_genres = shown({k: v / total_weight for k, v in totals.items()}) if total_weight else []
    advice = []
    for track, vote, weight, tag_weight in zip(tracks, evidence, weights, tag_weights):
        own = {genre_key(s.genre): s.confidence for s in track.suggestions}
        others = total_weight - weight
        if not track.analysed or others <= 0:
            advice.append(TrackAdvice(track.path, list(track.suggestions), 0.0, False))
            continue
        rest = {k: (totals[k] - vote.get(k, 0.0)) / others for k in totals}
        best_own = max(own, key=own.__getitem__)
        rest_tagged = total_tag_weight - tag_weight >= (others - (total_tag_weight - tag_weight))
        disagrees = (not rest_tagged and own[best_own] >= STRONG_OWN
                     and rest.get(best_own, 0.0) < DISAGREEMENT_FLOOR)
        pull = 0.0 if disagrees else min(MAX_PULL, others / (others + OWN_WEIGHT))
        moved = {k: (1 - pull) * own.get(k, 0.0) + pull * rest.get(k, 0.0) for k in totals.keys() | own.keys()}
        advice.append(TrackAdvice(track.path, shown({k: v for k, v in moved.items() if v > 0}), pull, disagrees))
    votes = {os.fsdecode(t.path): {labels[k].genre: round(v, 3) for k, v in sorted(vote.items(), key=lambda kv: -kv[1])}
             for t, vote in zip(tracks, evidence)}
    return AlbumConsensus(key, name, album_genres, advice, votes)

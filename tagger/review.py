"""Review: which suggested genres to write, and the write request that records why.

Each file under review is a ``ReviewItem`` that moves through ``ReviewState``s:
new → analysing → suggested → (edited) → accepted → written, or error, or
rejected. The desktop app moves them row by row; the command line's ``apply``
accepts what passes a confidence threshold. Both end in a ``WriteRequest``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from tagger.analysis import Analysis
from tagger.genres import LIBRARY, GenreSuggestion
from tagger.tags import TagError, read_tags
from tagger.writer import WriteRequest, WriteResult, provenance_text

DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_GENRES = 3


def accepted_genres(
    genres: Sequence[GenreSuggestion], min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_genres: int = DEFAULT_MAX_GENRES,
) -> list[GenreSuggestion]:
    """Of suggestions ranked best first, those to write."""
    return [g for g in genres[:max_genres] if g.confidence >= min_confidence]


def suggestion_request(analysis: Analysis, accepted: list[GenreSuggestion], provenance: bool = True) -> WriteRequest:
    """A write of ``accepted`` that is refused if the file changed since ``analysis``."""
    return genre_request(analysis.path, [g.genre for g in accepted], analysis, provenance)


def genre_request(path: Path, genres: list[str], analysis: Analysis | None, provenance: bool,
                  edited: bool = False, album: Sequence[GenreSuggestion] = ()) -> WriteRequest:
    """A write of ``genres``, refused if the file changed since ``analysis``. The
    provenance field records the models and their confidence in each genre, and
    whether a person chose the genres, or the file's album (``album``: the album's
    suggestions, whose confidences are then the ones recorded)."""
    details: dict = {"edited": True} if edited else {}
    if album:
        details["album"] = True  # the genres its album agreed on, not its own suggestion
    if analysis is not None:
        confidences = {g.genre.casefold(): g.confidence for g in (album or analysis.genres)}
        details["models"] = [f"{m.name} {m.version}" for m in analysis.models]
        if analysis.model == LIBRARY:
            details["learned"] = True  # ranked by the model learned from the person's own tags
        details["confidences"] = {g: round(confidences[g.casefold()], 3) for g in genres if g.casefold() in confidences}
    return WriteRequest(
        path,
        list(genres),
        expected=analysis.fingerprint if analysis is not None else None,
        provenance=provenance_text(details) if provenance else None,
    )


class ReviewState(str, Enum):
    NEW = "new"
    ANALYSING = "analysing"
    SUGGESTED = "suggested"
    EDITED = "edited"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WRITTEN = "written"
    ERROR = "error"


@dataclass
class ReviewItem:
    """One file under review: what it holds, what was suggested, and what will be written."""

    path: Path
    current_genres: list[str] = field(default_factory=list)
    artist: str = ""  # the track's artist (the album artist where the track names none)
    title: str = ""
    album: str = ""
    album_artist: str = ""  # as tagged; empty where the file names none
    analysis: Analysis | None = None
    proposed: list[str] = field(default_factory=list)  # the genres Apply would write
    state: ReviewState = ReviewState.NEW
    edited: bool = False  # the proposal is the user's, not the model's
    error: str | None = None
    resume: ReviewState | None = field(default=None, repr=False)  # the state before analysis began
    # Where the proposal is its album's agreed genres: those suggestions, with the
    # album's confidences and sources; empty otherwise.
    album_genres: list[GenreSuggestion] = field(default_factory=list, repr=False)

    @property
    def top_confidence(self) -> float | None:
        if self.analysis is None or not self.analysis.genres:
            return None
        return self.analysis.genres[0].confidence

    def confidence_of(self, genre: str) -> float | None:
        suggestion = self.suggestion_of(genre)
        return None if suggestion is None else suggestion.confidence

    def suggestion_of(self, genre: str) -> GenreSuggestion | None:
        """What suggested ``genre`` for this file: its album's vote where the album's
        genres were accepted, else its own analysis; None for a genre a person chose."""
        key = genre.casefold()
        for g in self.album_genres:
            if g.genre.casefold() == key:
                return g
        if self.analysis is None:
            return None
        return next((g for g in self.analysis.genres if g.genre.casefold() == key), None)

    def start_analysis(self) -> None:
        if self.state is not ReviewState.ANALYSING:
            self.resume = self.state
            self.state = ReviewState.ANALYSING

    def analysis_interrupted(self) -> None:
        """Analysis stopped before this file's result: back to where it was."""
        if self.state is ReviewState.ANALYSING:
            self.state = self.resume or ReviewState.NEW
            self.resume = None

    def analysed(self, analysis: Analysis, min_confidence: float, max_genres: int) -> None:
        """Take a (new) analysis. A person's decisions stand: an edit keeps its genres
        and its acceptance, and a rejected file stays rejected."""
        previous = self.resume if self.state is ReviewState.ANALYSING else self.state
        self.resume = None
        self.analysis = analysis
        self.error = None
        self.album_genres = []
        if self.edited:
            self.state = previous if previous in (ReviewState.EDITED, ReviewState.ACCEPTED) else ReviewState.EDITED
            return
        self.proposed = [g.genre for g in accepted_genres(analysis.genres, min_confidence, max_genres)]
        self.state = ReviewState.REJECTED if previous is ReviewState.REJECTED else ReviewState.SUGGESTED

    def failed(self, message: str) -> None:
        self.state = ReviewState.ERROR
        self.error = message
        self.resume = None

    def edit(self, genres: list[str]) -> None:
        self.proposed = list(genres)
        self.edited = True
        self.album_genres = []
        self.state = ReviewState.EDITED

    def accept(self) -> bool:
        """Mark for writing; False if there is nothing to write."""
        if not self.proposed or self.state in (ReviewState.ANALYSING, ReviewState.ERROR):
            return False
        self.state = ReviewState.ACCEPTED
        return True

    def accept_album(self, genres: Sequence[GenreSuggestion]) -> bool:
        """Accept the genres its album agreed on (ranked best first) in place of its own;
        False, and nothing changes, if there are none or the file cannot take them now."""
        if not genres or self.state in (ReviewState.ANALYSING, ReviewState.ERROR):
            return False
        self.proposed = [g.genre for g in genres]
        self.album_genres = list(genres)
        self.edited = False
        self.state = ReviewState.ACCEPTED
        return True

    def reject(self) -> None:
        if self.state is not ReviewState.ANALYSING:
            self.state = ReviewState.REJECTED

    def write_request(self, provenance: bool) -> WriteRequest:
        return genre_request(self.path, self.proposed, self.analysis, provenance, self.edited, self.album_genres)

    def written(self, result: WriteResult) -> None:
        """Take in the writer's result for this file."""
        if result.failed or result.status == "skipped":
            self.failed(result.message or result.status)
            return
        self.current_genres = list(result.new_genres)
        self.state = ReviewState.WRITTEN
        self.error = None

    def undone(self, result: WriteResult) -> None:
        if result.failed or result.status == "skipped":
            self.failed(f"undo: {result.message or result.status}")
            return
        self.current_genres = list(result.new_genres)
        self.state = ReviewState.EDITED if self.edited else (
            ReviewState.SUGGESTED if self.analysis else ReviewState.NEW)


def review_item(path: Path, id3v23_separator: str = "; ") -> ReviewItem:
    """A new row for ``path`` with the tags it holds now; unreadable tags are not an error yet."""
    try:
        tags = read_tags(path, id3v23_separator)
    except TagError:
        return ReviewItem(path, title=path.stem)
    return ReviewItem(path, list(tags.genres), tags.artist or tags.album_artist or "", tags.title or path.stem,
                      tags.album or "", tags.album_artist or "")

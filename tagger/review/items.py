"""Review: which suggested genres to write, and the write request that records why.

Each file under review is a ``ReviewItem`` that moves through ``ReviewState``s:
new → analysing → suggested or unsure → accepted (by a person, or by an edit,
which is a decision too) → written, or error, or rejected. ``tagger.review.session``
holds the items and the rules over many of them; both front ends drive it. Every
accepted item ends in a ``WriteRequest``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagger.analysis.analyzer import Analysis
from tagger.genres.suggestion import (
    CONTEXT_SOURCES,
    DEFAULT_MAX_GENRES,
    DEFAULT_MIN_CONFIDENCE,
    GenreSuggestion,
    Source,
)
from tagger.tags import DEFAULT_SEPARATOR, TagError, WriteMode, read_tags
from tagger.tags.base import read_genres
from tagger.text import TextEnum
from tagger.writing.writer import WriteRequest, WriteResult, provenance_text

# A person sees at least this many of a file's best candidates, whatever the threshold.
CANDIDATES_SHOWN = 3


def accepted_genres(
    genres: Sequence[GenreSuggestion], min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_genres: int = DEFAULT_MAX_GENRES,
) -> list[GenreSuggestion]:
    """Of suggestions ranked best first, those to write."""
    return [g for g in genres[:max_genres] if g.confidence >= min_confidence]


def genre_request(path: Path, genres: list[str], analysis: Analysis | None, provenance: bool,
                  edited: bool, album: Sequence[GenreSuggestion], replaces: bool,
                  suggested: Sequence[GenreSuggestion] = ()) -> WriteRequest:
    """A write of ``genres``, refused if the file changed since ``analysis``. The
    provenance field records the models and their confidence in each genre, and
    whether a person chose the genres, or the file's album (``album``: the album's
    suggestions, whose confidences are then the ones recorded; else ``suggested``,
    the file's own). With ``replaces``, ``genres`` replace the file's whatever the
    batch's mode."""
    details: dict = {"edited": True} if edited else {}
    if album:
        details["album"] = True  # the genres its album agreed on, not its own suggestion
    if analysis is not None:
        confidences = {g.genre.casefold(): g.confidence for g in (album or suggested or analysis.genres)}
        details["models"] = [f"{m.name} {m.version}" for m in analysis.models]
        if analysis.model == Source.LEARNED:
            details["learned"] = True  # ranked by the model learned from the person's own tags
        details["confidences"] = {g: round(confidences[g.casefold()], 3) for g in genres if g.casefold() in confidences}
        written = {g.casefold() for g in genres}
        context = sorted({source for g in suggested if g.genre.casefold() in written
                          for source, _ in g.evidence if source in CONTEXT_SOURCES})
        if context and not album:
            details["context"] = context  # what besides the audio vouched for them
    return WriteRequest(
        path,
        list(genres),
        expected=analysis.fingerprint if analysis is not None else None,
        provenance=provenance_text(details) if provenance else None,
        mode=WriteMode.REPLACE if replaces else None,
    )


# The formats a person knows by their file's ending, as "not an MP3 file" names them.
FORMAT_NAMES = {".mp3": "an MP3", ".ogg": "an Ogg", ".oga": "an Ogg", ".opus": "an Opus", ".flac": "a FLAC",
                ".wav": "a WAV", ".m4a": "an M4A", ".mp4": "an MP4", ".aac": "an AAC", ".wma": "a WMA",
                ".aif": "an AIFF", ".aiff": "an AIFF", ".ape": "an APE", ".wv": "a WavPack", ".mpc": "a Musepack"}
# The start of a detailed message (decoders', tag libraries', the writer's), and the few
# plain words a table row gives it; the whole message stays in the tooltip and the panel.
ERROR_SUMMARIES = (
    ("no such file", "file is gone"), ("the file is gone", "file is gone"),
    ("permission denied", "permission denied"), ("cannot read the file", "cannot read the file"),
    ("empty file", "file is empty"),
    ("decoding failed", "file is damaged"), ("the file is truncated", "file is damaged"),
    ("its header", "file is damaged"), ("no audio frames", "file is damaged"),
    ("the file does not parse cleanly", "file is damaged"),
    ("no audio stream", "no audio in the file"), ("no decoder for its audio codec", "audio format not supported"),
    ("not a format whose tags can be written", "tags cannot be written to this format"),
    ("out of memory", "out of memory"), ("internal error", "unexpected error"), ("unexpected ", "unexpected error"),
    ("skipped: its genres changed", "genres changed since"), ("the file changed", "file changed since analysed"),
)


def error_summary(error: str, path: Path) -> str:
    """A failure in a few plain words for a table row ("not an MP3 file", "file is damaged");
    unknown messages give their first clause."""
    undo, text = error.startswith("undo: "), error.removeprefix("undo: ")
    lower = text.casefold()
    if lower.startswith("not a decodable audio file"):
        if "malformed" in lower or "end of file" in lower:  # the decoders know the format, but not its content
            summary = "file is damaged"
        else:
            summary = f"not {FORMAT_NAMES[path.suffix.lower()]} file" if path.suffix.lower() in FORMAT_NAMES \
                else "not an audio file"
    else:
        summary = next((words for start, words in ERROR_SUMMARIES if lower.startswith(start)), "")
    if not summary:
        cut = min((i for i in (text.find(" ("), text.find("; "), text.find(": ")) if i > 0), default=len(text))
        summary = text[:cut]
    return f"undo failed: {summary}" if undo else summary


class ReviewState(TextEnum):
    """Where one file stands in review, from new to written."""

    NEW = "new"
    ANALYSING = "analysing"
    SUGGESTED = "suggested"  # its best candidates reach the threshold and are pre-selected
    UNSURE = "unsure"  # analysed, but no candidate reaches the threshold
    EDITED = "edited"  # a person's genres, not accepted (an edit to nothing, or one whose write was undone)
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WRITTEN = "written"
    ERROR = "error"


@dataclass(frozen=True)
class Candidate:
    """One genre a row shows: a suggestion (None for a person's own pick), and
    whether Accept writes it."""

    genre: str
    suggestion: GenreSuggestion | None
    chosen: bool

    @property
    def confidence(self) -> float | None:
        return None if self.suggestion is None else self.suggestion.confidence


@dataclass
class ReviewItem:
    """One file under review: what it holds, what was suggested, and what will be written."""

    path: Path
    current_genres: list[str] = field(default_factory=list)
    artist: str = ""  # as tagged; empty where the file names none
    title: str = ""
    album: str = ""
    album_artist: str = ""  # as tagged; empty where the file names none
    track: str = ""
    disc: str = ""
    analysis: Analysis | None = None
    proposed: list[str] = field(default_factory=list)  # the genres Accept and Apply write, in order
    state: ReviewState = ReviewState.NEW
    edited: bool = False  # a person chose the genres, not the threshold
    error: str | None = None
    resume: ReviewState | None = field(default=None, repr=False)  # the state before analysis began
    # Its own suggestions, best first: the analysis's, with what its album, artist and
    # folders say where the session adds context.
    suggestions: list[GenreSuggestion] = field(default_factory=list, repr=False)
    # Where the proposal is its album's agreed genres: those suggestions, with the
    # album's confidences and sources; empty otherwise.
    album_genres: list[GenreSuggestion] = field(default_factory=list, repr=False)
    # Restored from a saved session with a decision that rests on an analysis not in
    # memory yet: it cannot be written until that analysis is back.
    awaiting_analysis: bool = False
    # The genre values as the file stores them (numeric codes, joined values, stray spaces),
    # for genre cleanup; ``current_genres`` is what they mean.
    stored_genres: list[str] = field(default_factory=list)
    # A genre cleanup's row: ``proposed`` is the file's whole new genre list, none at all
    # where only junk was there, and replaces the file's genres whatever the batch's mode.
    replaces: bool = False

    @property
    def shown_artist(self) -> str:
        return self.artist or self.album_artist

    @property
    def error_summary(self) -> str:
        """Its error in a few plain words; the whole message is ``error``."""
        return error_summary(self.error, self.path) if self.error else ""

    @property
    def top_confidence(self) -> float | None:
        if self.analysis is None or not self.suggestions:
            return None
        return self.suggestions[0].confidence

    @property
    def own_pick(self) -> bool:
        """Whether the first genre Accept writes is a person's own, which no analysis suggested."""
        return bool(self.proposed) and self.suggestion_of(self.proposed[0]) is None

    @property
    def written_confidence(self) -> float | None:
        """How sure the suggestion of what Accept writes is: its first genre's confidence (its
        album's where the album's genres were accepted); with nothing chosen, the best
        candidate's; None for a person's own genre, or before any analysis."""
        ranked = self.ranked()
        if not ranked:
            return None
        if not self.proposed or ranked[0].genre == self.proposed[0]:  # most rows, without a search: a sort asks all
            return ranked[0].confidence
        return self.confidence_of(self.proposed[0])

    def ranked(self) -> list[GenreSuggestion]:
        """Its suggestions, best first: its album's where the album's genres were accepted."""
        return self.album_genres or (self.suggestions if self.analysis is not None else [])

    def candidates(self, count: int = CANDIDATES_SHOWN) -> list[Candidate]:
        """What a row shows: the genres Accept writes, in the order written, then the
        rest of the best ``count`` suggestions, unchosen."""
        chosen = [Candidate(g, self.suggestion_of(g), True) for g in self.proposed]
        keys = {g.casefold() for g in self.proposed}
        rest = [Candidate(s.genre, s, False) for s in self.ranked()[:count] if s.genre.casefold() not in keys]
        return chosen + rest

    def confidence_of(self, genre: str) -> float | None:
        suggestion = self.suggestion_of(genre)
        return None if suggestion is None else suggestion.confidence

    def suggestion_of(self, genre: str) -> GenreSuggestion | None:
        """What suggested ``genre`` for this file: its album's vote where the album's
        genres were accepted, else its own analysis; None for a genre a person chose."""
        key = genre.casefold()
        return next((g for g in self.ranked() if g.genre.casefold() == key), None)

    @property
    def can_accept(self) -> bool:
        return (bool(self.proposed) or self.replaces) and self.state not in (ReviewState.ANALYSING, ReviewState.ERROR)

    @property
    def can_write(self) -> bool:
        return self.state is ReviewState.ACCEPTED and not self.awaiting_analysis

    @property
    def undecided_work(self) -> bool:
        """A person's decision that no file holds yet."""
        return self.state is ReviewState.ACCEPTED or (
            self.edited and self.state in (ReviewState.EDITED, ReviewState.ERROR))

    @property
    def waits_for_analysis(self) -> bool:
        """A person's genres on a file that failed: kept, and accepted once an analysis of it succeeds."""
        return self.edited and self.state is ReviewState.ERROR

    def start_analysis(self) -> None:
        if self.state is not ReviewState.ANALYSING:
            self.resume = self.state
            self.state = ReviewState.ANALYSING

    def analysis_interrupted(self) -> None:
        """Analysis stopped before this file's result: back to where it was."""
        if self.state is ReviewState.ANALYSING:
            self.state = self.resume or ReviewState.NEW
            self.resume = None

    def analysed(self, analysis: Analysis, min_confidence: float, max_genres: int,
                 suggestions: Sequence[GenreSuggestion] | None = None) -> None:
        """Take a (new) analysis, and ``suggestions`` made from it (its own genres where
        None). A person's decisions stand: an edit keeps its genres and its acceptance,
        a rejected file stays rejected, and a restored row keeps what was accepted before."""
        previous = self.resume if self.state is ReviewState.ANALYSING else self.state
        self.resume = None
        self.analysis = analysis
        self.suggestions = list(analysis.genres if suggestions is None else suggestions)
        self.error = None
        if self.awaiting_analysis:
            self.awaiting_analysis = False
            if previous in (ReviewState.ACCEPTED, ReviewState.EDITED, ReviewState.REJECTED, ReviewState.WRITTEN):
                self.state = previous
                return
        if self.edited and previous is not ReviewState.REJECTED:
            # The person's genres stand, also after an error (a write a read-only file refused).
            self.state = ReviewState.ACCEPTED if self.proposed or self.replaces else ReviewState.EDITED
            return
        if previous is ReviewState.REJECTED:
            if not self.edited and not self.album_genres:
                self.proposed = [g.genre for g in accepted_genres(self.suggestions, min_confidence, max_genres)]
            self.state = ReviewState.REJECTED
            return
        self.album_genres = []
        self.repick(min_confidence, max_genres, force=True)

    def repick(self, min_confidence: float, max_genres: int, force: bool = False) -> bool:
        """Pre-select the candidates that reach ``min_confidence``; only on a row no one
        has decided on yet (or with ``force``). True if the row changed."""
        if self.analysis is None or self.edited or self.album_genres:
            return False
        if not force and self.state not in (ReviewState.SUGGESTED, ReviewState.UNSURE):
            return False
        before = (list(self.proposed), self.state)
        self.proposed = [g.genre for g in accepted_genres(self.suggestions, min_confidence, max_genres)]
        self.state = ReviewState.SUGGESTED if self.proposed else ReviewState.UNSURE
        return before != (self.proposed, self.state)

    def failed(self, message: str) -> None:
        self.state = ReviewState.ERROR
        self.error = message
        self.resume = None

    def edit(self, genres: Sequence[str]) -> None:
        """A person's genres; an edit is a decision, so the row is accepted unless it
        leaves nothing to write. A file that failed stays failed, with its error: its
        write would fail the same way, so the genres wait for an analysis that succeeds
        (``analysed`` then accepts them)."""
        self.proposed = list(genres)
        self.edited = True
        self.album_genres = []
        self.replaces = False
        if self.state is not ReviewState.ERROR:
            self.state = ReviewState.ACCEPTED if self.proposed else ReviewState.EDITED

    def rewrite(self, genres: Sequence[str]) -> None:
        """A genre cleanup's decision: ``genres`` (none at all, where it drops the only
        genre) replace the file's genres."""
        self.edit(genres)
        self.replaces = True
        self.state = ReviewState.ACCEPTED

    def toggle(self, genre: str) -> bool:
        """Choose a shown candidate, or unchoose a chosen one (an edit); False if the
        row cannot change now."""
        if self.state in (ReviewState.ANALYSING, ReviewState.ERROR):
            return False
        key = genre.casefold()
        if any(g.casefold() == key for g in self.proposed):
            genres = [g for g in self.proposed if g.casefold() != key]
        else:
            genres = [*self.proposed, genre]
        album, replaces = self.album_genres, self.replaces
        self.edit(genres)
        self.album_genres = [g for g in album if g.genre.casefold() in {x.casefold() for x in genres}]
        # A cleanup's row stays one while a genre is left; unchoosing the last is no decision to clear.
        self.replaces = replaces and bool(genres)
        return True

    def accept(self, threshold: float | None = None, max_genres: int = DEFAULT_MAX_GENRES) -> bool:
        """Mark for writing; False if there is nothing to write. With ``threshold``, a row
        no one has decided on takes the candidates that reach it, though below the
        least confidence that pre-selects."""
        if threshold is not None and self.analysis is not None and not self.edited and not self.album_genres \
                and self.state in (ReviewState.SUGGESTED, ReviewState.UNSURE):
            picked = [g.genre for g in accepted_genres(self.suggestions, threshold, max_genres)]
            if not picked:  # nothing reaches it: the row stays as it was, its pre-selection included
                return False
            self.proposed = picked
        if not self.can_accept:
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
        return genre_request(self.path, self.proposed, self.analysis, provenance, self.edited, self.album_genres,
                             self.replaces, self.suggestions)

    def written(self, result: WriteResult) -> None:
        """Take in the writer's result for this file."""
        if not result.ok:
            self.failed(result.message or str(result.status))
            return
        self.stored_genres = list(result.stored_genres)
        self.current_genres = read_genres(result.new_genres)
        self.state = ReviewState.WRITTEN
        self.error = None

    def undone(self, result: WriteResult) -> None:
        """Take in an undo's result: the row shows what the file holds again, and the
        decision that was written is open again."""
        if not result.ok:
            self.failed(f"undo: {result.message or result.status}")
            return
        self.stored_genres = list(result.stored_genres)
        self.current_genres = read_genres(result.new_genres)
        self.error = None
        if self.edited:  # the person's genres stay, and wait for Accept again like any undone row
            self.state = ReviewState.EDITED
        elif self.analysis is None:
            self.state = ReviewState.NEW
        else:
            self.state = ReviewState.SUGGESTED if self.proposed else ReviewState.UNSURE

    def to_json(self) -> dict:
        """The row as a saved session keeps it: the tags shown, and every decision."""
        state = self.resume if self.state is ReviewState.ANALYSING else self.state
        record = {
            "path": str(self.path), "current_genres": self.current_genres, "stored_genres": self.stored_genres,
            "artist": self.artist,
            "title": self.title, "album": self.album, "album_artist": self.album_artist, "track": self.track,
            "disc": self.disc, "proposed": self.proposed, "state": (state or ReviewState.NEW).value,
            "edited": self.edited, "replaces": self.replaces, "error": self.error,
            "analysed": self.analysis is not None or self.awaiting_analysis,
        }
        if self.album_genres:
            record["album_genres"] = [[g.genre, g.family, g.confidence, g.source.value] for g in self.album_genres]
        return record

    @classmethod
    def from_json(cls, record: dict) -> ReviewItem:
        """A saved row; its analysis comes back through the analysis cache (``awaiting_analysis``).
        KeyError, TypeError or ValueError for a record that is not one."""
        state = ReviewState(record["state"])
        analysed = bool(record.get("analysed"))
        if state is ReviewState.ANALYSING:
            state = ReviewState.NEW
        if not analysed and state in (ReviewState.SUGGESTED, ReviewState.UNSURE):
            state = ReviewState.NEW
        item = cls(
            Path(record["path"]), [str(g) for g in record["current_genres"]], str(record["artist"]),
            str(record["title"]), str(record["album"]), str(record["album_artist"]), str(record.get("track", "")),
            str(record.get("disc", "")), proposed=[str(g) for g in record["proposed"]], state=state,
            edited=bool(record["edited"]), error=record.get("error"),
            album_genres=[GenreSuggestion(str(g), str(f), float(c), Source.saved(str(s)))
                          for g, f, c, s in record.get("album_genres", [])],
            awaiting_analysis=analysed,
            stored_genres=[str(g) for g in record.get("stored_genres", record["current_genres"])],
            replaces=bool(record.get("replaces")),
        )
        return item


def review_item(path: Path, separator: str = DEFAULT_SEPARATOR) -> ReviewItem:
    """A new row for ``path`` with the tags it holds now; unreadable tags are not an error yet."""
    try:
        tags = read_tags(path, separator)
    except TagError:
        return ReviewItem(path, title=path.stem)
    return ReviewItem(path, list(tags.genres), tags.artist or "", tags.title or path.stem, tags.album or "",
                      tags.album_artist or "", tags.track or "", tags.disc or "",
                      stored_genres=list(tags.stored_genres))

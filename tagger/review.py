"""Review: which suggested genres to write, and the write request that records why.

The desktop app lets a person accept or edit suggestions row by row; the command
line's ``apply`` accepts what passes a confidence threshold. Both end here.
"""

from __future__ import annotations

from tagger.analysis import Analysis
from tagger.genres import GenreSuggestion
from tagger.writer import WriteRequest, provenance_text

DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_GENRES = 3


def accepted_genres(
    analysis: Analysis, min_confidence: float = DEFAULT_MIN_CONFIDENCE, max_genres: int = DEFAULT_MAX_GENRES
) -> list[GenreSuggestion]:
    return [g for g in analysis.genres[:max_genres] if g.confidence >= min_confidence]


def suggestion_request(analysis: Analysis, accepted: list[GenreSuggestion], provenance: bool = True) -> WriteRequest:
    """A write of ``accepted`` that is refused if the file changed since ``analysis``."""
    details = {
        "models": [f"{m.name} {m.version}" for m in analysis.models],
        "confidences": {g.genre: round(g.confidence, 3) for g in accepted},
    }
    return WriteRequest(
        analysis.path,
        [g.genre for g in accepted],
        expected=analysis.fingerprint,
        provenance=provenance_text(details) if provenance else None,
    )

"""Ranked suggestions and a session's writes, as the review tests give and make them."""

from __future__ import annotations

from tagger.genres.suggestion import GenreSuggestion
from tagger.review.session import ReviewSession


def ranked(*pairs: tuple[str, float]) -> list[GenreSuggestion]:
    """Suggestions of the given genres and confidences, each its own family."""
    return [GenreSuggestion(genre, genre, confidence) for genre, confidence in pairs]


def apply(session: ReviewSession) -> int:
    """Write what ``session`` would write, as ``apply`` does, and return the batch."""
    writer = session.writer()
    batch = writer.start("apply")
    results = list(writer.write(session.write_requests(), "apply", batch=batch))
    assert session.take_written(results) == []
    session.applied(batch)
    return batch

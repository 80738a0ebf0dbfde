"""Ranked suggestions and a session's writes, as the review tests give and make them, and
another process that claims the saved review."""

from __future__ import annotations

import subprocess
import sys

from support.paths import REPO
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


OWNER = """
import sys
from tagger.review.saved import SavedReview
saved = SavedReview()
print("owner" if saved.claim() else "refused", flush=True)
sys.stdin.readline()
"""


def other_process_claims() -> subprocess.Popen:
    """A process of this profile (the test's XDG folders) that claims the saved review, prints
    "owner" or "refused", and keeps what it got until its stdin ends (``communicate``)."""
    return subprocess.Popen([sys.executable, "-c", OWNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=REPO)

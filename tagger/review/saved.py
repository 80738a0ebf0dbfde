"""The review the app keeps between starts (``review-session.json`` in the user data folder),
and the one process that may restore, save or discard it.

Two windows of one profile would otherwise share the file: one restores the other's unsaved
review, and its Discard deletes what the other still holds. A process owns the saved review
by holding a lock on ``review-session.lock`` beside it (not on the review itself, which each
save replaces with a new file) for as long as it runs; every other process is refused.
"""

from __future__ import annotations

from pathlib import Path

from tagger.files.locks import HeldLock, take_lock
from tagger.review.items import ReviewItem
from tagger.review.session import ReviewSession, SavedSessionError


def default_saved_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("genre-tagger", appauthor=False) / "review-session.json"


class OwnedElsewhere(SavedSessionError):
    """The saved review belongs to another Genre Tagger process."""


class SavedReview:
    """The saved review, and this process's claim on it: only its owner restores, saves or discards it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_saved_path()
        self._lock: HeldLock | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def owned(self) -> bool:
        return self._lock is not None

    def claim(self) -> bool:
        """Own the saved review until ``release`` (or the process ends); False while another
        process, or another claim in this one, owns it. OSError where the user data folder
        cannot hold the lock file."""
        if self._lock is None:
            self._lock = take_lock(self.lock_path)
        return self._lock is not None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_owned(self) -> None:
        if self._lock is None:
            raise OwnedElsewhere(f"another Genre Tagger window keeps the saved review in {self.path}")

    def restore(self, session: ReviewSession) -> list[ReviewItem]:
        """Give ``session`` the saved review's rows (ReviewSession.restore); OwnedElsewhere unless owned."""
        self._check_owned()
        return session.restore(self.path)

    def save(self, session: ReviewSession) -> None:
        """Keep ``session`` for the next start, or forget the saved review where it has no rows;
        OwnedElsewhere unless owned."""
        self._check_owned()
        if session.items:
            session.save(self.path)
        else:
            self.discard()

    def discard(self) -> bool:
        """Forget the saved review; False if there was none. OwnedElsewhere unless owned."""
        self._check_owned()
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

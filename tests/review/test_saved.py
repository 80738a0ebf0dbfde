"""The saved review has one owner at a time: only the process that holds its lock restores,
saves or discards it, so a second window cannot take or delete the first one's review."""

from __future__ import annotations

import pytest
from support.review import other_process_claims

from tagger.review.items import ReviewState
from tagger.review.saved import OwnedElsewhere, SavedReview, default_saved_path
from tagger.review.session import ReviewSession
from tagger.settings import Settings


def test_the_review_is_kept_in_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    saved = SavedReview()
    assert saved.path == default_saved_path() == tmp_path / "data" / "genre-tagger" / "review-session.json"
    assert saved.claim() and saved.lock_path.is_file() and saved.lock_path.parent == saved.path.parent
    saved.release()


def test_the_owner_saves_restores_and_discards_the_review(session, files, journal):
    session.accept([session.item(files[0])])
    saved = SavedReview()
    assert saved.claim() and saved.owned
    saved.save(session)
    again = ReviewSession(Settings(), journal)
    assert [r.path for r in saved.restore(again)] == files
    assert again.item(files[0]).state is ReviewState.ACCEPTED
    saved.save(ReviewSession(Settings(), journal))  # a review with no rows is nothing to keep
    assert not saved.path.exists()
    saved.save(session)
    assert saved.discard() and not saved.path.exists() and not saved.discard()
    saved.release()
    assert not saved.owned


def test_a_second_process_cannot_restore_overwrite_or_discard_the_owners_review(session, files, journal):
    session.accept([session.item(files[0])])
    owner = SavedReview()
    assert owner.claim()
    owner.save(session)
    kept = owner.path.read_bytes()
    other = other_process_claims()
    try:
        assert other.stdout.readline().strip() == "refused"
    finally:
        other.communicate("", timeout=60)
    owner.release()

    other = other_process_claims()
    try:
        assert other.stdout.readline().strip() == "owner"
        second = SavedReview()  # this process is now the second window
        assert not second.claim() and not second.owned
        fresh = ReviewSession(Settings(), journal)
        with pytest.raises(OwnedElsewhere, match="another Genre Tagger window keeps the saved review"):
            second.restore(fresh)
        with pytest.raises(OwnedElsewhere):
            second.save(ReviewSession(Settings(), journal))
        with pytest.raises(OwnedElsewhere):
            second.discard()
        assert fresh.items == [] and owner.path.read_bytes() == kept
    finally:
        other.communicate("", timeout=60)
    assert second.claim()  # the owner has gone
    second.release()


def test_a_crashed_owner_leaves_the_review_to_the_next_start(session, journal):
    owner = other_process_claims()
    assert owner.stdout.readline().strip() == "owner"
    owner.kill()
    owner.communicate(timeout=60)
    saved = SavedReview()
    assert saved.claim()
    saved.release()

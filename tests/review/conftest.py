"""Fixtures of the review tests: four real files, their real analyses and a session over them
(the journal is tests/conftest.py's)."""

from dataclasses import replace
from pathlib import Path

import pytest
from support.review import ranked

from tagger.analysis.analyzer import FileResult
from tagger.review.items import review_item
from tagger.review.session import ReviewSession
from tagger.settings import Settings


@pytest.fixture
def files(make_audio) -> list[Path]:
    return [make_audio(f"album/{n:02d}.flac", seconds=4, freq=220.0 * (n + 1)) for n in range(4)]


@pytest.fixture
def analysed(files, analyzer):
    """Real analyses of ``files``, each given known genres: 0.9, 0.6, 0.4 and 0.2 at the top."""
    tops = [0.9, 0.6, 0.4, 0.2]
    return [replace(analyzer.analyse(p), genres=ranked(("Rock", top), ("Jazz", top / 2), ("Folk", 0.05)))
            for p, top in zip(files, tops)]


@pytest.fixture
def session(files, analysed, journal):
    session = ReviewSession(Settings(min_confidence=0.5, max_genres=3), journal)
    session.add(review_item(p) for p in files)
    session.take_analyses([FileResult(a.path, a) for a in analysed])
    return session

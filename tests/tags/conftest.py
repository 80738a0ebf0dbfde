"""Fixtures of the tag tests: a genre writer with a journal of the test's own."""

import pytest

from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter


@pytest.fixture
def writer(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3")
    yield GenreWriter(journal)
    journal.close()

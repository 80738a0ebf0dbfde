"""Genre writes as the write-path tests make them: through a given writer, or one made on a journal."""

from __future__ import annotations

from pathlib import Path

from tagger.tags import WriteOptions
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult


def write(journal: Journal, path: Path, genres: list[str], provenance: str | None = None,
          **options) -> list[WriteResult]:
    """Write ``genres`` to ``path`` in a batch of its own, with ``options`` as WriteOptions."""
    return list(GenreWriter(journal, WriteOptions(**options)).write([WriteRequest(path, genres, provenance=provenance)],
                                                                    "test"))


def write_one(writer: GenreWriter, path: Path, genres: list[str], **request) -> WriteResult:
    """Write ``genres`` to ``path`` with ``writer``, ``request`` being more WriteRequest fields."""
    (result,) = writer.write([WriteRequest(path, genres, **request)], "test")
    return result

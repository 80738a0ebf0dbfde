"""What the analysis hands on to review: a suggested genre, where it came from, and the
style descriptors shown beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger.text import TextEnum


class Source(TextEnum):
    """Where a suggested genre comes from: the bundled models' vocabulary, the model learned
    from the person's tags, or (tagger.library.context) the file's album, artist or folders."""

    BASE = "base"
    LEARNED = "learned"
    ALBUM = "album"
    ARTIST = "artist"
    FOLDER = "folder"

    @classmethod
    def saved(cls, text: str) -> Source:
        """The source a saved review names; older saved reviews called the learned model "library"."""
        return cls.LEARNED if text == "library" else cls(text)


CONTEXT_SOURCES = (Source.ALBUM, Source.ARTIST, Source.FOLDER)  # what the file's surroundings, not its audio, say
# A genre is proposed from this confidence, and at most this many for a file, unless the
# person chooses otherwise.
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_GENRES = 3


@dataclass(frozen=True)
class GenreSuggestion:
    """A genre proposed for a file, with its confidence and the sources that vouched for it."""

    genre: str
    family: str
    confidence: float
    source: Source = Source.BASE  # what contributed most
    # What each source contributed, as (source, confidence) pairs; empty where the audio alone spoke.
    evidence: tuple[tuple[Source, float], ...] = ()


@dataclass(frozen=True)
class Descriptor:
    """A style word the models heard (a mood, an instrument, an era), shown beside the genres, never written."""

    name: str
    kind: str
    confidence: float


# A descriptor below this says little about a track, so neither front end shows it.
STANDOUT_DESCRIPTOR = 0.5


def standout_descriptors(descriptors: Sequence[Descriptor], per_kind: int = 3) -> dict[str, list[Descriptor]]:
    """The descriptors worth showing (ranked best first), at most ``per_kind`` of each kind."""
    kinds: dict[str, list[Descriptor]] = {}
    for d in descriptors:
        if d.confidence >= STANDOUT_DESCRIPTOR and len(kinds.setdefault(d.kind, [])) < per_kind:
            kinds[d.kind].append(d)
    return {kind: found for kind, found in kinds.items() if found}

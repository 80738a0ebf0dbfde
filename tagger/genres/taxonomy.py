"""The bundled genre taxonomy: each genre's family, and what each model tag means."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tagger.genres.vocabulary import genre_key
from tagger.resources import taxonomy_path


@dataclass(frozen=True)
class TagMeaning:
    """What one model tag stands for: a genre, or a descriptor of some kind."""

    genre: str | None = None
    descriptor: str | None = None
    kind: str | None = None


class Taxonomy:
    """The canonical genre vocabulary, each genre's family, and what each model tag means."""

    def __init__(self, genres: Mapping[str, str], tags: Mapping[str, Mapping[str, TagMeaning]]) -> None:
        self.family = dict(genres)
        self.tags = {model: dict(meanings) for model, meanings in tags.items()}
        self._canonical = {genre_key(name): name for name in self.family}

    @classmethod
    def load(cls, path: Path | None = None) -> Taxonomy:
        doc = json.loads((path or taxonomy_path()).read_text(encoding="utf-8"))
        genres = {g["name"]: g["parent"] or g["name"] for g in doc["genres"]}
        tags = {
            model: {label: TagMeaning(**meaning) for label, meaning in labels.items()}
            for model, labels in doc["tags"].items()
        }
        for model, labels in tags.items():
            for label, meaning in labels.items():
                if (meaning.genre is None) == (meaning.descriptor is None):
                    raise ValueError(f"{model} tag {label!r} must map to exactly one genre or descriptor")
                if meaning.genre is not None and meaning.genre not in genres:
                    raise ValueError(f"{model} tag {label!r} maps to unknown genre {meaning.genre!r}")
        return cls(genres, tags)

    def canonical(self, name: str) -> str | None:
        """The vocabulary's spelling of ``name``, or None for a genre it does not know."""
        return self._canonical.get(genre_key(name))

"""Generated libraries for the learning tests: analyses whose genres are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tagger.learning.learned import TaggedFile, features

KEY = "MSD_musicnn test|MTT_musicnn test"
MODELS = ("MSD_musicnn", "MTT_musicnn")


def analysis_features(rng, centre: np.ndarray, spread: float = 1.0, segments: int = 6) -> np.ndarray:
    """Features of a made-up analysis: embeddings near ``centre``, patch probabilities
    that follow it, so both halves of the feature vector carry the class."""
    embeddings = {m: centre[i * 200:(i + 1) * 200] + spread * rng.standard_normal(200) for i, m in enumerate(MODELS)}
    probabilities = {
        m: 1 / (1 + np.exp(-(centre[400 + 50 * i: 450 + 50 * i] + spread * rng.standard_normal((segments, 50)))))
        for i, m in enumerate(MODELS)
    }
    return features(embeddings, probabilities)


def library(genres: dict[str, int], seed: int = 0, spread: float = 1.0, album_size: int = 5,
            separation: float = 1.0) -> list[TaggedFile]:
    """``genres``: name -> files. Tracks come in albums of ``album_size`` of one genre."""
    rng = np.random.default_rng(seed)
    files = []
    for g, (name, count) in enumerate(genres.items()):
        centre = separation * rng.standard_normal(500)
        for i in range(count):
            files.append(TaggedFile(Path(f"/music/{g}/{i}.flac"), (name,), f"{name}/{i // album_size}",
                                    analysis_features(rng, centre, spread)))
    return files

"""From raw model tags to calibrated genre suggestions and descriptors.

Raw tag probabilities are not genre confidences: each model learnt its tags' base
rates, so frequent tags (rock, pop, electronic) score high on almost anything and
rare genres (jazz, blues, opera) stay low even when they are right. Calibration
turns each tag into evidence relative to how the model scores *typical* music:

    lift(tag)        = logit(p(tag)) - logit(reference(tag))
    evidence(genre)  = mean over models of (max lift over the model's tags for it)
    confidence       = sigmoid(evidence + logit(PRIOR))

``reference(tag)`` is the median over a reference set of real tracks of the model's
track-level probability for that tag (``packaging/build_calibration.py``), clipped
to ``REFERENCE_RANGE``. A lift is a log-likelihood ratio under the model's own
calibration, so a rare genre whose probability is ten times its usual level beats a
frequent one at twice its level. ``PRIOR`` is the confidence of a genre whose tags
sit exactly at their usual level: most genres do not apply to a given track.

The clip works both ways. Its ceiling keeps a reference set rich in one style from
making that style unreachable. Its floor caps how far a lift can carry a tag that the
model gives little probability: since ``lift <= logit(p) - logit(floor)``, a tag at
``p`` can raise its genre to at most ``sigmoid(logit(p) - logit(floor) + logit(PRIOR))``.
Without it, a tag that sits near zero on the reference set turns a few percent of raw
probability into a confident genre: with a floor of 0.01 (issue 10), 97 of 370 game
tracks had a top genre resting on a tag below 10%, and MTT's ``indian`` (now a style
descriptor: it fires on flutes and drones) put "Indian" first at 60% on a raw 0.08-0.15.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.analysis.models import ModelInfo
from tagger.genres.suggestion import Descriptor, GenreSuggestion
from tagger.genres.taxonomy import Taxonomy
from tagger.genres.vocabulary import Vocabulary, vocabulary
from tagger.probability import logit, sigmoid
from tagger.resources import models_dir

PRIOR = 0.1
# The floor is the cap on faint tags (see above), chosen with
# benchmarks/base_model_top_genres.py over 401 real tracks (issue 10): the lowest at
# which no track's top genre rests on a tag below 5% and under 2% on one below 10%.
# At 0.04 a raw 5% gives at most 12% confidence, 10% at most 23%, 30% at most 53%.
REFERENCE_RANGE = (0.04, 0.2)


@dataclass(frozen=True)
class Calibration:
    """Each tag's reference probability on typical music, per model version."""

    reference: dict[str, np.ndarray]

    @classmethod
    def load(cls, infos: list[ModelInfo], path: Path | None = None) -> Calibration:
        doc = json.loads((path or models_dir() / "calibration.json").read_text(encoding="utf-8"))
        reference = {}
        for info in infos:
            entry = doc["models"].get(info.name)
            if entry is None or entry["model_version"] != info.calibration_version:
                raise RuntimeError(
                    f"calibration.json has no reference for {info.name} {info.calibration_version}; "
                    "rebuild it with packaging/build_calibration.py"
                )
            reference[info.name] = np.array([entry["reference"][label] for label in info.labels], np.float64)
        return cls(reference)

    @classmethod
    def neutral(cls, infos: list[ModelInfo]) -> Calibration:
        """Every tag at the same reference level: raw probabilities, for building a real one."""
        reference = {i.name: np.full(len(i.labels), PRIOR) for i in infos}
        return cls(reference)


class GenreScorer:
    """Combines both models' tag probabilities into genre and descriptor confidences."""

    def __init__(self, taxonomy: Taxonomy, calibration: Calibration, infos: list[ModelInfo]) -> None:
        self.taxonomy = taxonomy
        low, high = REFERENCE_RANGE
        # The reference the scorer judges each tag against: calibration.json's, clipped.
        self.reference = {name: np.clip(ref, low, high) for name, ref in calibration.reference.items()}
        self._reference_logit = {name: logit(ref) for name, ref in self.reference.items()}
        # target name -> [(model, indices of its tags that mean the target)]
        self._genre_sources: dict[str, list[tuple[str, np.ndarray]]] = {}
        self._descriptor_sources: dict[str, list[tuple[str, np.ndarray]]] = {}
        self.descriptor_kind: dict[str, str] = {}
        for info in infos:
            meanings = taxonomy.tags.get(info.name, {})
            missing = [label for label in info.labels if label not in meanings]
            if missing:
                raise ValueError(f"genres.json gives no meaning for {info.name} tags {missing}")
            by_target: dict[tuple[str, str], list[int]] = {}
            for index, label in enumerate(info.labels):
                meaning = meanings[label]
                if meaning.genre is not None:
                    by_target.setdefault(("genre", meaning.genre), []).append(index)
                else:
                    assert meaning.descriptor is not None, "Taxonomy.load: a tag means a genre or a descriptor"
                    by_target.setdefault(("descriptor", meaning.descriptor), []).append(index)
                    self.descriptor_kind[meaning.descriptor] = meaning.kind or "other"
            for (what, target), indices in by_target.items():
                sources = self._genre_sources if what == "genre" else self._descriptor_sources
                sources.setdefault(target, []).append((info.name, np.array(indices)))
        self.genre_names = sorted(self._genre_sources)
        self.descriptor_names = sorted(self._descriptor_sources)
        self._genre_gather = self._gather_plan(self._genre_sources, infos)
        self._spelt_for: tuple[Vocabulary, list[tuple[str, str]]] | None = None
        self._descriptor_gather = self._gather_plan(self._descriptor_sources, infos)

    @staticmethod
    def _gather_plan(
        sources: dict[str, list[tuple[str, np.ndarray]]], infos: list[ModelInfo]
    ) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """Per model: a [targets, synonyms] index matrix (padding points past the last tag)
        and which targets the model has, so all targets are scored in a few array operations."""
        targets = sorted(sources)
        plan = []
        for info in infos:
            rows = [dict(sources[t]).get(info.name) for t in targets]
            width = max((len(r) for r in rows if r is not None), default=1)
            index = np.full((len(targets), width), len(info.labels))
            for row, indices in enumerate(rows):
                if indices is not None:
                    index[row, : len(indices)] = indices
            plan.append((info.name, index, np.array([r is not None for r in rows])))
        return plan

    def _confidences(
        self, probabilities: Mapping[str, np.ndarray], plan: list[tuple[str, np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """``[..., targets]`` confidences for probabilities shaped ``[..., tags]``."""
        total = np.zeros(())
        count = np.zeros((), dtype=int)
        for model, index, present in plan:
            lift = logit(probabilities[model]) - self._reference_logit[model]
            padded = np.concatenate([lift, np.full((*lift.shape[:-1], 1), -np.inf)], axis=-1)
            best = padded[..., index].max(axis=-1)
            total = total + np.where(present, best, 0.0)
            count = count + present
        return sigmoid(total / count + logit(np.array(PRIOR)))

    def genre_confidences(self, probabilities: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._confidences(probabilities, self._genre_gather)

    def genres(self, probabilities: Mapping[str, np.ndarray]) -> list[GenreSuggestion]:
        """Every genre the models know, best first, from track-level probabilities."""
        return self.rank(self.genre_confidences(probabilities))

    def rank(self, confidences: np.ndarray, limit: int | None = None) -> list[GenreSuggestion]:
        """Genres best first, spelt as the person chose by renaming or merging; a genre merged
        into another is offered once, at the better confidence."""
        spelt = self._spelt()
        ranked: dict[str, GenreSuggestion] = {}
        for i in np.argsort(-confidences, kind="stable"):
            key, name = spelt[i]
            if key not in ranked:
                ranked[key] = GenreSuggestion(name, self.taxonomy.family[self.genre_names[i]], float(confidences[i]))
                if len(ranked) == limit:
                    break
        return list(ranked.values())

    def _spelt(self) -> list[tuple[str, str]]:
        """Each genre's key and spelling under the current vocabulary, worked out once per vocabulary."""
        vocab = vocabulary()
        if self._spelt_for is None or self._spelt_for[0] is not vocab:
            self._spelt_for = (vocab, [(vocab.key(n), vocab.chosen(n) or n) for n in self.genre_names])
        return self._spelt_for[1]

    def descriptors(self, probabilities: Mapping[str, np.ndarray]) -> list[Descriptor]:
        confidences = self._confidences(probabilities, self._descriptor_gather)
        order = np.argsort(-confidences, kind="stable")
        return [
            Descriptor(self.descriptor_names[i], self.descriptor_kind[self.descriptor_names[i]], float(confidences[i]))
            for i in order
        ]

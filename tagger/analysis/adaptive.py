"""The adaptive depth's rule: take more patches of a track only while its genre is unsettled.

A track's genres come from the mean of its patches' tag probabilities; full depth
averages every patch. The adaptive depth takes the track's patches in
``excerpt.patch_order`` and treats what it has as a sample of the whole: after each
round it asks whether the top genre's lead over every other genre is large against
the uncertainty of that lead. The uncertainty is the jackknife standard error of the
lead (leave one patch out, see how much the lead moves), shrunk by the finite-
population correction, since a track has only so many patches. So one number covers
the three signs of an open answer: a small lead, patches that disagree (a large
spread) and a long track (little of it seen yet).

The defaults are the cheapest rule in ``benchmarks/adaptive_depth.py``'s grid whose top
genre matches full depth's on 95% of 401 real tracks (../shared/music, the demo
samples and 370 tracks of Debian game music): 11.1 patches per track on average,
against fast depth's 6 and its 88.5%. See docs/benchmarks.md for the whole curve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tagger.analysis.scoring import GenreScorer
from tagger.probability import logit


@dataclass(frozen=True)
class AdaptiveRule:
    """When adaptive depth stops hearing more of a track: patches per round and the lead that settles it."""

    first: int = 3  # patches in the first round
    step: int = 2  # patches added by each further round
    most: int = 32  # patches (silent ones included) after which a track counts as settled
    settled_z: float = 1.5  # the top genre's lead, in standard errors, that settles it
    top3_z: float = 0.0  # the same for the top three as a set; 0 leaves them out of the rule

    def more(self, scorer: GenreScorer, order: Sequence[int], planned: Sequence[int],
             probabilities: Mapping[str, np.ndarray], population: int) -> list[int]:
        """The next patches to analyse, or [] once the answer is settled.

        ``order`` is the track's ``patch_order``, ``planned`` the patches analysed so
        far (silent ones included), ``probabilities`` the loud ones' tag probabilities
        per model and ``population`` how many patches the track has."""
        if len(planned) >= self.most:
            return []
        done = set(planned)
        remaining = [i for i in order if i not in done]
        if not remaining or self.settled(scorer, probabilities, population):
            return []
        return remaining[: min(self.step, self.most - len(planned))]

    def settled(self, scorer: GenreScorer, probabilities: Mapping[str, np.ndarray], population: int) -> bool:
        if lead_z(scorer, probabilities, population) < self.settled_z:
            return False
        return self.top3_z <= 0 or lead_z(scorer, probabilities, population, 3) >= self.top3_z


DEFAULT_RULE = AdaptiveRule()


def lead_z(scorer: GenreScorer, probabilities: Mapping[str, np.ndarray], population: int, k: int = 1) -> float:
    """The smallest lead of any of the top ``k`` genres over any genre below them, in
    jackknife standard errors: k=1 asks whether the top genre is settled, k=3 whether
    the top three are.

    0 when there are too few loud patches to tell; infinite once every patch of the
    population is in the sample, since then the sample is the track."""
    n = len(next(iter(probabilities.values()), ()))
    if n < 2:
        return 0.0
    remaining_share = 1.0 - n / population if population > n else 0.0
    if remaining_share == 0.0:
        return float("inf")
    evidence = logit(scorer.genre_confidences({m: p.mean(axis=0) for m, p in probabilities.items()}))
    ranked = np.argsort(-evidence, kind="stable")
    above, below = ranked[:k], ranked[k:]
    lead = evidence[above][:, None] - evidence[below][None, :]
    # The mean of every patch but one, for each patch: [n, tags] per model.
    left_out = {m: (p.sum(axis=0) - p) / (n - 1) for m, p in probabilities.items()}
    jack_evidence = logit(scorer.genre_confidences(left_out))
    jack_lead = jack_evidence[:, above][:, :, None] - jack_evidence[:, below][:, None, :]
    variance = (n - 1) / n * ((jack_lead - jack_lead.mean(axis=0)) ** 2).sum(axis=0)
    error = np.sqrt(variance * remaining_share)
    # Genres whose evidence moves together in every patch (no error) keep their order in full depth too.
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(error > 0, lead / error, np.inf)
    return float(z.min())

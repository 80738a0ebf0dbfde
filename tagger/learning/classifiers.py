"""The classifiers a learned model can be, and how a person's library picks one.

    standardised features ─▶ candidates on the same grouped folds:
        logistic regression over a grid of strengths (the plain one among them),
        shrinkage LDA over a grid of shrinkages, a nearest-prototype classifier
    ─▶ each candidate's out-of-fold temperature ─▶ the best, or the average of the
       best of each kind where that does better

Candidates are judged on held-out files the way a person feels them: how often the
first genre is right, then how often it is in the top three, then the log loss of
the tempered probabilities. A plain logistic regression is always a candidate, so
the model a library gets is never worse than it in that library's cross-validation.
No one classifier wins on every library (benchmarks/learning.py shows which won
where), which is why the library decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tagger.learning.minimise import golden_section, lbfgs
from tagger.probability import softmax

LINEAR, PROTOTYPE = "linear", "prototype"
# The plain logistic regression's L2 strength (per file, on standardised features).
PLAIN_STRENGTH = 1e-2
STRENGTHS = (1.0, 1e-1, PLAIN_STRENGTH)  # strongest first: each fit starts where the last ended
SHRINKAGES = (0.2, 0.5, 0.8)
PLAIN = f"logistic regression (strength {PLAIN_STRENGTH:g})"
# Logistic regression is fitted in the span of the files' leading principal directions,
# at most this many: with fewer files than that it is the same fit (an L2-penalised
# solution lies in the span of the files), and with thousands it keeps learning to
# seconds (benchmarks/learning.py measures both).
MAX_DIRECTIONS = 128
# L-BFGS steps for a logistic regression: the fold fits only rank the candidates, and
# at 40 steps they ranked them as at 200 on the benchmark libraries (benchmarks/learning.py).
FOLD_STEPS, FINAL_STEPS = 40, 100
AVERAGE = "average of the best of each kind"
# A genre a fold never saw gets this score from a prototype: it cannot be the answer.
_ABSENT = -30.0


@dataclass(frozen=True)
class Standardiser:
    """Per-feature mean and scale, so that every embedding dimension weighs alike."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> Standardiser:
        scale = x.std(axis=0)
        scale[scale < 1e-6] = 1.0
        return cls(x.mean(axis=0), scale)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(x) - self.mean) / self.scale


@dataclass(frozen=True)
class Member:
    """One fitted classifier over standardised features: linear scores, or (for a
    prototype) the cosine to each genre's centre; its temperature turns scores into
    probabilities that were honest out of fold."""

    kind: str
    weights: np.ndarray  # [features, genres]
    bias: np.ndarray  # [genres]
    temperature: float = 1.0

    def scores(self, xs: np.ndarray) -> np.ndarray:
        if self.kind == PROTOTYPE:
            xs = xs / np.maximum(np.linalg.norm(xs, axis=1, keepdims=True), 1e-12)
        return xs @ self.weights + self.bias

    def probabilities(self, xs: np.ndarray) -> np.ndarray:
        return softmax(self.scores(xs) / self.temperature)


def combined_probabilities(members: Sequence[Member], xs: np.ndarray) -> np.ndarray:
    """The members' probabilities, averaged."""
    return np.mean([m.probabilities(xs) for m in members], axis=0)


def principal_directions(xs: np.ndarray, most: int = MAX_DIRECTIONS) -> np.ndarray:
    """``[features, r]``: the leading directions of the centred files, r <= ``most``,
    from the eigenvectors of the smaller of their two Gram matrices."""
    centred = xs - xs.mean(axis=0)
    n, d = centred.shape
    values, vectors = np.linalg.eigh(centred.T @ centred if d <= n else centred @ centred.T)
    values, vectors = values[::-1][:most], vectors[:, ::-1][:, :most]
    keep = values > 1e-9 * max(values[0], 1e-300) if len(values) else np.zeros(0, bool)
    values, vectors = values[keep], vectors[:, keep]
    if d <= n:
        return vectors
    return (centred.T @ vectors) / np.sqrt(values)


def fit_logistic(xs: np.ndarray, y: np.ndarray, strength: float, start: np.ndarray | None = None,
                 directions: np.ndarray | None = None, steps: int = FINAL_STEPS) -> tuple[Member, np.ndarray]:
    """Multinomial logistic regression with an L2 penalty of ``strength`` on the
    weights, fitted to target distributions ``y`` in the files' principal directions;
    the member and its parameters there (to start the next strength from)."""
    if directions is None:
        directions = principal_directions(xs)
    z0 = xs @ directions
    n, d = z0.shape
    k = y.shape[1]
    weight = y.sum(axis=1, keepdims=True)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        z = z0 @ w + b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        total = e.sum(axis=1, keepdims=True)
        residual = (e * (weight / total) - y) / n
        value = -(y * (z - np.log(total))).sum() / n + 0.5 * strength * (w * w).sum()
        return value, np.concatenate([(z0.T @ residual + strength * w).ravel(), residual.sum(axis=0)])

    theta0 = start if start is not None and len(start) == d * k + k else np.zeros(d * k + k)
    theta = lbfgs(loss, theta0, steps).x
    return Member(LINEAR, directions @ theta[: d * k].reshape(d, k), theta[d * k:].copy()), theta


def fit_lda(xs: np.ndarray, y: np.ndarray, shrinkage: float) -> Member:
    """Linear discriminants with the shared within-genre covariance shrunk toward a
    multiple of the identity; each genre's prior is its share of the files."""
    n, d = xs.shape
    weight = y.sum(axis=0)
    mean = xs.mean(axis=0)
    centres = (y.T @ xs) / np.maximum(weight, 1e-12)[:, None] - mean
    centred = xs - mean
    within = centred.T @ centred / n - (centres.T * (weight / n)) @ centres
    within = (1 - shrinkage) * within + shrinkage * np.trace(within) / d * np.eye(d)
    weights = np.linalg.solve(within, centres.T)
    bias = (-0.5 * np.einsum("kd,dk->k", centres, weights) - mean @ weights
            + np.log(np.maximum(weight / n, 1e-12)))
    return Member(LINEAR, weights, bias)


def fit_prototypes(xs: np.ndarray, y: np.ndarray) -> Member:
    """Each genre's centre, as a direction: a file goes to the genre it points toward."""
    weight = y.sum(axis=0)
    centres = (y.T @ xs) / np.maximum(weight, 1e-12)[:, None]
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    return Member(PROTOTYPE, centres.T.copy(), np.where(weight > 0, 0.0, _ABSENT))


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the cross-entropy of out-of-fold ``scores``."""
    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        # The small pull toward 1 decides where the data cannot: when every held-out
        # file is right by a wide margin, any temperature fits.
        return float(-(y * log_p).sum() / len(y)) + 1e-4 * log_t * log_t

    log_t, _ = golden_section(nll, -6.0, 4.0)
    return math.exp(log_t)


@dataclass(frozen=True)
class CandidateFigures:
    """One candidate classifier's cross-validated figures, by which the library chooses."""

    name: str
    top1: float
    top3: float
    log_loss: float

    def rank_key(self) -> tuple[float, float, float]:
        return (-self.top1, -self.top3, self.log_loss)


def figures(name: str, p: np.ndarray, y: np.ndarray) -> CandidateFigures:
    truth = y > 0
    order = np.argsort(-p, axis=1, kind="stable")
    rows = np.arange(len(y))
    top1 = truth[rows, order[:, 0]].mean()
    top3 = truth[rows[:, None], order[:, :3]].any(axis=1).mean()
    log_loss = -(y * np.log(np.maximum(p, 1e-12))).sum(axis=1).mean()
    return CandidateFigures(name, float(top1), float(top3), float(log_loss))


@dataclass(frozen=True)
class Choice:
    """The library's classifier: its members fitted on every file, the out-of-fold
    probabilities that chose it (for calibration and the report), and how every
    candidate did."""

    name: str
    members: list[Member]
    standardiser: Standardiser
    probabilities: np.ndarray  # [sampled files, genres] out of fold; rows of untested files are meaningless
    candidates: list[CandidateFigures]  # best first


@dataclass(frozen=True)
class _Recipe:
    kind: str  # "logistic", "lda" or "prototype"
    parameter: float = 0.0

    @property
    def name(self) -> str:
        if self.kind == "logistic":
            return f"logistic regression (strength {self.parameter:g})"
        if self.kind == "lda":
            return f"shrinkage LDA (shrinkage {self.parameter:g})"
        return "nearest prototype"


def _recipes() -> list[_Recipe]:
    return ([_Recipe("logistic", s) for s in STRENGTHS] + [_Recipe("lda", s) for s in SHRINKAGES]
            + [_Recipe("prototype")])


def _fit_all(xs: np.ndarray, y: np.ndarray, recipes: Sequence[_Recipe], steps: int = FINAL_STEPS) -> list[Member]:
    members, start, directions = [], None, None
    for recipe in recipes:
        if recipe.kind == "logistic":  # strengths in order, each starting where the last ended
            if directions is None:
                directions = principal_directions(xs)
            member, start = fit_logistic(xs, y, recipe.parameter, start, directions, steps)
        elif recipe.kind == "lda":
            member = fit_lda(xs, y, recipe.parameter)
        else:
            member = fit_prototypes(xs, y)
        members.append(member)
    return members


def choose(x: np.ndarray, y: np.ndarray, sample: np.ndarray, fold: np.ndarray, tested: np.ndarray) -> Choice:
    """Cross-validate every candidate on the files ``sample`` indexes (``fold`` and
    ``tested`` are theirs), keep the best on the tested ones (those whose genres the
    rest of the library has), and fit it on every file of ``x``."""
    final_x, final_y = x, y
    x, y = x[sample], y[sample]
    recipes = _recipes()
    scores = [np.zeros_like(y) for _ in recipes]
    for f in np.unique(fold):
        held_out = fold == f
        standardise = Standardiser.of(x[~held_out])
        for s, member in zip(scores, _fit_all(standardise(x[~held_out]), y[~held_out], recipes, FOLD_STEPS)):
            s[held_out] = member.scores(standardise(x[held_out]))
    yt = y[tested]
    temperatures = [fit_temperature(s[tested], yt) for s in scores]
    tempered = [softmax(s / t) for s, t in zip(scores, temperatures)]
    judged = {r.name: figures(r.name, p[tested], yt) for r, p in zip(recipes, tempered)}
    best_of_kind: dict[str, int] = {}
    for i, recipe in enumerate(recipes):
        current = best_of_kind.get(recipe.kind)
        if current is None or judged[recipe.name].rank_key() < judged[recipes[current].name].rank_key():
            best_of_kind[recipe.kind] = i
    chosen = sorted(best_of_kind.values())
    average = np.mean([tempered[i] for i in chosen], axis=0)
    judged[AVERAGE] = figures(AVERAGE, average[tested], yt)
    ranking = sorted(judged.values(), key=CandidateFigures.rank_key)
    winner = ranking[0].name
    picked = chosen if winner == AVERAGE else [next(i for i, r in enumerate(recipes) if r.name == winner)]
    standardise = Standardiser.of(final_x)
    final = _fit_all(standardise(final_x), final_y, [recipes[i] for i in picked])
    members = [Member(m.kind, m.weights, m.bias, temperatures[i]) for m, i in zip(final, picked)]
    out_of_fold = average if winner == AVERAGE else tempered[picked[0]]
    return Choice(winner, members, standardise, out_of_fold, ranking)

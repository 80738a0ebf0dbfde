"""Benchmark: learning the person's own genres (issue 10), on real music.

    python benchmarks/learning.py [ROOT...] [--cache FILE]

Every folder under the ROOTs that holds audio plays one "user genre" (default
../shared/music, plus ../extra-music when present: see benchmarks/fetch_debian_music.sh).
Files are analysed at the default depth (the cache answers for known files), 60% of
each genre are "tagged" (files 0, 1, 2 of every 5 in name order) and the rest are
held out. Prints:

- held-out agreement with audio alone (no album evidence), for the issue's reference
  (a plain logistic regression on the mean embeddings) and for Genre Tagger's model;
- held-out agreement with album evidence (the genre's folder is its album, and the
  tagged tracks on it vote);
- the reliability table of the held-out top suggestions;
- genres the library never saw: each genre left out of training in turn, how often
  its files' top suggestion still claims a learned genre;
- sweeps of the covariance shrinkage and of the tagged files per genre;
- learn time and model size for 10,000 generated files, from a generated cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.albums import Track, consensus  # noqa: E402
from tagger.analysis import Analysis, Analyzer  # noqa: E402
from tagger.cache import AnalysisCache, RawAnalysis, pack, unpack  # noqa: E402
from tagger.excerpt import Depth  # noqa: E402
from tagger.genres import BASE  # noqa: E402
from tagger.learning import (  # noqa: E402
    SHRINKAGE, LearnedModel, TaggedFile, features, reliability, train,
)
import tagger.learning as learning  # noqa: E402
from tagger.pipeline import AnalysisPipeline  # noqa: E402
from tagger.scan import scan  # noqa: E402

TAGGED_OF_EVERY_5 = 3


def analyse(roots: list[Path], cache: AnalysisCache | None) -> dict[str, list[Analysis]]:
    """Each genre folder's analyses, in name order."""
    analyzer = Analyzer(cache=cache)
    genre_of = {}
    for root in roots:
        for event in scan([root]):
            if event.problem is None:  # the genre is the first folder below the root
                genre_of[event.path] = event.path.relative_to(root).parts[0]
    by_genre: dict[str, list[Analysis]] = {}
    for result in AnalysisPipeline(analyzer, Depth.FAST).results(sorted(genre_of)):
        if result.ok and result.analysis.music_detected:
            by_genre.setdefault(genre_of[result.path], []).append(result.analysis)
    return {g: a for g, a in by_genre.items() if len(a) >= 5}


def split(by_genre: dict[str, list[Analysis]]) -> tuple[list[tuple[str, Analysis]], list[tuple[str, Analysis]]]:
    tagged, held_out = [], []
    for genre, analyses in by_genre.items():
        for i, analysis in enumerate(analyses):
            (tagged if i % 5 < TAGGED_OF_EVERY_5 else held_out).append((genre, analysis))
    return tagged, held_out


def feature_of(analysis: Analysis) -> np.ndarray:
    return features(analysis.embeddings, analysis.patch_probabilities)


def our_model(tagged: list[tuple[str, Analysis]], min_files: int = 2) -> LearnedModel:
    files = [TaggedFile(a.path, (g,), str(a.path), feature_of(a)) for g, a in tagged]
    return train(files, "benchmark", min_files=min_files)


def agreement(p: np.ndarray, classes: list[str], truth: list[str]) -> tuple[float, float]:
    order = np.argsort(-p, axis=1)
    top1 = np.mean([classes[o[0]] == t for o, t in zip(order, truth)])
    top3 = np.mean([t in {classes[i] for i in o[:3]} for o, t in zip(order, truth)])
    return float(top1), float(top3)


def plain_logistic_regression(tagged, held_out) -> tuple[float, float]:
    """The issue's reference: multinomial logistic regression on the mean embeddings."""
    from scipy.optimize import minimize

    classes = sorted({g for g, _ in tagged})
    x = np.stack([np.concatenate([a.embeddings[k] for k in sorted(a.embeddings)]) for _, a in tagged])
    xt = np.stack([np.concatenate([a.embeddings[k] for k in sorted(a.embeddings)]) for _, a in held_out])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    x, xt = (x - mean) / scale, (xt - mean) / scale
    y = np.eye(len(classes))[[classes.index(g) for g, _ in tagged]]
    d, k = x.shape[1], len(classes)

    def loss(theta):
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        r = (np.exp(log_p) - y) / len(x)
        return -(y * log_p).sum() / len(x) + 0.5e-2 * (w * w).sum(), np.concatenate([(x.T @ r + 1e-2 * w).ravel(), r.sum(0)])

    theta = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    p = xt @ theta[: d * k].reshape(d, k) + theta[d * k:]
    return agreement(p, classes, [g for g, _ in held_out])


def with_albums(model: LearnedModel, tagged, held_out) -> float:
    """Held-out top-1 when each genre's folder is an album whose tagged tracks vote."""
    hits = []
    for genre in {g for g, _ in held_out}:
        mine = [a for g, a in tagged if g == genre]
        theirs = [a for g, a in held_out if g == genre]
        tracks = [Track(a.path, model.suggestions(feature_of(a), a.genres, _taxonomy()), [genre]) for a in mine]
        tracks += [Track(a.path, model.suggestions(feature_of(a), a.genres, _taxonomy())) for a in theirs]
        album = consensus(genre, genre, tracks)
        hits += [advice.genres[0].genre == genre for advice in album.tracks[len(mine):]]
    return float(np.mean(hits))


_TAXONOMY = []


def _taxonomy():
    if not _TAXONOMY:
        from tagger.genres import Taxonomy

        _TAXONOMY.append(Taxonomy.load())
    return _TAXONOMY[0]


def unseen_genres(tagged, held_out) -> tuple[float, float]:
    """Each genre left out of training in turn: the share of its files whose top
    suggestion still claims a learned genre, and their mean library confidence."""
    claimed, confidence = [], []
    for genre in sorted({g for g, _ in tagged}):
        model = our_model([(g, a) for g, a in tagged if g != genre])
        for g, a in tagged + held_out:
            if g == genre:
                ranked = model.suggestions(feature_of(a), a.genres, _taxonomy())
                claimed.append(ranked[0].source != BASE)
                confidence.append(max(s.confidence for s in ranked if s.source != BASE))
    return float(np.mean(claimed)), float(np.mean(confidence))


def generated_cache_timing(files: int = 10_000, genres: int = 40) -> tuple[float, float, float, int]:
    """(seconds to read and featurise the cache entries, seconds to train, seconds for
    both, model bytes) for ``files`` generated analyses of six patches."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((genres, 500))
    with tempfile.TemporaryDirectory() as folder:
        cache = AnalysisCache(Path(folder) / "cache.sqlite3")
        labels = rng.integers(0, genres, files)
        for i, g in enumerate(labels):
            c = centres[g] + 2.0 * rng.standard_normal(500)
            raw = RawAnalysis(
                30.0, 10, np.arange(6, dtype=np.float64) * 3,
                {m: 1 / (1 + np.exp(-(c[400 + 50 * j: 450 + 50 * j] + rng.standard_normal((6, 50)))))
                 for j, m in enumerate(("MSD_musicnn", "MTT_musicnn"))},
                {m: c[200 * j: 200 * (j + 1)] for j, m in enumerate(("MSD_musicnn", "MTT_musicnn"))},
            )
            cache._db.execute(
                "INSERT INTO analyses VALUES (?, 1, 1, ?, 'm', 'fast6', 30.0, 10, ?, '{}', 0)",
                (f"/g/{i}".encode(), str(i), pack(raw)))
        started = time.perf_counter()
        examples = []
        for path, blob in cache._db.execute("SELECT path, outputs FROM analyses"):
            raw = unpack(blob, 30.0, 10)
            i = int(path[3:])
            examples.append(TaggedFile(Path(path.decode()), (f"Genre {labels[i]}",), f"album {i // 10}",
                                       features(raw.embeddings, raw.patch_probabilities)))
        read = time.perf_counter() - started
        model = train(examples, "m")
        total = time.perf_counter() - started
        buffer = Path(folder) / "model.npz"
        model.save(buffer)
        return read, total - read, total, buffer.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="*", type=Path)
    parser.add_argument("--cache", type=Path, help="analysis cache file (default: the user's)")
    args = parser.parse_args()
    roots = args.roots or [p for p in (ROOT.parent / "shared" / "music", ROOT.parent / "extra-music") if p.is_dir()]
    cache = AnalysisCache(args.cache) if args.cache else AnalysisCache()
    started = time.perf_counter()
    by_genre = analyse(roots, cache)
    tagged, held_out = split(by_genre)
    print(f"{len(by_genre)} genres, {len(tagged)} tagged and {len(held_out)} held-out files "
          f"from {', '.join(str(r) for r in roots)} (analysed in {time.perf_counter() - started:.0f} s)")

    reference = plain_logistic_regression(tagged, held_out)
    model = our_model(tagged)
    x = np.stack([feature_of(a) for _, a in held_out])
    truth = [g for g, _ in held_out]
    p = model.probabilities(x)
    ours = agreement(p, model.genres, truth)
    print("\nheld-out agreement, audio alone        top-1   top-3")
    print(f"  plain logistic regression (mean emb.)  {reference[0]:.2f}    {reference[1]:.2f}")
    print(f"  Genre Tagger (learned model)           {ours[0]:.2f}    {ours[1]:.2f}")
    print(f"  with album evidence (folder = album)   {with_albums(model, tagged, held_out):.2f}")
    print(f"  learn's own cross-validation report    {model.report.top1:.2f}    {model.report.top3:.2f}"
          "  (grouped by file here: no album tags)")

    top = p.max(axis=1)
    correct = np.array([model.genres[i] == t for i, t in zip(p.argmax(axis=1), truth)])
    ece, table = reliability(top, correct)
    print(f"\nheld-out calibration: expected calibration error {ece:.3f}")
    print("  stated       files  mean  right")
    for b in table:
        print(f"  {b.low:.1f}-{b.high:.1f}    {b.files:>6}  {b.confidence:.2f}  {b.accuracy:.2f}")

    claimed, confidence = unseen_genres(tagged, held_out)
    print(f"\ngenres never tagged: top suggestion claims a learned genre for {claimed:.0%} of their files "
          f"(mean best learned confidence {confidence:.2f})")

    print("\nshrinkage   top-1  top-3  (held out, audio alone)")
    for shrinkage in (0.1, 0.3, 0.5, 0.7, 0.9):
        learning.fit_discriminants.__defaults__ = (shrinkage,)
        fitted = our_model(tagged)
        print(f"  {shrinkage:.1f}{' *' if shrinkage == SHRINKAGE else '  '}     "
              + "  ".join(f"{v:.2f}" for v in agreement(fitted.probabilities(x), fitted.genres, truth)))
    learning.fit_discriminants.__defaults__ = (SHRINKAGE,)

    print("\ntagged files per genre   top-1 on held-out files (mean of 5 draws)")
    rng = np.random.default_rng(0)
    for per_genre in (2, 3, 4, 5, 8):
        scores = []
        for _ in range(5):
            subset = []
            for genre in by_genre:
                mine = [t for t in tagged if t[0] == genre]
                subset += [mine[i] for i in rng.permutation(len(mine))[:per_genre]]
            fitted = our_model(subset, min_files=1)
            scores.append(agreement(fitted.probabilities(x), fitted.genres, truth)[0])
        print(f"  {per_genre:>2}                       {np.mean(scores):.2f}")

    read, fit, total, size = generated_cache_timing()
    print(f"\n10,000 generated cache entries, 40 genres: read and featurise {read:.1f} s, train with "
          f"5-fold cross-validation {fit:.1f} s, total {total:.1f} s; model {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

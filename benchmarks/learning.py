"""Benchmark: learning the person's own genres, on several real libraries (issue 22).

    python benchmarks/build_libraries.py ../bench-libraries     # once: real music, tagged
    python benchmarks/learning.py [Source.LEARNED...] [--depth D] [--train-depth D] [--cache FILE] [--no-timing]

Each Source.LEARNED is a folder built by benchmarks/build_libraries.py (default: every one
under ../bench-libraries): real tracks whose tags (album, artist, genre on the
"tagged" files only) say what a person's would, and a truth.json with every file's
true genre. For each library, side by side on the same cached analyses:

- Genre Tagger's learned model with its defaults (the classifier the library's own
  cross-validation chose), a plain logistic regression and shrinkage LDA, each
  trained on the tagged files' features;
- each of them on the audio alone, and with context (tagger.library.context: album mates,
  the artist's other albums, genre-named folders, read from the files' real tags);
- top-1, top-3 and the expected calibration error of the top suggestion on the
  held-out (untagged) files, and the figures learn's own cross-validation reports.

Then the time to learn from 10,000 generated cache entries. Nothing here is tuned on
one library: defaults must hold on all of them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from build_libraries import load_library  # noqa: E402

from tagger.analysis.analyzer import Analysis, Analyzer  # noqa: E402
from tagger.analysis.cache import AnalysisCache, RawAnalysis, pack, unpack  # noqa: E402
from tagger.analysis.pipeline import AnalysisPipeline  # noqa: E402
from tagger.audio.excerpt import Depth  # noqa: E402
from tagger.genres.suggestion import GenreSuggestion, Source  # noqa: E402
from tagger.genres.taxonomy import Taxonomy  # noqa: E402
from tagger.genres.vocabulary import vocabulary  # noqa: E402
from tagger.learning.classifiers import PLAIN_STRENGTH, Standardiser, fit_lda, fit_logistic  # noqa: E402
from tagger.learning.learned import (  # noqa: E402
    SHRINKAGE,
    LearnableGenres,
    TaggedFile,
    features,
    reliability,
    train,
)
from tagger.library.albums import AlbumGrouper  # noqa: E402
from tagger.library.collection import read_collection  # noqa: E402
from tagger.library.context import ContextIndex  # noqa: E402
from tagger.probability import softmax  # noqa: E402


def feature_of(analysis: Analysis) -> np.ndarray:
    return features(analysis.embeddings, analysis.patch_probabilities)


def scores(ranked_per_file: Sequence[Sequence[GenreSuggestion]], truth: Sequence[str]) -> tuple[float, float, float]:
    """(top-1, top-3, expected calibration error of the top suggestion)."""
    key = vocabulary().key
    hits1, hits3, confidence = [], [], []
    for ranked, genre in zip(ranked_per_file, truth):
        keys = [key(s.genre) for s in ranked]
        hits1.append(bool(keys) and keys[0] == key(genre))
        hits3.append(key(genre) in keys[:3])
        confidence.append(ranked[0].confidence if ranked else 0.0)
    ece, _ = reliability(np.array(confidence), np.array(hits1, float))
    return float(np.mean(hits1)), float(np.mean(hits3)), ece


def ranked_from(p: np.ndarray, classes: Sequence[str]) -> list[list[GenreSuggestion]]:
    return [[GenreSuggestion(classes[i], classes[i], float(row[i]), Source.LEARNED) for i in np.argsort(-row)]
            for row in p]


def evaluate(root: Path, analyzer: Analyzer, depth: Depth, taxonomy: Taxonomy, train_depth: Depth | None = None
             ) -> dict:
    files = load_library(root)
    started = time.perf_counter()
    analyses = {r.path: r.analysis for r in AnalysisPipeline(analyzer, depth).results([f.path for f in files])
                if r.ok and r.analysis.music_detected}
    if train_depth is not None and train_depth != depth:  # the tagged files deepened, as learn --depth does
        deeper = AnalysisPipeline(analyzer, train_depth).results([f.path for f in files if f.tagged])
        analyses.update({r.path: r.analysis for r in deeper if r.ok and r.analysis.music_detected})
    analysed_s = time.perf_counter() - started
    tags = {c.path: c.tags for c in read_collection([root])}
    grouper = AlbumGrouper()
    tagged, held_out = [], []
    for f in files:
        if f.path not in analyses:
            continue
        if f.tagged:
            album = grouper.album_of(f.path, tags[f.path])
            tagged.append(TaggedFile(f.path, tuple(tags[f.path].genres), album[0] if album else f"file\x1f{f.path}",
                                     feature_of(analyses[f.path])))
        else:
            held_out.append(f)
    truth = [f.genre for f in held_out]
    x_held = np.stack([feature_of(analyses[f.path]) for f in held_out])
    context = ContextIndex.of(tags.items())

    started = time.perf_counter()
    model = train(tagged, analyzer.models_key)
    learn_s = time.perf_counter() - started
    ours = [model.suggestions(x, analyses[f.path].genres, taxonomy) for x, f in zip(x_held, held_out)]
    own_genres_only = ranked_from(model.probabilities(x_held), model.genres)

    # The baselines see every genre with a tagged file, on the same features.
    classes = LearnableGenres.of([t.genres for t in tagged], min_files=1)
    x = np.stack([t.features for t in tagged])
    y = classes.targets([t.genres for t in tagged])
    standardise = Standardiser.of(x)
    plain, _ = fit_logistic(standardise(x), y, PLAIN_STRENGTH)
    lda = fit_lda(standardise(x), y, SHRINKAGE)
    baselines = {
        "plain logistic regression": ranked_from(plain.probabilities(standardise(x_held)), classes.genres),
        "shrinkage LDA": ranked_from(softmax(lda.scores(standardise(x_held))), classes.genres),
    }
    rows = {}
    for name, ranked in {"Genre Tagger (defaults)": ours, "  the same, your genres only": own_genres_only,
                         **baselines}.items():
        rows[name] = (scores(ranked, truth),
                      scores([context.combine(f.path, r) for f, r in zip(held_out, ranked)], truth))
    return {
        "unseen": unseen_genres(tagged, held_out, x_held, analyses, taxonomy, analyzer.models_key),
        "name": root.name, "files": len(files), "tagged": len(tagged), "held_out": len(held_out),
        "genres": len(classes.genres), "rows": rows, "report": model.report, "reliability": context.reliability,
        "analysed_s": analysed_s, "learn_s": learn_s,
    }


def unseen_genres(tagged: list[TaggedFile], held_out: list, x_held: np.ndarray, analyses: dict,
                  taxonomy: Taxonomy, models_key: str, most: int = 5) -> tuple[float, int]:
    """The largest ``most`` genres each left out of learning in turn: the share of their
    held-out files whose first suggestion is a bundled genre (the file is recognised
    as unlike the library) rather than one of the person's other genres."""
    key = vocabulary().key
    sizes: dict[str, int] = {}
    for t in tagged:
        for g in {key(g) for g in t.genres}:
            sizes[g] = sizes.get(g, 0) + 1
    stepped_back = []
    for genre in sorted(sizes, key=lambda g: -sizes[g])[:most]:
        model = train([t for t in tagged if genre not in {key(g) for g in t.genres}], models_key)
        for x, f in zip(x_held, held_out):
            if key(f.genre) == genre:
                ranked = model.suggestions(x, analyses[f.path].genres, taxonomy)
                stepped_back.append(ranked[0].source != Source.LEARNED)
    return float(np.mean(stepped_back)), len(stepped_back)


def print_library(result: dict) -> None:
    report = result["report"]
    print(f"\n== {result['name']}: {result['files']} files, {result['genres']} genres, {result['tagged']} tagged, "
          f"{result['held_out']} held out (analysis {result['analysed_s']:.0f} s, learn {result['learn_s']:.1f} s)")
    print(f"   learn chose {report.model}; cross-validation by {report.grouping}: top-1 {report.top1:.2f}, "
          f"top-3 {report.top3:.2f}, calibration error {report.expected_calibration_error:.3f}")
    runner_up = report.candidates[1] if len(report.candidates) > 1 else None
    if runner_up:
        print(f"   runner-up {runner_up.name}: top-1 {runner_up.top1:.2f}, top-3 {runner_up.top3:.2f}")
    print("   context reliability: " + ", ".join(f"{s} {r:.2f}" for s, r in result["reliability"].items()))
    share, files = result["unseen"]
    print(f"   a genre never tagged (5 largest, each left out in turn): {share:.0%} of its {files} held-out files "
          "get a bundled genre first, not another of yours")
    print(f"   {'held out':<28} {'audio alone':^22} {'with context':^22}")
    print(f"   {'':<28} {'top-1':>6} {'top-3':>6} {'ECE':>6}   {'top-1':>6} {'top-3':>6} {'ECE':>6}")
    for name, (alone, with_context) in result["rows"].items():
        print(f"   {name:<28} " + " ".join(f"{v:>6.2f}" for v in alone) + "   "
              + " ".join(f"{v:>6.2f}" for v in with_context))


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
                "INSERT INTO analyses VALUES (?, 1, 1, ?, 'm', 'fp32', 'fast6', 30.0, 10, ?, '{}', 0)",
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
    parser.add_argument("libraries", nargs="*", type=Path)
    parser.add_argument("--depth", choices=[d.value for d in Depth], default=Depth.ADAPTIVE.value)
    parser.add_argument("--train-depth", choices=[d.value for d in Depth],
                        help="analyse the tagged files at this depth (what deepening them before learning buys)")
    parser.add_argument("--cache", type=Path, help="analysis cache file (default: the user's)")
    parser.add_argument("--no-timing", action="store_true", help="skip the 10,000-file learning time")
    args = parser.parse_args()
    libraries = args.libraries or sorted(p for p in (ROOT.parent / "bench-libraries").glob("*")
                                         if (p / "truth.json").is_file())
    if not libraries:
        sys.exit("no benchmark libraries: build them with benchmarks/build_libraries.py ../bench-libraries")
    analyzer = Analyzer(cache=AnalysisCache(args.cache) if args.cache else AnalysisCache())
    taxonomy = Taxonomy.load()
    trained_at = f", tagged files at {args.train_depth}" if args.train_depth else ""
    print(f"depth {args.depth}{trained_at}; held-out files are the libraries' untagged ones; "
          "ECE: expected calibration error of the top suggestion (10 bins)")
    for root in libraries:
        print_library(evaluate(root, analyzer, Depth(args.depth), taxonomy,
                               Depth(args.train_depth) if args.train_depth else None))
    if not args.no_timing:
        read, fit, total, size = generated_cache_timing()
        print(f"\n10,000 generated cache entries, 40 genres: read and featurise {read:.1f} s, learn "
              f"(choosing the classifier) {fit:.1f} s, total {total:.1f} s; model {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

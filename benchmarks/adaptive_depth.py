"""Choosing the adaptive depth's rule: patches per track against agreement with full depth.

    python benchmarks/adaptive_depth.py [FOLDER...] [--outputs FILE]

FOLDERs default to ../shared/music, the demo samples and ../extra-music where present
(``benchmarks/fetch_debian_music.sh`` fetches the latter). Every track is analysed once
at full depth, through the same pipeline as the app, and its per-patch outputs are kept
in FILE (default /tmp/genre-tagger-full-outputs.pickle), so later runs only replay.

Replaying needs no inference: the adaptive depth's patches are full depth's patches at
the same positions, so each rule in the grid is run over the stored outputs exactly as
``Analyzer.deepen`` runs it. For each rule it prints the mean patches per track, the
share of tracks whose top genre (top-1) and top three genres as a set (top-3) match
full depth's, the share whose top three match fast depth's (6 fixed patches), and the
share whose top three match fast depth's or share more genres with full depth's.
Silent patches count as analysed, as they cost a decode.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Track:
    total: int
    loud: dict[int, int]  # patch index -> row in probabilities
    probabilities: dict[str, np.ndarray]  # model -> [loud patches, tags], in time order


def analyse_full(files: list[Path], known: dict[str, Track]) -> dict[str, Track]:
    from tagger.analysis.analyzer import Analyzer
    from tagger.analysis.pipeline import AnalysisPipeline
    from tagger.audio.excerpt import Depth

    todo = [f for f in files if str(f) not in known]
    if not todo:
        return known
    print(f"analysing {len(todo)} tracks at full depth (once; kept for later runs)", flush=True)
    analyzer = Analyzer(device="cpu")
    started = time.perf_counter()
    for result in AnalysisPipeline(analyzer, Depth.FULL).results(todo):
        if not result.ok:
            print(f"  skipped {result.path}: {result.error}")
            continue
        a = result.analysis
        patch_s = analyzer.front_end.patch_seconds
        loud = {int(round(s.start_s / patch_s)): row for row, s in enumerate(a.segments)}
        known[str(result.path)] = Track(a.total_patches, loud, dict(a.patch_probabilities))
    print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    return known


def top(scorer, probabilities: dict[str, np.ndarray], rows: list[int], k: int) -> list[str]:
    return [g.genre for g in scorer.genres({m: p[rows].mean(axis=0) for m, p in probabilities.items()})[:k]]


def replay(rule, scorer, track: Track) -> tuple[list[int], int]:
    """The loud rows the adaptive depth would analyse, and how many patches it decodes."""
    from tagger.audio.excerpt import Depth, patch_order, plan_patches

    order = patch_order(track.total, rule.first)
    planned = plan_patches(track.total, Depth.ADAPTIVE, 0, rule.first)
    while True:
        rows = [track.loud[i] for i in planned if i in track.loud]
        more = rule.more(scorer, order, planned, {m: p[rows] for m, p in track.probabilities.items()}, len(order))
        if not more:
            return rows, len(planned)
        planned = planned + more


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--outputs", type=Path, default=Path("/tmp/genre-tagger-full-outputs.pickle"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tagger.analysis.adaptive import DEFAULT_RULE, AdaptiveRule
    from tagger.analysis.models import ModelSet
    from tagger.analysis.scoring import Calibration, GenreScorer
    from tagger.audio.excerpt import Depth, plan_patches
    from tagger.files.scan import scan
    from tagger.genres.taxonomy import Taxonomy
    from tagger.resources import samples_dir

    folders = args.folders or [p for p in (REPO.parent / "shared" / "music", samples_dir(), REPO.parent / "extra-music")
                               if p.is_dir()]
    files = [e.path.resolve() for e in scan(folders) if e.problem is None]
    stored = pickle.loads(args.outputs.read_bytes()) if args.outputs.exists() else {}
    known = analyse_full(files, {path: Track(**fields) for path, fields in stored.items()})
    args.outputs.write_bytes(pickle.dumps({path: vars(track) for path, track in known.items()}))
    tracks = [known[str(f)] for f in files if str(f) in known and known[str(f)].loud]
    print(f"{len(tracks)} tracks with music from {', '.join(str(f) for f in folders)}")

    infos = ModelSet(device="cpu", threads=1).infos
    scorer = GenreScorer(Taxonomy.load(), Calibration.load(infos), infos)
    full = [top(scorer, t.probabilities, list(t.loud.values()), 3) for t in tracks]
    fast = [top(scorer, t.probabilities, [t.loud[i] for i in plan_patches(t.total, Depth.FAST, 6) if i in t.loud]
                or list(t.loud.values()), 3) for t in tracks]

    def agreement(a: list[list[str]], b: list[list[str]], k: int) -> float:
        return float(np.mean([set(x[:k]) == set(y[:k]) for x, y in zip(a, b)]))

    def as_fast_or_closer(a: list[list[str]]) -> float:
        """Tracks whose top three are fast depth's, or share more genres with full depth's."""
        return float(np.mean([set(x) == set(f) or len(set(x) & set(g)) > len(set(f) & set(g))
                              for x, f, g in zip(a, fast, full)]))

    print(f"\nfast depth, 6 patches: top-1 {agreement(fast, full, 1):.3f}, top-3 {agreement(fast, full, 3):.3f} "
          f"against full")
    print(f"\n{'first':>5} {'step':>4} {'most':>4} {'z':>4} {'top3 z':>6} {'patches':>7} {'decoded':>7} {'top-1':>6} "
          f"{'top-3':>6} {'top-3 fast':>10} {'fast or closer':>14}")
    grid = [AdaptiveRule(*values) for values in
            itertools.product((3, 4), (2,), (8, 12, 16, 32), (0.5, 1.0, 1.5, 2.0, 3.0), (0.0, 0.5))]
    for rule in sorted(set(grid) | {DEFAULT_RULE}, key=lambda r: (r.first, r.step, r.most, r.settled_z, r.top3_z)):
        outcomes = [replay(rule, scorer, t) for t in tracks]
        adaptive = [top(scorer, t.probabilities, rows or list(t.loud.values()), 3)
                    for t, (rows, _) in zip(tracks, outcomes)]
        marker = "  <- default" if rule == DEFAULT_RULE else ""
        print(f"{rule.first:>5} {rule.step:>4} {rule.most:>4} {rule.settled_z:>4g} {rule.top3_z:>6g} "
              f"{np.mean([len(r) for r, _ in outcomes]):>7.2f} {np.mean([d for _, d in outcomes]):>7.2f} "
              f"{agreement(adaptive, full, 1):>6.3f} {agreement(adaptive, full, 3):>6.3f} "
              f"{agreement(adaptive, fast, 3):>10.3f} {as_fast_or_closer(adaptive):>14.3f}{marker}", flush=True)


if __name__ == "__main__":
    main()

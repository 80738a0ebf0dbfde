"""Analysis speed, memory and fast-versus-full agreement over a folder of real music.

    python benchmarks/analysis_speed.py [FOLDER] [--sweep 1,2,3,4,6,8] [--threads N]

FOLDER defaults to ../shared/music. Each configuration runs in a fresh process, so
its peak resident memory is its own and the models' load time is excluded from the
throughput (it is reported separately). Top-3 agreement is the share of tracks whose
three best genres, as a set, are the same as full-track analysis gives.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The original musicnn tagger (TensorFlow, one model, whole track) on this 2-core
# machine: ../shared/MODEL.md.
MUSICNN_SECONDS_PER_TRACK = 7.4


def run_configuration(files: list[str], depth: str, fast_patches: int, threads: int | None, precision: str) -> dict:
    from tagger.analysis import Analyzer
    from tagger.excerpt import Depth
    from tagger.pipeline import AnalysisPipeline

    started = time.perf_counter()
    analyzer = Analyzer(device="cpu", threads=threads, precision=precision, fast_patches=fast_patches)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    top3, latencies, errors, patch_probabilities = {}, [], [], {}
    for result in AnalysisPipeline(analyzer, Depth(depth)).results([Path(f) for f in files]):
        if not result.ok:
            errors.append(f"{result.path}: {result.error}")
            continue
        top3[str(result.path)] = [g.genre for g in result.analysis.genres[:3]]
        latencies.append(result.analysis.timings.total_s)
        if depth == "full":
            patch_probabilities[str(result.path)] = result.analysis.patch_probabilities
    wall_s = time.perf_counter() - started
    return {
        "load_s": load_s,
        "wall_s": wall_s,
        "tracks": len(latencies),
        "top3": top3,
        "latencies": latencies,
        "errors": errors,
        "patch_probabilities": patch_probabilities,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_fresh_process(*args) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_configuration, args)


def agreement(a: dict[str, list[str]], b: dict[str, list[str]], k: int) -> float:
    common = [p for p in a if p in b]
    return sum(set(a[p][:k]) == set(b[p][:k]) for p in common) / len(common)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "music")
    parser.add_argument("--sweep", default="1,2,3,4,6,8", help="fast-depth patch counts to measure")
    parser.add_argument("--threads", type=int, help="worker threads (default: CPU cores)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tagger.analysis import DEFAULT_FAST_PATCHES
    from tagger.scan import scan

    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder} is not a folder (../shared/music is the default)")
    files = [str(e.path) for e in scan([args.folder]) if e.problem is None]
    print(f"{len(files)} tracks in {args.folder}; {multiprocessing.cpu_count()} CPUs; precision {args.precision}")

    full = in_fresh_process(files, "full", DEFAULT_FAST_PATCHES, args.threads, args.precision)
    report("full", full)
    print_agreement_ceiling(full["patch_probabilities"])
    sweep = sorted({int(n) for n in args.sweep.split(",")} | {DEFAULT_FAST_PATCHES})
    print(f"\n{'patches':>7} {'tracks/s':>9} {'top-3 agr':>9} {'top-1 agr':>9} {'median ms':>9} {'peak MB':>8}")
    default = None
    for n in sweep:
        fast = in_fresh_process(files, "fast", n, args.threads, args.precision)
        marker = "  <- default" if n == DEFAULT_FAST_PATCHES else ""
        print(
            f"{n:>7} {fast['tracks'] / fast['wall_s']:>9.2f} {agreement(fast['top3'], full['top3'], 3):>9.2f} "
            f"{agreement(fast['top3'], full['top3'], 1):>9.2f} {1000 * statistics.median(fast['latencies']):>9.0f} "
            f"{fast['peak_rss_mb']:>8.0f}{marker}"
        )
        if n == DEFAULT_FAST_PATCHES:
            default = fast
    print()
    report(f"fast ({DEFAULT_FAST_PATCHES} patches)", default)
    per_track = default["wall_s"] / default["tracks"]
    print(
        f"\nfast default: {per_track:.3f} s per track end to end, "
        f"{MUSICNN_SECONDS_PER_TRACK / per_track:.0f}x faster than the original musicnn tagger "
        f"({MUSICNN_SECONDS_PER_TRACK} s per track, one model)"
    )
    print(f"full depth: {MUSICNN_SECONDS_PER_TRACK / (full['wall_s'] / full['tracks']):.1f}x the original's speed, both models")


def print_agreement_ceiling(patch_probabilities: dict[str, dict]) -> None:
    """How well even half of a track's patches (every other one) agree with all of them.

    No fast depth that samples the track can do better than this on the same music.
    """
    from tagger.genres import Calibration, GenreScorer, Taxonomy
    from tagger.model import ModelSet

    infos = ModelSet(device="cpu", threads=1).infos
    scorer = GenreScorer(Taxonomy.load(), Calibration.load(infos), infos)

    def top(per_patch: dict, rows: slice) -> list[str]:
        track = {name: p[rows].mean(axis=0) for name, p in per_patch.items()}
        return [g.genre for g in scorer.genres(track)[:3]]

    every = {path: top(pp, slice(None)) for path, pp in patch_probabilities.items()}
    half = {path: top(pp, slice(0, None, 2)) for path, pp in patch_probabilities.items()}
    print(
        f"ceiling: every other patch (half the track) against all patches: top-3 agreement "
        f"{agreement(half, every, 3):.2f}, top-1 {agreement(half, every, 1):.2f}"
    )


def report(name: str, run: dict) -> None:
    lat = run["latencies"]
    print(
        f"{name}: {run['tracks']} tracks in {run['wall_s']:.1f} s = {run['tracks'] / run['wall_s']:.2f} tracks/s; "
        f"per-track latency median {1000 * statistics.median(lat):.0f} ms, p95 {1000 * percentile(lat, 0.95):.0f} ms; "
        f"peak RSS {run['peak_rss_mb']:.0f} MB; model load {run['load_s']:.2f} s"
    )
    for error in run["errors"]:
        print(f"  error: {error}")


if __name__ == "__main__":
    main()

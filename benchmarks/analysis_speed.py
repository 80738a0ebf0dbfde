"""Analysis speed, memory and agreement with full depth over a folder of real music.

    python benchmarks/analysis_speed.py [FOLDER] [--sweep 2,4,8] [--threads N] [--precision int8]

FOLDER defaults to ../shared/music. It runs full depth, the adaptive depth (the
default) and fast depth, then fast depth with each patch count in --sweep (none by
default). Each configuration runs in a fresh process with a cold cache, so its peak
resident memory is its own and the models' load time is excluded from the throughput
(it is reported separately). Top-k agreement is the share of tracks whose k best
genres, as a set, are the same as full depth gives; "vs fast" compares the top three
with fast depth's (6 patches), and "fast|closer" counts the tracks whose top three are
fast depth's or share more genres with full depth's. CPU s/track splits each track's work into decoding,
features and inference, summed over threads.
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
    from tagger.analysis.analyzer import Analyzer
    from tagger.analysis.pipeline import AnalysisPipeline
    from tagger.audio.excerpt import Depth

    started = time.perf_counter()
    analyzer = Analyzer(device="cpu", threads=threads, precision=precision, fast_patches=fast_patches)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    top3, latencies, errors, patches, stages = {}, [], [], [], []
    for result in AnalysisPipeline(analyzer, Depth(depth)).results([Path(f) for f in files]):
        if not result.ok:
            errors.append(f"{result.path}: {result.error}")
            continue
        a = result.analysis
        top3[str(result.path)] = [g.genre for g in a.genres[:3]]
        latencies.append(a.timings.total_s)
        patches.append(a.patches_analysed)
        stages.append((a.timings.decode_s, a.timings.features_s, a.timings.inference_s))
    wall_s = time.perf_counter() - started
    return {
        "load_s": load_s,
        "wall_s": wall_s,
        "tracks": len(latencies),
        "top3": top3,
        "latencies": latencies,
        "patches": patches,
        "stages": stages,
        "errors": errors,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_fresh_process(*args) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_configuration, args)


def agreement(a: dict[str, list[str]], b: dict[str, list[str]], k: int) -> float:
    common = [p for p in a if p in b]
    return sum(set(a[p][:k]) == set(b[p][:k]) for p in common) / len(common)


def as_fast_or_closer(a: dict[str, list[str]], fast: dict[str, list[str]], full: dict[str, list[str]]) -> float:
    """Tracks whose top three are fast depth's, or share more genres with full depth's."""
    common = [p for p in a if p in fast and p in full]
    return sum(set(a[p]) == set(fast[p]) or len(set(a[p]) & set(full[p])) > len(set(fast[p]) & set(full[p]))
               for p in common) / len(common)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "music")
    parser.add_argument("--sweep", default="", help="more fast-depth patch counts to measure, e.g. 2,4,8")
    parser.add_argument("--threads", type=int, help="worker threads (default: CPU cores)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tagger.analysis.analyzer import DEFAULT_FAST_PATCHES
    from tagger.files.scan import scan

    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder} is not a folder (../shared/music is the default)")
    files = [str(e.path) for e in scan([args.folder]) if e.problem is None]
    print(f"{len(files)} tracks in {args.folder}; {multiprocessing.cpu_count()} CPUs; precision {args.precision}")

    fast_name = f"fast {DEFAULT_FAST_PATCHES}"
    runs = {name: in_fresh_process(files, depth, DEFAULT_FAST_PATCHES, args.threads, args.precision)
            for name, depth in (("full", "full"), ("adaptive", "adaptive"), (fast_name, "fast"))}
    for n in sorted({int(n) for n in args.sweep.split(",") if n} - {DEFAULT_FAST_PATCHES}):
        runs[f"fast {n}"] = in_fresh_process(files, "fast", n, args.threads, args.precision)
    full, fast = runs["full"]["top3"], runs[fast_name]["top3"]
    print(f"\n{'depth':>9} {'tracks/s':>8} {'patches':>7} {'top-1':>5} {'top-3':>5} {'vs fast':>7} {'fast|closer':>11} "
          f"{'median/p95 ms':>13}  CPU s/track: decode + features + inference {'peak MB':>7}")
    for name, run in runs.items():
        decode, features, inference = (statistics.mean(s) for s in zip(*run["stages"]))
        print(
            f"{name:>9} {run['tracks'] / run['wall_s']:>8.2f} {statistics.mean(run['patches']):>7.2f} "
            f"{agreement(run['top3'], full, 1):>5.2f} {agreement(run['top3'], full, 3):>5.2f} "
            f"{agreement(run['top3'], fast, 3):>7.2f} {as_fast_or_closer(run['top3'], fast, full):>11.2f} "
            f"{1000 * statistics.median(run['latencies']):>6.0f}/{1000 * percentile(run['latencies'], 0.95):<6.0f}"
            f"  {decode:>25.3f} + {features:.3f} + {inference:.3f} {run['peak_rss_mb']:>10.0f}"
        )
    print()
    for name, run in runs.items():
        report(name, run)
    for name in ("adaptive", "full"):
        per_track = runs[name]["wall_s"] / runs[name]["tracks"]
        print(f"{name}: {per_track:.3f} s per track end to end, {MUSICNN_SECONDS_PER_TRACK / per_track:.1f}x the "
              f"speed of the original musicnn tagger ({MUSICNN_SECONDS_PER_TRACK} s per track, one model)")


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

"""How the CPU pipeline scales with cores: tracks/s and peak memory at each thread count.

    python benchmarks/thread_scaling.py [FOLDER] [--threads 1,2,4,8,16] [--depth adaptive] [--precision auto]

FOLDER defaults to ../shared/music. Each thread count runs in a fresh process with a cold
cache (analysis_speed.run_configuration), so its peak resident memory is its own and the
models' load time is left out of the throughput. Thread counts above the machine's CPUs
are run too, and marked: they show what oversubscription costs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "music")
    parser.add_argument("--threads", default="1,2,4,8,16", help="thread counts, comma-separated")
    parser.add_argument("--depth", default="adaptive", choices=["fast", "adaptive", "full"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "int8"])
    args = parser.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
    from analysis_speed import in_fresh_process

    from tagger.analysis.analyzer import DEFAULT_FAST_PATCHES
    from tagger.files.scan import scan

    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder} is not a folder (../shared/music is the default)")
    files = [str(e.path) for e in scan([args.folder]) if e.problem is None]
    cpus = multiprocessing.cpu_count()
    print(f"{len(files)} tracks in {args.folder}; {cpus} CPUs; {args.depth} depth; precision {args.precision}")
    print(f"{'threads':>7} {'tracks/s':>8} {'speed-up':>8} {'peak MB':>7}")
    first = None
    for threads in (int(n) for n in args.threads.split(",") if n):
        run = in_fresh_process(files, args.depth, DEFAULT_FAST_PATCHES, threads, args.precision)
        rate = run["tracks"] / run["wall_s"]
        first = first or rate
        note = "  (more threads than CPUs)" if threads > cpus else ""
        print(f"{threads:>7} {rate:>8.2f} {rate / first:>7.2f}x {run['peak_rss_mb']:>7.0f}{note}")
        for error in run["errors"]:
            print(f"        {error}")


if __name__ == "__main__":
    main()

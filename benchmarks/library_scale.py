"""Scale: scanning, first results, cached re-scans and memory on a large generated library.

    python benchmarks/library_scale.py [--files 10000] [--work DIR] [--music ../shared/music]

Builds a library of --files paths (artist/album/track folders) from the tracks in
--music, each also transcoded to FLAC, spread as hard links so 100,000 files fit on
disk. Hard links share their audio, so after the distinct tracks are analysed the
rest are recognised by the cache's content fingerprint; true cold throughput is
measured separately, without the cache, on the distinct tracks. Every phase runs
in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from library_tree import link_tree  # beside this script

REPO = Path(__file__).resolve().parent.parent


def build_library(music: Path, root: Path, count: int) -> list[Path]:
    import soundfile as sf

    from tagger.files.scan import scan

    seeds_dir = root / "seeds"
    seeds_dir.mkdir(parents=True, exist_ok=True)
    seeds = []
    for event in scan([music]):
        if event.problem:
            continue
        original = seeds_dir / f"{len(seeds):03d}{event.path.suffix}"
        shutil.copyfile(event.path, original)
        flac = seeds_dir / f"{len(seeds) + 1:03d}.flac"
        audio, rate = sf.read(event.path, dtype="int16")
        sf.write(flac, audio, rate, subtype="PCM_16")
        seeds += [original, flac]
    link_tree(seeds, root / "library", count, per_artist=1000)
    return seeds


def phase(name: str, **kwargs) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_phase, (name,), kwargs)


def run_phase(name: str, root: str, cache: str | None, paths: list[str] | None = None) -> dict:
    sys.path.insert(0, str(REPO))
    from tagger.analysis.analyzer import Analyzer, FileResult
    from tagger.analysis.cache import AnalysisCache
    from tagger.analysis.pipeline import AnalysisPipeline
    from tagger.files.scan import scan

    started = time.perf_counter()
    if name == "scan":
        files = sum(1 for e in scan([Path(root)]) if e.problem is None)
        return {"files": files, "seconds": time.perf_counter() - started, "rss_mb": peak_rss_mb()}
    analyzer = Analyzer(device="cpu", cache=AnalysisCache(Path(cache)) if cache else None)
    items = [Path(p) for p in paths] if paths else scan([Path(root)])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    first = None
    done = cached = failed = 0
    for result in AnalysisPipeline(analyzer).events(items):
        if not isinstance(result, FileResult):
            continue
        if first is None:
            first = time.perf_counter() - started
        done += 1
        failed += not result.ok
        cached += bool(result.ok and result.analysis.cached)
    return {"files": done, "cached": cached, "failed": failed, "first_result_s": first,
            "seconds": time.perf_counter() - started, "load_s": load_s, "rss_mb": peak_rss_mb()}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--music", type=Path, default=REPO.parent / "shared" / "music")
    parser.add_argument("--work", type=Path, help="where to build the library (default: a temporary folder)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    root = args.work or Path(tempfile.mkdtemp(prefix="genre-tagger-scale-"))
    started = time.perf_counter()
    seeds = build_library(args.music, root, args.files)
    print(f"library: {args.files} files from {len(seeds)} distinct tracks in {root} "
          f"(built in {time.perf_counter() - started:.0f} s); {multiprocessing.cpu_count()} CPUs")
    library = str(root / "library")
    cache = str(root / "cache.sqlite3")

    s = phase("scan", root=library, cache=None)
    print(f"scan: {s['files']} files in {s['seconds']:.2f} s = {s['files'] / s['seconds']:.0f} files/s; "
          f"peak RSS {s['rss_mb']:.0f} MB")
    c = phase("cold", root=library, cache=None, paths=[str(p) for p in seeds])
    print(f"cold analysis (no cache, {c['files']} distinct tracks): {c['files'] / c['seconds']:.2f} tracks/s; "
          f"peak RSS {c['rss_mb']:.0f} MB")
    f = phase("first pass", root=library, cache=cache)
    print(f"first pass with an empty cache: {f['files']} files in {f['seconds']:.1f} s, first result after "
          f"{f['first_result_s']:.2f} s, {f['cached']} recognised by content, {f['failed']} failed; "
          f"peak RSS {f['rss_mb']:.0f} MB")
    w = phase("warm", root=library, cache=cache)
    print(f"warm re-scan: {w['files']} files in {w['seconds']:.1f} s ({w['cached']} from the cache), first result "
          f"after {w['first_result_s']:.2f} s; peak RSS {w['rss_mb']:.0f} MB")
    if not args.work:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()

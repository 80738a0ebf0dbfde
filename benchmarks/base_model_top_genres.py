"""Which genre the base model puts first, over folders of real music (issue 10).

    python benchmarks/base_model_top_genres.py [FOLDER...] [--no-cache] [--tracks]
                                               [-- SUGGEST_OPTIONS...]

FOLDER defaults to ../shared/music and the demo samples. Each folder runs through the
default `genre-tagger suggest --json` path (fast depth, --precision auto: the int8
models on a CPU) with `--model base`, so that a model `learn` made from your own tags
does not stand in for the base model, in a fresh process, and the script prints, per folder, how many
tracks each genre leads, its share, and the largest share any one genre takes. A
folder of one kind of music that a single genre leads for most of its tracks is the
symptom of a miscalibrated tag: issue 10 found "Indian" leading game music.

Options after `--` go to `suggest` as they are (`-- --precision fp32`). Analyses are
cached as `suggest` caches them; a new calibration re-ranks from the cache, so a rerun
after a calibration change needs no inference. `--no-cache` analyses afresh.
`--tracks` also lists each track's top three genres.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FOLDERS = [REPO.parent / "shared" / "music", REPO / "resources" / "samples"]


def suggest(folder: Path, no_cache: bool, extra: list[str]) -> list[dict]:
    command = [sys.executable, "-c", "import sys; from tagger.cli import main; sys.exit(main())",
               "suggest", "--json", "--top", "3", "--model", "base", *(["--no-cache"] if no_cache else []),
               *extra, str(folder)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"suggest failed ({done.returncode}) on {folder}:\n{done.stderr}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    summary = done.stderr.strip().splitlines()
    if summary:
        print(f"  ({summary[-1]})")
    return records


def report(folder: Path, records: list[dict], tracks: bool) -> dict[str, int]:
    ok = [r for r in records if r["status"] == "ok" and r["genres"]]
    problems = [r for r in records if r["status"] != "ok" or not r["genres"]]
    top = collections.Counter(r["genres"][0]["genre"] for r in ok)
    print(f"{folder}: {len(ok)} tracks with genres, {len(problems)} without")
    for genre, count in top.most_common():
        confidences = [r["genres"][0]["confidence"] for r in ok if r["genres"][0]["genre"] == genre]
        print(f"  {genre:<22} {count:>4}  {count / len(ok):6.1%}  "
              f"(confidence {min(confidences):.3f}-{max(confidences):.3f})")
    if ok:
        genre, count = top.most_common(1)[0]
        print(f"  largest share: {genre} {count}/{len(ok)} = {count / len(ok):.1%}")
    if tracks:
        for r in sorted(ok, key=lambda r: r["path"]):
            best = ", ".join(f"{g['genre']} {g['confidence']:.2f}" for g in r["genres"])
            path = Path(r["path"])
            print(f"    {path.relative_to(folder) if path.is_relative_to(folder) else path}: {best}")
    for r in problems:
        print(f"    {r['path']}: {r.get('error') or r.get('message') or 'no genres'}")
    return dict(top)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[: argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--no-cache", action="store_true", help="analyse afresh instead of using the analysis cache")
    parser.add_argument("--tracks", action="store_true", help="list each track's top three genres")
    args = parser.parse_args(argv)
    folders = args.folders or [f for f in DEFAULT_FOLDERS if f.is_dir()]
    overall: collections.Counter[str] = collections.Counter()
    for folder in folders:
        records = suggest(folder.resolve(), args.no_cache, extra)
        overall.update(report(folder.resolve(), records, args.tracks))
    if len(folders) > 1 and overall:
        total = sum(overall.values())
        print(f"all folders: {total} tracks; " + ", ".join(f"{g} {n}" for g, n in overall.most_common()))


if __name__ == "__main__":
    main()

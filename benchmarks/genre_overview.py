"""Genre overview at scale: ``genre-tagger genres`` over a large library, reading tags only.

    python benchmarks/genre_overview.py [--files 100000] [--combinations N] [--library DIR]

Builds a library of --files paths in five formats (MP3 with ID3v2.3 and with ID3v2.4,
FLAC, Ogg Vorbis, M4A) whose genre tags are as messy as real ones: spelling variants,
joined values, ID3v1 codes, junk, aliases, several values per file and a long tail of
rare genres. Each (genre combination, format) pair is one small tagged template file
(0.2 s of audio, a few KB) and the library hard-links the templates, so 100,000 files
take about 100 MB of disk, half of it their folders. The library is kept in --library
(default: a folder in the temporary directory named after its size) and reused while
its recipe is unchanged.

Then, each in a fresh process so that its memory is its own: ``survey`` and
``GenreOverview.add`` over every file (files/s, RSS at 10%, 50% and 100% of the files,
peak RSS, that of survey's worker processes (one per CPU for a large library), CPU time
with theirs, ``groups()`` and ``storage()``, and whether any audio decoder was loaded); the
Python heap under tracemalloc over the first 10,000 files; and ``genre-tagger genres
LIBRARY`` end to end, its output to /dev/null.

Hard links share their data, which the page cache holds after the first read, and the
templates carry no cover art: the figures are the cost of opening files and parsing
tags, not of disk seeks or of reading large embedded pictures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from library_tree import link_tree  # beside this script

REPO = Path(__file__).resolve().parent.parent
RECIPE = 2  # bump when the library's recipe changes, so that a cached library is rebuilt
TRACED_FILES = 10_000
# What analysing audio would load; reading tags needs none of it.
DECODERS = ("av", "soundfile", "onnxruntime", "tagger.audio.decode", "tagger.analysis.analyzer")

# name, suffix, share of the library's files
FORMATS = [("MP3 ID3v2.3", ".mp3", 30), ("MP3 ID3v2.4", ".mp3", 25), ("FLAC", ".flac", 20),
           ("M4A AAC", ".m4a", 15), ("Ogg Vorbis", ".ogg", 10)]

# Genre values as taggers and people store them, roughly most common first: a value's
# weight falls with its rank, so "Rock" is everywhere and "(13)" is rare.
COMMON = [
    "Rock", "Pop", "Electronic", "Hip Hop", "Jazz", "Alternative", "rock", "Classical", "Other", "hip-hop",
    "Metal", "Soundtrack", "Indie Rock", "Folk", "Blues", "Rock/Pop", "(17)", "Country", "Soul", "Unknown",
    "Ambient", "HipHop", "Punk", "", "Reggae", "House", "Jazz; Blues", "Techno", "17", "Hip Hop ", "Dance",
    "R&B", "RnB", "DnB", "Drum & Bass", "Pop/Rock", "Funk", "ROCK", "Heavy Metal", "Singer-Songwriter",
    "Trip-Hop", "trip hop", "Electronica", "Rap", "Latin", "World", "(13)", "Genre", "New Age", "Drum and Bass",
    "drum'n'bass", "Easy Listening", "Synthpop", "Synth-Pop", "Post-Rock", "post rock", "Shoegaze", "Dubstep",
    "Trance", "Hard Rock", "Progressive Rock", "Prog Rock", "Psychedelic Rock", "Grunge", "Hardcore",
    "Death Metal", "Black Metal", "Blues Rock", "Bossa Nova", "Afrobeat", "Gospel", "Lo-Fi", "lofi", "Chillout",
    "Chill-out", "K-Pop", "Disco", "Electro", "Rock, Pop", "Dance/Electronic", "Electronic; Dance",
    "(17)Rock", "misc", "Misc", "http://www.jamendo.com", "Various", "Spoken Word", "Comedy", "Christmas",
    "rhythm and blues", "Rock & Roll", "rock'n'roll", "indie", "Indie", "alt-rock", "Alt Rock", "(32)", "8",
]
# Prefixes for invented genres, the kind only one corner of a library holds.
STYLES = ["Swedish", "Lo-Fi", "Dark", "Melodic", "Nordic", "Tropical", "Instrumental", "Experimental", "Acoustic",
          "Cosmic", "Balearic", "Brazilian", "Minimal", "Japanese", "Gothic", "Baroque", "Symphonic", "Acid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--combinations", type=int,
                        help="distinct genre combinations (default: one per 25 files, at least 100)")
    parser.add_argument("--library", type=Path, help="where to build, or find, the library (default: in the "
                                                      "temporary directory, named after its size)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))  # for the children, which start with this sys.path
    # The bundled vocabulary only: a person's genre aliases would change the counts.
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="genre-tagger-benchmark-config-")
    combinations = args.combinations or max(100, args.files // 25)
    root = args.library or Path(tempfile.gettempdir()) / f"genre-tagger-overview-{args.files}-{combinations}"
    recipe = {"recipe": RECIPE, "files": args.files, "combinations": combinations}
    started = time.perf_counter()
    # Built in a child too: a process inherits its parent's peak RSS, so the parent stays small.
    built = phase(ensure_library, root, recipe)
    templates = sorted((root / "templates").iterdir())
    size_mb = sum(p.stat().st_size for p in templates) / 2**20
    library = root / "library"
    # The load average says whether other work shared the CPUs with these figures.
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} at the start")
    print(f"library: {args.files} files in {library}: hard links to {len(templates)} tagged templates "
          f"({size_mb:.1f} MB) of {combinations} genre combinations in {len(FORMATS)} formats; "
          + (f"built in {time.perf_counter() - started:.1f} s" if built else "reused from an earlier run"))
    print("  (hard links share their data, which the page cache holds after a first read, and the templates carry no "
          "cover art: the figures are opening files and parsing tags, not disk reads)")
    report_read(phase(read_all, str(library), args.files))
    report_heap(phase(trace_heap, str(library), min(TRACED_FILES, args.files)))
    report_cli(run_cli(templates[0]), run_cli(library), args.files)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


def report_read(r: dict) -> None:
    print(f"\nsurvey + GenreOverview.add, in one process (its start: imports and vocabulary, {r['start_s']:.2f} s)")
    print(f"  {'files':>9} {'seconds':>9} {'files/s':>9} {'RSS MB':>8}   (files/s since the previous row)")
    previous = (0, 0.0)
    for files, seconds, rss in r["marks"]:
        rate = (files - previous[0]) / (seconds - previous[1])
        print(f"  {files:>9} {seconds:>9.1f} {rate:>9.0f} {rss:>8.1f}")
        previous = (files, seconds)
    files, seconds, rss = r["marks"][-1]
    print(f"  all: {r['files']} files read, {r['problems']} problems, {files / seconds:.0f} files/s "
          f"(CPU {r['cpu_s']:.1f} s of {seconds:.1f} s wall)")
    print(f"  RSS from the first row to the last: {rss - r['marks'][0][2]:+.1f} MB; peak RSS "
          f"{r['peak_rss_mb']:.1f} MB, and {r['workers_rss_mb']:.1f} MB in the largest of survey's worker processes")
    print(f"  groups(): {r['groups']} genres ({r['with_problems']} with variants or problems) in "
          f"{r['groups_s'] * 1000:.0f} ms; storage(): {r['storage']} in {r['storage_s'] * 1000:.0f} ms")
    print(f"  audio decoders loaded: {', '.join(r['decoders']) or 'none'} (of {', '.join(DECODERS)})")


def report_heap(t: dict) -> None:
    per_file = max(0.0, t["heap_end_kb"] - t["heap_first_kb"]) * 1024 / (t["files"] - t["first"])
    print(f"\nPython heap under tracemalloc, first {t['files']} files (vocabulary loaded before tracing)")
    print(f"  {t['heap_first_kb']:.0f} KB after {t['first']} files, {t['heap_end_kb']:.0f} KB after {t['files']}, "
          f"peak {t['heap_peak_kb']:.0f} KB: at most {per_file:.0f} bytes a file "
          f"(new genre combinations and folders grow it too)")


def report_cli(one: dict, c: dict, files: int) -> None:
    print(f"\ncommand line, in its own process: {' '.join(c['command'])} > /dev/null")
    print(f"  exit status {c['exit']}, {c['seconds']:.1f} s wall = {files / c['seconds']:.0f} files/s "
          f"(CPU {c['cpu_s']:.1f} s), max RSS {c['rss_mb']:.1f} MB")
    print(f"  start-up (the same command on one file): {one['seconds']:.2f} s, max RSS {one['rss_mb']:.1f} MB; "
          f"without it {files / (c['seconds'] - one['seconds']):.0f} files/s")


def ensure_library(root: Path, recipe: dict) -> bool:
    """The library that ``recipe`` describes under ``root``: reused if it is there, else built.
    Returns whether it was built. The manifest is written last, so a broken-off build is redone."""
    manifest = root / "manifest.json"
    try:
        if json.loads(manifest.read_text(encoding="utf-8")) == recipe:
            return False
    except (OSError, ValueError):
        pass
    manifest.unlink(missing_ok=True)
    for part in ("base", "templates", "library"):  # only what an earlier build made: DIR may hold more
        shutil.rmtree(root / part, ignore_errors=True)
    build_library(root, recipe["files"], recipe["combinations"])
    manifest.write_text(json.dumps(recipe), encoding="utf-8")
    return True


def build_library(root: Path, count: int, combinations: int) -> None:
    rng = random.Random(1)  # the same library on every machine
    combos = genre_combinations(combinations, rng)
    bases = base_files(root / "base")
    # A combination's share falls with its rank, as in a real library (Zipf).
    chosen = rng.choices(range(len(combos)), [1 / rank for rank in range(1, len(combos) + 1)], k=count)
    formats = rng.choices(range(len(FORMATS)), [share for _, _, share in FORMATS], k=count)
    templates: dict[tuple[int, int], Path] = {}
    (root / "templates").mkdir(parents=True)
    for pair in zip(chosen, formats):
        if pair not in templates:
            templates[pair] = tagged_template(root / "templates", bases, pair, combos[pair[0]])
    link_tree([templates[pair] for pair in zip(chosen, formats)], root / "library", count,
              per_artist=100, per_album=10)


def genre_combinations(count: int, rng: random.Random) -> list[tuple[list[str], bool]]:
    """``count`` distinct lists of genre values, each with whether a format that holds several
    values stores them joined in one; about a third hold a rare genre from the long tail."""
    listed = json.loads((REPO / "resources" / "vocabulary.json").read_text(encoding="utf-8"))["genres"]
    tail = [name for name, _ in listed] + [f"{style} {base}" for style in STYLES for base in COMMON[:40]
                                           if base.strip() and base[0].isalpha()]
    weights = [1 / rank for rank in range(1, len(COMMON) + 1)]
    seen: set[tuple[str, ...]] = set()
    combos = []
    while len(combos) < count:
        size = rng.choices([0, 1, 2, 3, 4], [2, 60, 25, 10, 3])[0]
        values = list(dict.fromkeys(rng.choices(COMMON, weights, k=size)))
        if values and rng.random() < 0.35:
            rare = rng.choice(tail)
            values[-1] = rare.lower() if rng.random() < 0.2 else rare
        if tuple(values) not in seen:
            seen.add(tuple(values))
            combos.append((values, rng.random() < 0.2))
    # Commonest first, as the files are shared out by rank: common single values, then
    # combinations of them, then the rare genres; a file without genres is not the commonest.
    rank = {value: i for i, value in enumerate(COMMON)}
    combos.sort(key=lambda combo: sum(rank.get(v, len(COMMON)) + 10 for v in combo[0]) or len(COMMON))
    return combos


def base_files(folder: Path) -> list[Path]:
    """One untagged file of 0.2 s of real encoded audio per format."""
    import av
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True)
    rate = 44100
    t = np.arange(int(0.2 * rate)) / rate
    signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    bases = []
    for i, (name, suffix, _) in enumerate(FORMATS):
        path = folder / f"{i}{suffix}"
        if name.startswith("M4A"):  # libsndfile writes no MP4
            with av.open(str(path), "w") as container:
                stream = container.add_stream("aac", rate=rate, layout="mono")
                for start in range(0, len(signal), 1024):
                    frame = av.AudioFrame.from_ndarray(signal[None, start:start + 1024], format="flt", layout="mono")
                    frame.sample_rate = rate
                    container.mux(stream.encode(frame))
                container.mux(stream.encode(None))
        else:
            kind = {".mp3": {"format": "MP3"}, ".ogg": {"format": "OGG", "subtype": "VORBIS"}}.get(suffix, {})
            sf.write(path, signal, rate, **kind)
        bases.append(path)
    return bases


def tagged_template(folder: Path, bases: list[Path], pair: tuple[int, int], combo: tuple[list[str], bool]) -> Path:
    """A copy of the format's base file with the combination's genres and a few display tags."""
    import mutagen
    from mutagen.id3 import ID3, TALB, TCON, TIT2, TPE1

    combo_index, format_index = pair
    values, joined = combo
    name, suffix, _ = FORMATS[format_index]
    path = folder / f"{combo_index:05d}-{format_index}{suffix}"
    shutil.copyfile(bases[format_index], path)
    title, artist, album = f"Track {combo_index}", f"Artist {combo_index % 97}", f"Album {combo_index % 389}"
    # ID3v2.3 has no separate values: several genres go in one, as the app writes them.
    if values and (joined or name == "MP3 ID3v2.3"):
        values = ["; ".join(values)]
    if suffix == ".mp3":
        tags = ID3()
        for frame in (TIT2(encoding=3, text=title), TPE1(encoding=3, text=artist), TALB(encoding=3, text=album)):
            tags.add(frame)
        if values:
            tags.add(TCON(encoding=3, text=values))
        tags.save(path, v2_version=3 if name == "MP3 ID3v2.3" else 4, v1=0)
        return path
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    if suffix == ".m4a":
        audio.tags.update({"\xa9nam": [title], "\xa9ART": [artist], "\xa9alb": [album]})
        if values:
            audio.tags["\xa9gen"] = values
    else:
        audio.tags.update({"TITLE": [title], "ARTIST": [artist], "ALBUM": [album]})
        if values:
            audio.tags["GENRE"] = values
    audio.save()
    return path


def phase(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a fresh process, so that its memory and imports are its own. Not a
    multiprocessing.Pool: its daemonic workers could not start survey's own worker processes."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def read_all(library: str, expected: int) -> dict:
    started = time.perf_counter()
    from tagger.library.cleanup import GenreOverview, survey

    overview = GenreOverview()
    start_s = time.perf_counter() - started
    marks = {max(1, expected // 10), max(1, expected // 2), expected}
    samples = []
    cpu = cpu_seconds()
    started = time.perf_counter()
    for seen, file in enumerate(survey([Path(library)]), 1):
        overview.add(file)
        if seen in marks:
            samples.append((seen, time.perf_counter() - started, rss_mb()))
    cpu = cpu_seconds() - cpu
    started = time.perf_counter()
    groups = overview.groups()
    groups_s = time.perf_counter() - started
    started = time.perf_counter()
    storage = overview.storage()
    storage_s = time.perf_counter() - started
    return {"start_s": start_s, "marks": samples, "files": overview.files, "problems": overview.problems,
            "cpu_s": cpu, "peak_rss_mb": peak_rss_mb(), "groups": len(groups), "workers_rss_mb": workers_rss_mb(),
            "with_problems": sum(g.has_problem for g in groups), "groups_s": groups_s,
            "storage": ", ".join(f"{n} {style.value}" for style, n in storage.most_common()), "storage_s": storage_s,
            "decoders": [name for name in DECODERS if name in sys.modules]}


def trace_heap(library: str, count: int) -> dict:
    import tracemalloc

    from tagger.library.cleanup import GenreOverview, survey

    overview = GenreOverview()  # the vocabulary is loaded once, whatever the library's size
    first = max(1, count // 10)
    tracemalloc.start()
    for seen, file in enumerate(survey([Path(library)]), 1):
        overview.add(file)
        if seen == first:
            heap_first = tracemalloc.get_traced_memory()[0]
        if seen == count:
            break
    heap_end, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"files": seen, "first": first, "heap_first_kb": heap_first / 1024, "heap_end_kb": heap_end / 1024,
            "heap_peak_kb": heap_peak / 1024}


def run_cli(path: Path) -> dict:
    """``genre-tagger genres PATH`` with its output to /dev/null; wait4 gives that
    process's own peak RSS and CPU time, with no external tool."""
    program = Path(sys.executable).with_name("genre-tagger")  # the one installed beside this Python
    command = [str(program), "genres", str(path)]
    started = time.perf_counter()
    pid = os.posix_spawn(program, command, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    return {"command": ["genre-tagger", "genres", str(path)], "exit": os.waitstatus_to_exitcode(status),
            "seconds": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024}


def rss_mb() -> float:
    """The resident memory now, in MB: Linux's /proc, else NaN."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def workers_rss_mb() -> float:
    """The peak RSS of the largest child this process has waited for: survey's workers."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU time and that of the children it waited for (survey's workers)."""
    usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()

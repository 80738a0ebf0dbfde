"""What a safe write costs: files written per second, and the parts that guard them.

    python benchmarks/write_speed.py [--files 200] [--tree PATH]

Writes a genre into --files generated tracks (FLAC, MP3 with ID3v2.4, Ogg Vorbis; 4 s of
audio each) through ``GenreWriter``, as ``genre-tagger set`` does, in a fresh journal,
and prints files/s and the mean time per file. Then the guards on their own, each
repeated: the folder lock taken and released, the /proc scan for other writers of a file
(with the number of processes and descriptors it looked at), and one journal transaction
in the journal's mode (rollback, TRUNCATE) and in WAL for comparison, both with
synchronous=FULL.

--tree runs another source tree's writer (an older commit's checkout, say) on the same
files, for a before-and-after figure on one machine: the guards it lacks are skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mutagen
import numpy as np
import soundfile as sf

KINDS = ((".flac", {}), (".mp3", {"format": "MP3"}), (".ogg", {"format": "OGG", "subtype": "VORBIS"}))


def make_tracks(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(1)
    audio = (0.1 * rng.standard_normal((4 * 44100, 2))).astype(np.float32)
    paths = []
    for i in range(count):
        suffix, options = KINDS[i % len(KINDS)]
        path = folder / f"{i:04d}{suffix}"
        sf.write(path, audio, 44100, **options)
        tagged = mutagen.File(path)
        if tagged.tags is None:
            tagged.add_tags()
        if suffix == ".mp3":
            from mutagen.id3 import TCON, TIT2

            tagged.tags.add(TCON(encoding=3, text=["Rock"]))
            tagged.tags.add(TIT2(encoding=3, text=[f"track {i}"]))
        else:
            tagged.tags["GENRE"] = ["Rock"]
            tagged.tags["TITLE"] = [f"track {i}"]
        tagged.save()
        paths.append(path)
    return paths


def timed(action, repeats: int) -> float:
    """The median of ``repeats`` runs of ``action``, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def journal_transaction_ms(folder: Path, mode: str, repeats: int = 200) -> float:
    db = sqlite3.connect(folder / f"{mode}.sqlite3", isolation_level=None)
    db.execute(f"PRAGMA journal_mode={mode}")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT)")

    def transaction() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (value) VALUES (?)", ("x" * 200,))
        db.execute("COMMIT")

    try:
        return timed(transaction, repeats)
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the source tree whose writer runs (default: this one)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    import tagger
    from tagger.writing.journal import Journal
    from tagger.writing.writer import GenreWriter, WriteRequest

    print(f"tree {args.tree.resolve()} (genre-tagger {tagger.__version__}), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="genre-tagger-write-speed-") as scratch:
        scratch_path = Path(scratch)
        library = scratch_path / "library"
        library.mkdir()
        paths = make_tracks(library, args.files)
        journal = Journal(scratch_path / "journal.sqlite3")
        writer = GenreWriter(journal)
        started = time.perf_counter()
        results = list(writer.write([WriteRequest(p, ["Jazz", "Blues"]) for p in paths], "benchmark"))
        seconds = time.perf_counter() - started
        journal.close()
        written = sum(r.status == "written" for r in results)
        print(f"write: {written} of {len(paths)} files written in {seconds:.2f} s: "
              f"{len(paths) / seconds:.1f} files/s, {seconds / len(paths) * 1000:.1f} ms a file")

        from tagger.files.locks import file_lock, processes_writing

        if os.path.isdir("/proc"):  # Linux: the scan for other writers reads /proc
            processes = [p for p in os.listdir("/proc") if p.isdigit()]
            descriptors = 0
            for pid in processes:
                with contextlib.suppress(OSError):  # it ended, or is not ours to read
                    descriptors += len(os.listdir(f"/proc/{pid}/fd"))
            scan = timed(lambda: processes_writing(paths[0]), 50)
            print(f"/proc scan for other writers: {scan:.2f} ms a file "
                  f"({len(processes)} processes, {descriptors} descriptors visible)")

        def lock_once() -> None:
            with file_lock(paths[0]):
                pass

        print(f"file_lock taken and released: {timed(lock_once, 500) * 1000:.1f} µs")
        for mode in ("truncate", "wal"):
            print(f"one journal transaction, journal_mode={mode}, synchronous=FULL: "
                  f"{journal_transaction_ms(scratch_path, mode):.2f} ms")


if __name__ == "__main__":
    main()

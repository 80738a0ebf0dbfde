"""Killing a writer at random moments leaves every file old or new, and the journal usable."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import mutagen
import numpy as np
import soundfile as sf

from tagger.journal import OPEN_STATES, Journal
from tagger.tags import read_tags
from tagger.writer import GenreWriter

WRITER_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tagger.writer import GenreWriter, WriteRequest
    paths = [Path(p) for p in sys.argv[2:]]
    writer = GenreWriter()
    print("ready", flush=True)
    for _ in writer.write([WriteRequest(p, [sys.argv[1], "Crash Test"]) for p in paths], "crash test"):
        pass
""")


def make_library(folder, count):
    rng = np.random.default_rng(7)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.{'flac' if i % 2 else 'mp3'}"
        sf.write(path, 0.1 * rng.standard_normal((4410, 1)).astype(np.float32), 44100)
        audio = mutagen.File(path)
        if audio.tags is None:
            audio.add_tags()
        if path.suffix == ".flac":
            audio.tags["GENRE"] = ["Original"]
            audio.tags["TITLE"] = [f"track {i}"]
        else:
            from mutagen.id3 import TCON, TIT2

            audio.tags.add(TCON(encoding=3, text=["Original"]))
            audio.tags.add(TIT2(encoding=3, text=[f"track {i}"]))
        audio.save()
        paths.append(path)
    return paths


def test_sigkill_during_200_writes_leaves_each_file_old_or_new(tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    paths = make_library(folder, 200)
    rng = random.Random(2026)
    env = dict(os.environ)  # the test's private XDG_DATA_HOME: the child shares its journal

    def start(genre):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, genre, *map(str, paths)],
            stdout=subprocess.PIPE, env=env, text=True,
        )
        assert child.stdout.readline().strip() == "ready"
        return child

    # An uninterrupted batch tells how long one takes on this machine.
    started = time.perf_counter()
    assert start("Round 0").wait() == 0
    batch_seconds = time.perf_counter() - started
    expected = {p: ["Round 0", "Crash Test"] for p in paths}
    mid_batch_kills = 0
    for round_number in range(1, 7):
        genre = f"Round {round_number}"
        child = start(genre)
        time.sleep(rng.uniform(0.1, 0.9) * batch_seconds)
        child.send_signal(signal.SIGKILL)
        child.wait()
        written = 0
        for path in paths:
            tags = read_tags(path)  # parses: never a half-written file
            assert tags.title == f"track {paths.index(path)}"
            new = [genre, "Crash Test"]
            assert tags.genres in (expected[path], new), (path, tags.genres)
            if tags.genres == new:
                expected[path] = new
                written += 1
        mid_batch_kills += 0 < written < len(paths)
    assert mid_batch_kills >= 3, "the writer was rarely killed mid-batch; the test proved little"

    # The journal knows what the interrupted batch left undone; finishing it completes every file.
    journal = Journal()
    last = journal.last_batch()
    if any(e.state in OPEN_STATES for e in journal.entries(last)):
        assert all(r.status == "written" for r in GenreWriter(journal).finish(last))
    assert all(read_tags(p).genres == ["Round 6", "Crash Test"] for p in paths)
    # Interrupted temporary copies are never mistaken for music.
    from tagger.scan import scan

    assert sorted(e.path for e in scan([folder]) if e.problem is None) == sorted(paths)

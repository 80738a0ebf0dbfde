"""Killing a writer at random moments leaves every file old or new, and the journal usable."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from support.library import make_library

from tagger.tags import read_tags
from tagger.writing.journal import OPEN_STATES, BatchState, Journal
from tagger.writing.writer import GenreWriter

WRITER_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tagger.writing.journal import Journal
    from tagger.writing.writer import GenreWriter, WriteRequest
    paths = [Path(p) for p in sys.argv[2:]]
    writer = GenreWriter(Journal())
    print("ready", flush=True)
    for _ in writer.write([WriteRequest(p, [sys.argv[1], "Crash Test"]) for p in paths], "crash test"):
        pass
""")

# set, undo or finish, killed at a random moment of the run.
COMMAND_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tagger.writing.journal import Journal
    from tagger.writing.writer import GenreWriter, WriteRequest
    writer = GenreWriter(Journal())
    command, paths = sys.argv[1], [Path(p) for p in sys.argv[3:]]
    print("ready", flush=True)
    try:
        if command == "set":
            results = writer.write([WriteRequest(p, [sys.argv[2], "Crash Test"]) for p in paths], "crash test")
        elif command == "undo":
            results = writer.undo()
        else:
            results = writer.finish()
        for _ in results:
            pass
    except LookupError:
        pass  # nothing to undo or finish at this point
""")


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
    with start("Round 0") as child:
        assert child.wait() == 0
    batch_seconds = time.perf_counter() - started
    expected = {p: ["Round 0", "Crash Test"] for p in paths}
    mid_batch_kills = 0
    for round_number in range(1, 7):
        genre = f"Round {round_number}"
        with start(genre) as child:
            time.sleep(rng.uniform(0.1, 0.9) * batch_seconds)
            child.send_signal(signal.SIGKILL)
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
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".genre-tagger-")], "a temporary copy survived"
    # Interrupted temporary copies are never mistaken for music.
    from tagger.files.scan import scan

    assert sorted(e.path for e in scan([folder]) if e.problem is None) == sorted(paths)


def recover(journal):
    """What a person does after a crash: finish the unfinished batch."""
    for summary in journal.batches():
        if summary.state is not BatchState.DONE:
            list(GenreWriter(journal).finish(summary.id))


@pytest.mark.slow
def test_kills_of_set_undo_and_finish_leave_every_file_whole(tmp_path, request):
    """The long run: --kills N (default 1000) SIGKILLs at random moments of set, undo and finish."""
    kills = request.config.getoption("--kills")
    folder = tmp_path / "library"
    folder.mkdir()
    paths = make_library(folder, 12)
    titles = {p: f"track {i}" for i, p in enumerate(paths)}
    rng = random.Random(9)
    env = dict(os.environ)
    journal = Journal()

    def run(command, genre="", kill_after=None):
        with subprocess.Popen([sys.executable, "-c", COMMAND_SCRIPT, command, genre, *map(str, paths)],
                              stdout=subprocess.PIPE, env=env, text=True) as child:
            assert child.stdout.readline().strip() == "ready"
            started = time.perf_counter()
            if kill_after is None:
                assert child.wait() == 0
            else:
                time.sleep(kill_after)
                child.send_signal(signal.SIGKILL)
        return time.perf_counter() - started

    batch_seconds = run("set", "Start")  # from "ready" to the end: the span a kill should hit
    interrupted = 0
    for number in range(kills):
        command = rng.choice(["set", "set", "undo", "finish"])
        newest = journal.last_batch()
        run(command, f"Kill {number}", rng.uniform(0.0, 1.1) * batch_seconds)
        latest = journal.batches()[-1:]
        interrupted += bool(latest and latest[0].id != newest and latest[0].state is not BatchState.DONE)
        for path in paths:
            tags = read_tags(path)  # parses: never a half-written file
            assert tags.title == titles[path]
            assert len(tags.genres) <= 2 and (not tags.genres or tags.genres[-1] in ("Crash Test", "Original")), \
                (path, tags.genres)
        if number % 10 == 9:
            recover(journal)
            assert not [p.name for p in folder.iterdir() if p.name.startswith(".genre-tagger-")], \
                "a temporary copy survived recovery"
    recover(journal)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".genre-tagger-")]
    assert journal.temporaries() == []
    print(f"\n{kills} kills, {interrupted} of them in the middle of a batch; every file whole after each")
    assert interrupted >= kills // 10, \
        f"only {interrupted} of {kills} kills interrupted a batch: the test proved little"

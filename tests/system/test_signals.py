"""SIGTERM and SIGINT stop a write batch cleanly: the file in flight is finished and recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.library import make_library

from tagger.tags import read_tags
from tagger.writing.journal import Journal


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_batch_leaves_no_copy_and_no_write_unrecorded(tmp_path, stop):
    folder = tmp_path / "library"
    folder.mkdir()
    paths = make_library(folder, 40)
    child = subprocess.Popen([sys.executable, "-m", "tagger.cli", "set", "--json", "--genre", "Stopped",
                              *map(str, paths)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ))
    first = json.loads(child.stdout.readline())  # a write has happened: the batch is under way
    assert first["status"] == "written"
    child.send_signal(stop)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 128 + stop, err
    assert f"stopped by {stop.name}" in err and "Traceback" not in err
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".genre-tagger-")], "a temporary copy was left"
    reported = {Path(first["path"]): first} | {Path(r["path"]): r for r in map(json.loads, out.splitlines())}
    assert len(reported) < len(paths), "the batch ended before the signal; the test proved nothing"
    journal = Journal()
    (batch,) = journal.batches()
    assert batch.state != "done"
    entries = journal.entries(batch.id)
    # Nothing was left half-recorded: every entry is written, or not started at all.
    assert {e.state for e in entries} <= {"written", "planned"}, {e.state for e in entries}
    for entry in entries:
        assert read_tags(entry.path).genres == (["Stopped"] if entry.state == "written" else ["Original"])
    journal.close()
    finished = subprocess.run([sys.executable, "-m", "tagger.cli", "finish"], capture_output=True, text=True,
                              env=dict(os.environ), timeout=240)
    assert finished.returncode == 0, finished.stderr
    assert all(read_tags(p).genres == ["Stopped"] for p in paths)

"""Two launches of the app at once, both real processes in one profile: the second hands its
folder to the first and exits; the first's saved review stays the first's; the command line
runs beside the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket
from support.paths import REPO
from support.window import tagged_audio

from tagger.review.saved import OwnedElsewhere, SavedReview
from ui.single_instance import server_name

START_S = 120.0  # the first window, on a busy machine
SECOND_LAUNCH_S = 5.0  # a Python start and one answer; about half a second when the machine is idle
KEPT_S = 60.0  # a scan, then the autosave (ui/restored.py's AUTOSAVE_MS)


def genre_tagger(*args: str) -> subprocess.Popen:
    """``genre-tagger ARGS`` from this source tree, offscreen, in this test's profile (its XDG folders)."""
    return subprocess.Popen([sys.executable, "-m", "ui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))


def listening(name: str) -> bool:
    socket = QLocalSocket()
    socket.connectToServer(name)
    try:
        return socket.waitForConnected(200)
    finally:
        socket.abort()


def wait_for(condition, seconds: float, what: str, first: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert first.poll() is None, f"the first window exited: {first.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.2)


def kept_paths(saved: SavedReview) -> set[Path]:
    try:
        return {Path(item["path"]) for item in json.loads(saved.path.read_bytes())["items"]}
    except (OSError, ValueError):  # not saved yet
        return set()


@pytest.fixture
def first_window():
    first = genre_tagger("gui")
    yield first
    first.kill()  # the window has no one to answer its questions at quit
    first.communicate(timeout=60)


def test_a_second_launch_hands_its_folder_to_the_first_and_cannot_touch_its_review(qapp, first_window, tmp_path):
    first = first_window
    wait_for(lambda: listening(server_name()), START_S, "the first window listens", first)
    album = tmp_path / "album"
    songs = {tagged_audio(album / f"{n}.flac", genre="Pop", seconds=2.0) for n in range(2)}

    started = time.monotonic()
    second = subprocess.run([sys.executable, "-m", "ui", "gui", str(album)], capture_output=True, text=True,
                            cwd=REPO, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=60)
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - started < SECOND_LAUNCH_S
    assert "Genre Tagger is open already" in second.stderr
    saved = SavedReview()
    # The first window scanned the folder, and keeps the review it made of it.
    wait_for(lambda: kept_paths(saved) == songs, KEPT_S, "the first window's review lists the folder", first)

    kept = saved.path.read_bytes()
    assert not saved.claim()  # this process is a second instance that never handed over
    with pytest.raises(OwnedElsewhere):
        saved.discard()
    assert saved.path.read_bytes() == kept

    # The command line runs beside the window, through the same program.
    listed = subprocess.run([sys.executable, "-m", "ui", "genres", str(album)], capture_output=True, text=True,
                            cwd=REPO, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "Pop" in listed.stdout and "open already" not in listed.stderr
    assert first.poll() is None


def test_two_launches_at_the_same_moment_make_one_window(qapp):
    launches = [genre_tagger("gui"), genre_tagger("gui")]
    try:
        deadline = time.monotonic() + START_S
        while all(launch.poll() is None for launch in launches):
            assert time.monotonic() < deadline, "neither launch handed over to the other"
            time.sleep(0.2)
        (handed,) = [launch for launch in launches if launch.poll() is not None]
        (window,) = [launch for launch in launches if launch is not handed]
        _, err = handed.communicate(timeout=60)
        assert handed.returncode == 0 and "Genre Tagger is open already" in err, err
        assert listening(server_name()) and window.poll() is None  # the other is the window
    finally:
        for launch in launches:
            launch.kill()
            launch.communicate(timeout=60)

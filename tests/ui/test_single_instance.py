"""One window per person and profile: a second launch, a real process, hands its files and
folders to the window running here and exits; a socket left by a crashed instance is replaced."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket
from support.paths import REPO
from support.window import WAIT_MS, shown_window

from tagger.review.saved import SavedReview
from ui.app import take_launch
from ui.single_instance import HandOver, InstanceServer, Launch, find_window, server_name

SECOND_LAUNCH_S = 5.0  # the window answers at once; this is a Python start on a busy machine


def launch_app(*args: str) -> subprocess.Popen:
    """``genre-tagger ARGS`` from this source tree, offscreen, in this test's profile (its XDG folders)."""
    return subprocess.Popen([sys.executable, "-m", "ui", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))


@pytest.fixture
def serving_window(qtbot, analyzer):
    """The running window, listening as ui/app.py has it listen."""
    window = shown_window(qtbot, analyzer)
    assert window.kept.saved.owned
    server = InstanceServer(server_name(), window)
    assert server.listen(), server.error()
    server.launched.connect(lambda launch: take_launch(window, launch))
    yield window
    window.close()


def ended(qtbot, child: subprocess.Popen) -> tuple[int, str, float]:
    """Wait for ``child`` while this window's event loop runs (it must answer); (status, stderr, seconds)."""
    started = time.monotonic()
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=WAIT_MS)
    _, err = child.communicate(timeout=60)
    return child.returncode, err, time.monotonic() - started


def test_a_launch_round_trips_with_its_paths_absolute_and_byte_exact(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    odd = Path(os.fsdecode(b"caf\xe9 \xff.ogg"))  # not UTF-8
    launch = Launch.of([Path("one.ogg"), tmp_path / "folder", odd])
    assert launch.paths[0] == tmp_path / "one.ogg" and launch.paths[1] == tmp_path / "folder"
    data = launch.to_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    back = Launch.from_bytes(data[:-1])
    assert back == launch and os.fsencode(back.paths[2]) == os.fsencode(tmp_path) + b"/caf\xe9 \xff.ogg"
    assert Launch.from_bytes(Launch.of([], demo=True).to_bytes()).demo
    for junk in (b"", b"{", b'{"paths": "x", "demo": false}', b'{"paths": [1], "demo": false}', b"[]"):
        with pytest.raises(ValueError, match="not a launch request"):
            Launch.from_bytes(junk)


def test_the_socket_is_the_users_and_the_profiles(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    one, other = server_name(tmp_path / "one"), server_name(tmp_path / "other")
    assert one != other and one == server_name(tmp_path / "one")
    assert one.startswith(f"genre-tagger-{os.getuid()}-")  # a bare name: in Qt's temporary folder
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "one"))
    assert server_name() == server_name(tmp_path / "one" / "genre-tagger")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # the user's own folder, where there is one
    assert server_name(tmp_path / "one") == str(tmp_path / one)


def test_a_second_launch_of_one_file_opens_its_card_in_the_running_window(qtbot, serving_window, make_audio):
    song = make_audio("one.flac", seconds=3.0)
    code, err, seconds = ended(qtbot, launch_app("gui", str(song)))
    assert code == 0, err
    assert "Genre Tagger is open already; its window opens what you named" in err
    assert seconds < SECOND_LAUNCH_S
    qtbot.waitUntil(lambda: song in serving_window.cards, timeout=WAIT_MS)
    assert serving_window.cards[song].isVisible()


def test_a_second_launch_of_a_folder_adds_it_and_a_bare_launch_only_raises(qtbot, serving_window, make_audio,
                                                                            tmp_path):
    songs = [make_audio(f"album/{n}.flac", seconds=2.0) for n in range(2)]
    child = subprocess.Popen([sys.executable, "-m", "ui", "gui", "album"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path,  # relative to its own folder
                             env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO)))
    code, err, _ = ended(qtbot, child)
    assert code == 0, err
    qtbot.waitUntil(lambda: {i.path for i in serving_window.session.items} == set(songs), timeout=WAIT_MS)
    assert serving_window.cards == {}
    code, err, _ = ended(qtbot, launch_app())
    assert code == 0 and "its window comes forward" in err
    assert len(serving_window.session.items) == 2


STALE = """
import sys
from PySide6.QtCore import QCoreApplication
from PySide6.QtNetwork import QLocalServer
app = QCoreApplication([])
server = QLocalServer()
print("listening" if server.listen(sys.argv[1]) else server.errorString(), flush=True)
sys.stdin.readline()
"""


def test_a_socket_a_crashed_instance_left_is_replaced(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # where the socket file can be seen
    name = server_name()
    crashed = subprocess.Popen([sys.executable, "-c", STALE, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, cwd=REPO)
    assert crashed.stdout.readline().strip() == "listening"
    crashed.kill()
    crashed.communicate(timeout=60)
    assert Path(name).exists()  # nothing removed it
    saved = SavedReview()
    started = time.monotonic()
    assert find_window(name, Launch.of([]), saved) is HandOver.NO_WINDOW
    assert saved.owned and time.monotonic() - started < 2.0
    server = InstanceServer(name)
    assert server.listen(), server.error()
    assert Path(name).stat().st_mode & 0o777 == 0o600  # no other user connects
    socket = QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(1000)  # the next launch reaches this process
    socket.abort()
    server.server.close()
    saved.release()


def test_a_window_that_does_not_answer_is_reported_not_replaced(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    name = server_name()
    frozen = subprocess.Popen([sys.executable, "-c", STALE, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=REPO)  # listens, but its event loop never runs
    try:
        assert frozen.stdout.readline().strip() == "listening"
        saved = SavedReview()
        assert find_window(name, Launch.of([tmp_path]), saved) is HandOver.NO_ANSWER
        assert not saved.owned  # a launch that found a window never owns the review
    finally:
        frozen.communicate("", timeout=60)

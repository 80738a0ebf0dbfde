"""Shared fixtures: the models (loaded once), generated audio, and ../shared/."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tagger.genres.vocabulary import forget_vocabulary

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_MUSIC = SHARED / "music"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "fuzzing (tests/test_fuzz.py)")
    group.addoption("--fuzz-count", type=int, default=300, metavar="N",
                    help="mutants in the long fuzz run, selected with -m fuzz (default 300)")
    group.addoption("--fuzz-seed", type=int, default=1, metavar="SEED",
                    help="the first mutant's seed in the long fuzz run; the others follow on (default 1)")
    parser.getgroup("kills", "crash safety (tests/test_crash_safety.py)").addoption(
        "--kills", type=int, default=1000, metavar="N",
        help="SIGKILLs of set, undo and finish in the long kill run, selected with -m slow (default 1000)")


def pytest_collection_modifyitems(config, items):
    missing = pytest.mark.skip(reason=f"needs {SHARED} (real music and tag fixtures), which is absent here")
    for item in items:
        if "shared" in item.keywords and not SHARED_MUSIC.is_dir():
            item.add_marker(missing)


@pytest.fixture(scope="session")
def analyzer():
    from tagger.analysis.analyzer import Analyzer

    return Analyzer(device="cpu")


def tone(seconds: float, rate: int = 44100, channels: int = 2, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    """A chord with a little noise: enough spectral content to look like music to the front end."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    mono = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 1.25, 1.5, 2))
    mono = level * mono / 2.1 + 0.01 * rng.standard_normal(len(t))
    # A slow tremolo so successive patches differ.
    mono *= 0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


@pytest.fixture
def make_audio(tmp_path):
    """Write generated audio with soundfile: make_audio("a.flac", seconds=5, ...)."""

    def make(name: str, seconds: float = 8.0, rate: int = 44100, channels: int = 2, subtype: str | None = None,
             data: np.ndarray | None = None, **tone_args) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        audio = tone(seconds, rate, channels, **tone_args) if data is None else data
        sf.write(path, audio, rate, subtype=subtype)
        return path

    return make


@pytest.fixture
def shared_tmp():
    """A temporary folder that an unprivileged user can enter too."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="genre-tagger-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_unprivileged(fn):
    """Call ``fn`` where permission bits apply: directly for a normal user, and in a
    forked child that drops to the 'nobody' user when the tests run as root (as CI
    does), since root reads files whatever their mode."""
    import pickle

    if os.geteuid() != 0:
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            payload = pickle.dumps(("ok", fn()))
        except BaseException as e:  # reported to the parent, which fails the test
            payload = pickle.dumps(("error", repr(e)))
        os.write(write_end, payload)
        os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    status, value = pickle.loads(b"".join(chunks))
    if status == "error":
        raise AssertionError(f"unprivileged call failed: {value}")
    return value


def unprivileged_refusal(call, error: type[Exception]) -> str | None:
    """The message of the ``error`` that ``call()`` raises where permission bits apply
    (see run_unprivileged), or None if it raises nothing."""

    def attempt():
        try:
            call()
        except error as e:
            return str(e)
        return None

    return run_unprivileged(attempt)


@pytest.fixture(autouse=True)
def private_user_folders(tmp_path_factory, monkeypatch):
    """Keep the undo journal and other user data of every test out of the real home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    # The vocabulary holds the person's aliases from the config folder: each test loads its own.
    forget_vocabulary()
    yield
    forget_vocabulary()


@pytest.fixture(autouse=True)
def no_unanswered_message_boxes(monkeypatch):
    """A message box no test answers would wait forever offscreen: fail at once instead.
    Tests that mean to show one replace the window's question (``confirm``,
    ``ask_keep_review``) or the box's ``exec`` on its instance."""
    try:
        from PySide6.QtWidgets import QMessageBox
    except ImportError:
        return

    def unanswered(*args, **kwargs):
        raise AssertionError(f"a message box no test answers: {args[1:3] if len(args) > 2 else args}")

    monkeypatch.setattr(QMessageBox, "exec", unanswered)
    monkeypatch.setattr(QMessageBox, "question", unanswered)
    monkeypatch.setattr(QMessageBox, "information", unanswered)
    monkeypatch.setattr(QMessageBox, "warning", unanswered)


@pytest.fixture
def journal(tmp_path):
    """An undo journal of the test's own, closed after it."""
    from tagger.writing.journal import Journal

    journal = Journal(tmp_path / "journal.sqlite3")
    yield journal
    journal.close()

"""Shared fixtures: the models (loaded once), generated audio, and ../shared/."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.audio import tone
from support.paths import SHARED, SHARED_MUSIC

from tagger.genres.vocabulary import forget_vocabulary

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "fuzzing (tests/system/test_fuzz.py)")
    group.addoption("--fuzz-count", type=int, default=300, metavar="N",
                    help="mutants in the long fuzz run, selected with -m fuzz (default 300)")
    group.addoption("--fuzz-seed", type=int, default=1, metavar="SEED",
                    help="the first mutant's seed in the long fuzz run; the others follow on (default 1)")
    parser.getgroup("kills", "crash safety (tests/system/test_crash_safety.py)").addoption(
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

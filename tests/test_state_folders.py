"""Data, cache and config folders that are full, read-only, or a file: one sentence, never a traceback.

The commands run as the person runs them, in a process of their own with XDG_*_HOME
pointing at the folder under test. A read-only folder is a read-only bind mount where
the tests run as root (root ignores permission bits), else a folder without write
permission; a full disk is a 1 MiB tmpfs with a filler file, which needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import tagfiles

ROOT_ON_LINUX = os.geteuid() == 0 and sys.platform == "linux"
def genre_tagger(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "tagger.cli", *args], env=env, capture_output=True, text=True,
                         timeout=240)
    assert "Traceback" not in run.stderr, run.stderr
    return run


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """The three state folders, each its own, empty."""
    made = {}
    for name in ("data", "cache", "config"):
        made[name] = tmp_path / "state" / name
        made[name].mkdir(parents=True)
    return made


def environment(folders: dict[str, Path]) -> dict[str, str]:
    return dict(os.environ, XDG_DATA_HOME=str(folders["data"]), XDG_CACHE_HOME=str(folders["cache"]),
                XDG_CONFIG_HOME=str(folders["config"]))


@pytest.fixture
def song(tmp_path: Path) -> Path:
    (tmp_path / "music").mkdir()
    return tagfiles.make(tmp_path / "music", "flac")


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder``, with what it holds, made read-only for the duration."""
    if not ROOT_ON_LINUX:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for path in modes:
            path.chmod(0o555)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    # Root writes anywhere its permission bits forbid: a read-only mount stops it.
    if subprocess.run(["mount", "--bind", str(folder), str(folder)]).returncode:
        pytest.skip("this machine does not allow a read-only bind mount")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


# -- the undo journal and history ----------------------------------------------------------------------

def test_history_reads_a_read_only_journal_and_names_a_file_in_place_of_the_data_folder(folders, song):
    env = environment(folders)
    assert genre_tagger(env, "set", "--genre", "Jazz", str(song)).returncode == 0
    with unwritable(folders["data"]):
        history = genre_tagger(env, "history")
        assert history.returncode == 0 and "set " in history.stdout
    for child in folders["data"].iterdir():
        shutil.rmtree(child)
    folders["data"].rmdir()
    folders["data"].write_text("not a folder")
    history = genre_tagger(env, "history")
    assert history.returncode == 1
    assert history.stderr.strip() == (f"genre-tagger history: the undo journal {folders['data']}/genre-tagger/"
                                      f"journal.sqlite3 could not be used: {folders['data']} is a file, not a folder")

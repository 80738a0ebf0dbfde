"""Data, cache and config folders that are full, read-only, or a file: one sentence, never a traceback.

The commands run as the person runs them, in a process of their own with XDG_*_HOME
pointing at the folder under test. A read-only folder is a read-only bind mount where
the tests run as root (root ignores permission bits), else a folder without write
permission; a full disk is a 1 MiB tmpfs with a filler file, which needs root.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mutagen
import numpy as np
import pytest
from support import tagfiles
from support.journals import CodedError

from tagger import cli
from tagger.files.state import explain, is_damage
from tagger.tags import read_tags

ROOT_ON_LINUX = os.geteuid() == 0 and sys.platform == "linux"
needs_tmpfs = pytest.mark.skipif(not ROOT_ON_LINUX, reason="mounting a tmpfs needs root on Linux")


def genre_tagger(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "tagger.cli", *args], env=env, capture_output=True, text=True,
                         timeout=240)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
def small_disk(folder: Path) -> Iterator[None]:
    """A 1 MiB tmpfs on ``folder`` for the duration."""
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    """Leave no free block on the disk of ``folder``."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, bytes(4096)):
            pass
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)


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


def set_aside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.corrupt-*"))


# -- the analysis cache ---------------------------------------------------------------------------------

def suggest(env: dict[str, str], song: Path) -> subprocess.CompletedProcess:
    return genre_tagger(env, "suggest", "--json", "--depth", "fast", "--device", "cpu", str(song))


def cache_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "the analysis cache" in line]


@needs_tmpfs
def test_a_cache_on_a_full_disk_is_read_not_declared_damaged(folders, song):
    with small_disk(folders["cache"]):
        env = environment(folders)
        assert json.loads(suggest(env, song).stdout)["cached"] is False
        fill(folders["cache"])
        run = suggest(env, song)
        assert run.returncode == 0
        assert json.loads(run.stdout)["cached"] is True  # the healthy cache still answers
        assert len(cache_problems(run.stderr)) == 1
        assert "could not be used: the disk is full; reading it, but new analyses are not kept" in run.stderr
        clear = genre_tagger(env, "cache", "clear")
        assert clear.returncode == 1
        assert clear.stderr.strip().startswith("genre-tagger cache: the analysis cache")
        assert clear.stderr.strip().endswith("could not be used: the disk is full")
        assert genre_tagger(env, "cache", "info").stdout.startswith("1 cached analyses")
        assert set_aside(folders["cache"]) == []


def test_a_cache_on_a_read_only_disk_is_read_not_declared_damaged(folders, song):
    env = environment(folders)
    suggest(env, song)
    with unwritable(folders["cache"]):
        run = suggest(env, song)
        assert run.returncode == 0
        assert json.loads(run.stdout)["cached"] is True
        (problem,) = cache_problems(run.stderr)
        assert str(folders["cache"]) in problem and "reading it, but new analyses are not kept" in problem
        clear = genre_tagger(env, "cache", "clear")
        assert clear.returncode == 1 and "could not be used" in clear.stderr
        assert set_aside(folders["cache"]) == []
    assert genre_tagger(env, "cache", "info").stdout.startswith("1 cached analyses")


def test_a_file_where_the_cache_folder_should_be_means_no_cache(folders, song):
    folders["cache"].rmdir()
    folders["cache"].write_text("not a folder")
    env = environment(folders)
    run = suggest(env, song)
    assert run.returncode == 0 and json.loads(run.stdout)["status"] == "ok"
    (problem,) = cache_problems(run.stderr)
    assert problem.endswith(f"could not be used: {folders['cache']} is a file, not a folder; analysing without it")
    info = genre_tagger(env, "cache", "info")
    assert info.returncode == 1
    assert info.stderr.strip().endswith(f"{folders['cache']} is a file, not a folder")


@needs_tmpfs
def test_a_cache_that_fills_the_disk_while_analysing_stops_growing_and_keeps_going(tmp_path, caplog):
    from tagger.analysis.cache import AnalysisCache, RawAnalysis

    folder = tmp_path / "cache"
    folder.mkdir()
    with small_disk(folder):
        cache = AnalysisCache(folder / "cache.sqlite3")
        try:
            st = os.stat(folder)
            raw = RawAnalysis(1.0, 1, np.zeros(1, np.float32), {"m": np.zeros((1, 50), np.float32)},
                              {"m": np.zeros(200, np.float32)})
            cache.store(folder / "kept", st, "kept", "m", "fp32", "fast", raw, "{}")
            fill(folder)
            big = RawAnalysis(1.0, 1, np.zeros(1, np.float32), {"m": np.ones((64, 4096), np.float32)}, {})
            for n in range(3):
                cache.store(folder / f"lost{n}", st, f"lost{n}", "m", "fp32", "fast", big, "{}")
            assert not cache.writable and cache.by_content("kept", "m", "fp32", "fast") is not None
            assert caplog.text.count("the disk is full; new analyses are no longer kept") == 1
        finally:
            cache.close()
        assert set_aside(folder) == []


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


def test_genres_needs_no_state_folder(folders, song):
    for folder in folders.values():
        folder.rmdir()
        folder.write_text("not a folder")
    run = genre_tagger(environment(folders), "genres", str(song.parent))
    assert run.returncode == 0 and "1 file(s) read" in run.stdout
    # The person's aliases cannot be read: said once, with the folder to blame.
    assert run.stderr.count("\n") == 1 and f"{folders['config']} is a file, not a folder" in run.stderr


# -- rename and the genre aliases -----------------------------------------------------------------------

def rename_blues(env: dict[str, str], song: Path) -> subprocess.CompletedProcess:
    return genre_tagger(env, "rename", "Blues", "Jazz", str(song.parent))


def blues(song: Path) -> Path:
    audio = mutagen.File(song)
    audio["genre"] = ["Blues"]
    audio.save()
    return song


def assert_refused(run: subprocess.CompletedProcess, config: Path, problem: str, song: Path, before: str) -> None:
    assert run.returncode == 1
    assert run.stderr.strip() == (f"genre-tagger rename: the genre aliases {config}/genre-tagger/genre-aliases.json "
                                  f"could not be used: {problem}; nothing was renamed")
    assert digest(song) == before


def test_rename_with_a_file_where_the_config_folder_should_be_renames_nothing(folders, song):
    before = digest(blues(song))
    folders["config"].rmdir()
    folders["config"].write_text("not a folder")
    run = rename_blues(environment(folders), song)
    assert_refused(run, folders["config"], f"{folders['config']} is a file, not a folder", song, before)


def test_rename_with_a_read_only_config_folder_renames_nothing(folders, song):
    before = digest(blues(song))
    with unwritable(folders["config"]):
        run = rename_blues(environment(folders), song)
    problem = "the file system is read-only" if ROOT_ON_LINUX else "permission denied"
    assert_refused(run, folders["config"], problem, song, before)


@needs_tmpfs
def test_rename_with_a_full_config_disk_renames_nothing(folders, song):
    before = digest(blues(song))
    with small_disk(folders["config"]):
        fill(folders["config"])
        run = rename_blues(environment(folders), song)
    assert_refused(run, folders["config"], "the disk is full", song, before)


def test_a_rename_whose_alias_cannot_be_saved_after_the_writes_says_so(song, monkeypatch, capsys):
    """The config folder passed the check, then failed: the files are written and reported,
    and the message says the rename was not remembered and how to remember it."""
    import tagger.files.atomic

    blues(song)
    real = tagger.files.atomic.write_file_atomically

    def full_for_aliases(path: Path, data: bytes, *args, **kwargs):
        if path.name == "genre-aliases.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(tagger.files.atomic, "write_file_atomically", full_for_aliases)
    assert cli.main(["rename", "--json", "Blues", "Jazz", str(song.parent)]) == 1
    captured = capsys.readouterr()
    assert [json.loads(line)["status"] for line in captured.out.splitlines()] == ["written"]
    assert read_tags(song).genres == ["Jazz"]
    assert ("genre-tagger rename: the files were written, but the rename of 'Blues' to 'Jazz' was not saved for "
            "later suggestions and cleanup: the genre aliases ") in captured.err
    assert "could not be used: the disk is full; once that is fixed, run the same rename again" in captured.err
    monkeypatch.undo()
    assert cli.main(["rename", "Blues", "Jazz", str(song.parent)]) == 0  # as the message says: now remembered
    from tagger.genres.vocabulary import read_user_aliases, user_aliases_path

    assert read_user_aliases(user_aliases_path()) == {"Blues": "Jazz"}


# -- the learned model and the settings ---------------------------------------------------------------

def test_learn_with_a_file_where_the_data_folder_should_be_stops_before_analysing(folders, song):
    folders["data"].rmdir()
    folders["data"].write_text("not a folder")
    env = environment(folders)
    problem = (f"the learned model {folders['data']}/genre-tagger/learned-model.npz could not be used: "
               f"{folders['data']} is a file, not a folder")
    for args in (["learn", "--device", "cpu", str(song.parent)], ["learn", "--forget"]):
        run = genre_tagger(env, *args)
        assert (run.returncode, run.stderr.strip()) == (1, f"genre-tagger learn: {problem}")


def test_settings_that_cannot_be_saved_say_why(tmp_path):
    from tagger.settings import Settings

    (tmp_path / "config").write_text("not a folder")
    path = tmp_path / "config" / "genre-tagger" / "settings.json"
    with pytest.raises(Exception) as raised:
        Settings().save(path)
    assert str(raised.value) == f"the settings {path} could not be used: {tmp_path / 'config'} is a file, not a folder"
    from tagger.files.state import StateError

    assert isinstance(raised.value, StateError)  # what the app catches


# -- damage, told from a disk that cannot be written -----------------------------------------------

@pytest.mark.parametrize("code, damaged", [(11, True), (26, True), (11 | (1 << 8), True), (267 + 256, True),
                                           (5, False), (10, False), (12, False), (25, False), (27, False),
                                           (1 << 8, False)])
def test_damage_is_told_by_sqlites_primary_result_code(code, damaged):
    # The text says nothing either way, so only the code can decide.
    assert is_damage(CodedError("some error", code)) is damaged
    assert is_damage(CodedError("database disk image is malformed", code)) is damaged


@pytest.mark.parametrize("text, damaged", [("database disk image is malformed", True),
                                           ("file is not a database", True), ("database is locked", False),
                                           ("Malformed", False)])
def test_without_a_code_damage_is_told_by_sqlites_words(text, damaged):
    assert is_damage(CodedError(text, None)) is damaged


def test_a_real_damaged_file_is_damage(tmp_path):
    path = tmp_path / "j"
    path.write_bytes(b"not a database at all" * 500)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(path).execute("PRAGMA quick_check").fetchall()
    assert is_damage(caught.value)


@pytest.mark.parametrize("error, says", [
    (OSError(28, "No space left on device"), "the disk is full"),
    (OSError(13, "Permission denied"), "permission denied"),
    (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "it is read-only"),
    (sqlite3.OperationalError("the file is read-only"), "it is read-only"),
    (CodedError("database disk image is malformed", 11),
     "it is damaged (database disk image is malformed); the next command sets it aside and starts a new one"),
    (sqlite3.OperationalError("database is locked"), "database is locked"),
    # SQLite's code for damage decides before any words in the message.
    (CodedError("full of nothing", 11),
     "it is damaged (full of nothing); the next command sets it aside and starts a new one"),
])
def test_explain_gives_one_sentence(tmp_path, error, says):
    expected = f"the undo journal {tmp_path / 'j'} could not be used: {says}"
    assert explain(error, "the undo journal", tmp_path / "j") == expected

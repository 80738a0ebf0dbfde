"""Two real genre-tagger processes on the same files at once: no write is lost while reported written.

Threads in one process would prove nothing here: the writer serialises its own threads,
and the danger is another process reading a file between this one's read and its swap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import tagfiles
from support.library import make_library

from tagger.tags import DEFAULT_SEPARATOR, open_tags, read_tags

ROUNDS = 4
FILES = 8
# The layouts whose genre lives in more than one field, each written by byte-level code of its
# own: a WAV's INFO chunk, trailing ID3v1 tags, APEv2 tags rewritten in place.
SECOND_FIELD_KINDS = ("wav-info", "wav-sndfile-info", "mp3-id3v24-id3v1", "true-audio-id3v1", "wavpack-id3v1",
                      "monkeys-audio-id3v1", "wavpack", "flac")


def second_field_library(folder: Path, count: int) -> list[Path]:
    """``count`` files of SECOND_FIELD_KINDS, in turn, each in a folder of its own."""
    return [tagfiles.make(folder / f"{i:03d}", SECOND_FIELD_KINDS[i % len(SECOND_FIELD_KINDS)])
            for i in range(count)]


LIBRARIES = pytest.mark.parametrize("library", [make_library, second_field_library],
                                    ids=["mp3-flac", "second-genre-fields"])


def genre_tagger(*args: str) -> subprocess.Popen:
    # The test's private XDG_* folders (tests/conftest.py) are inherited: both share one journal.
    return subprocess.Popen([sys.executable, "-m", "tagger.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def results(child: subprocess.Popen) -> dict[Path, dict]:
    out, err = child.communicate(timeout=240)
    assert "Traceback" not in err, err
    records = [json.loads(line) for line in out.splitlines()]
    return {Path(r["path"]): r for r in records}


@LIBRARIES
def test_two_merges_at_once_keep_both_genres(tmp_path, library):
    folder = tmp_path / "library"
    folder.mkdir()
    paths = library(folder, FILES)
    lost = []
    for number in range(ROUNDS):
        first, second = f"First {number}", f"Second {number}"
        before = {p: read_tags(p).genres for p in paths}
        children = [genre_tagger("set", "--json", "--mode", "merge", "--genre", genre, *map(str, paths))
                    for genre in (first, second)]
        a, b = map(results, children)
        for path in paths:
            genres = read_tags(path).genres
            for genre, outcome in ((first, a[path]), (second, b[path])):
                # Under the lock the second reads what the first wrote: nothing to refuse.
                assert outcome["status"] == "written", outcome
                if genre not in genres:
                    lost.append((path.name, genre, genres))
            assert set(before[path]) <= set(genres), (path, before[path], genres)
            tag_format, audio = open_tags(path)
            assert tag_format.in_step(audio, DEFAULT_SEPARATOR), f"{path.name}: a second genre field lags behind"
    assert not lost, f"{len(lost)} genres reported written but missing: {lost[:5]}"


@LIBRARIES
def test_set_while_undo_runs_never_reports_a_write_that_is_not_there(tmp_path, library):
    folder = tmp_path / "library"
    folder.mkdir()
    paths = library(folder, FILES)
    wrong = []
    for number in range(ROUNDS):
        undone = results(genre_tagger("set", "--json", "--genre", f"Undone {number}", *map(str, paths)))
        before = {p: read_tags(p).genres for p in paths}
        setter = genre_tagger("set", "--json", "--genre", f"Kept {number}", *map(str, paths))
        # Named, so that undo does not stop at the set's unfinished batch.
        undoer = genre_tagger("undo", "--json", str(undone[paths[0]]["batch"]))
        set_results, undo_results = results(setter), results(undoer)
        for path in paths:
            genres = read_tags(path).genres
            set_written = set_results[path]["status"] == "written"
            undo_written = undo_results.get(path, {}).get("status") == "written"
            if set_written:
                expected = set_results[path]["new_genres"]
            elif undo_written:
                expected = undo_results[path]["new_genres"]
            else:
                expected = before[path]
            if genres != expected:
                wrong.append((path.name, set_results[path]["status"], undo_results.get(path, {}).get("status"),
                              genres, expected))
    assert not wrong, f"{len(wrong)} files do not hold what was reported: {wrong[:5]}"


def test_four_commands_on_a_fresh_profile_all_open_the_journal(tmp_path, monkeypatch):
    """The first commands of a new profile create the journal at the same moment."""
    folder = tmp_path / "library"
    folder.mkdir()
    paths = make_library(folder, 4)
    for attempt in range(6):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / f"fresh-{attempt}"))
        children = [genre_tagger("set", "--json", "--genre", f"G{attempt}", str(path)) for path in paths]
        for child in children:
            out, err = child.communicate(timeout=240)
            assert "Traceback" not in err and "locked" not in err, err
            assert child.returncode == 0, err


HOLDER = """
import sys
with open(sys.argv[1], "ab") as f:
    print("open", flush=True)
    sys.stdin.readline()  # a tag editor with the file open, saving later
    for record in range(100):
        f.write(b"record %d;" % record)
"""


def test_a_file_another_program_has_open_for_writing_is_not_swapped_under_it(tmp_path):
    """A player or tag editor that saves later would write to the old, nameless inode."""
    folder = tmp_path / "library"
    folder.mkdir()
    (path,) = make_library(folder, 1)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        refused = results(genre_tagger("set", "--json", "--genre", "Swapped", str(path)))[path]
    finally:
        holder.communicate("save\n", timeout=60)
    assert refused["status"] == "error"
    assert f"python (process {holder.pid}) has the file open for writing" in refused["error"]
    # What the other program saved is in the file that has the name.
    assert path.read_bytes().count(b"record ") == 100
    assert read_tags(path).genres == ["Original"]
    # Once it has closed the file, the write goes ahead.
    assert results(genre_tagger("set", "--json", "--genre", "Swapped", str(path)))[path]["status"] == "written"

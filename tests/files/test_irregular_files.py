"""FIFOs, devices and sockets are refused before they are opened (issue 21, item 5).

Opening a FIFO blocks until something writes to it and /dev/zero never ends, so every
command runs in a child process with a hard timeout and a cap on its memory: a
regression fails here instead of hanging CI or filling the machine's memory.
"""

import json
import os
import socket
import stat
import subprocess
import sys
import threading

import pytest
from support import tagfiles
from support.paths import REPO

from tagger.tags import read_tags
from tagger.writing.journal import Journal
from tagger.writing.writer import WriteRequest, planned_entry

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")

FIFO = "not a regular file (a FIFO); only audio files are read"
DEVICE = "not a regular file (a character device); only audio files are read"
MEMORY_CAP = 2 << 30  # far more than a command needs; /dev/zero once took 10 GB in 15 s
LAUNCH = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP})); "
          "from tagger.cli import main; sys.exit(main(sys.argv[1:]))")


def cli(*args) -> tuple[int, list[dict], str]:
    """The command's exit code, its JSON lines and its stderr; TimeoutExpired if it hangs."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, *map(str, args)], cwd=REPO, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=60)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")], done.stderr


def fifo(path):
    os.mkfifo(path)
    return path


def by_path(records: list[dict]) -> dict[str, dict]:
    return {r["path"]: r for r in records}


@pytest.fixture
def good(tmp_path):
    """A FLAC file holding "Rock" and "rock ": every command has something to change."""
    return tagfiles.make(tmp_path, "flac")


def test_set_refuses_a_fifo_and_writes_the_other_files(tmp_path, good):
    pipe = fifo(tmp_path / "pipe.mp3")
    code, records, _ = cli("set", "--genre", "Jazz", "--json", pipe, good)
    assert code == 1
    assert by_path(records)[str(pipe)] == {"path": str(pipe), "status": "error", "error": FIFO}
    assert by_path(records)[str(good)]["status"] == "written"
    assert read_tags(good).genres == ["Jazz"]


def test_genres_refuses_a_fifo(tmp_path, good):
    pipe = fifo(tmp_path / "pipe.flac")
    code, records, _ = cli("genres", "--json", good, pipe)
    assert code == 1
    (overview,) = records
    assert overview["problems"] == [{"path": str(pipe), "error": FIFO}]
    assert overview["files"] == 1 and [f["path"] for f in overview["file_storage"]] == [str(good)]


def test_normalise_refuses_a_fifo_and_writes_the_other_files(tmp_path, good):
    pipe = fifo(tmp_path / "pipe.ogg")
    code, records, _ = cli("normalise", "--json", pipe, good)
    assert code == 1
    assert by_path(records)[str(pipe)]["error"] == FIFO
    assert by_path(records)[str(good)]["status"] == "written"
    assert read_tags(good).stored_genres == ["Rock"]


def test_rename_refuses_a_fifo_and_writes_the_other_files(tmp_path, good):
    pipe = fifo(tmp_path / "pipe.m4a")
    code, records, _ = cli("rename", "Rock", "Jazz", "--json", good, pipe)
    assert code == 1
    assert by_path(records)[str(pipe)]["error"] == FIFO
    assert by_path(records)[str(good)]["status"] == "written"
    assert read_tags(good).genres == ["Jazz"]


def test_suggest_refuses_a_fifo_and_a_device(tmp_path):
    pipe = fifo(tmp_path / "pipe.opus")
    code, records, _ = cli("suggest", "--json", pipe, "/dev/zero")
    assert code == 1
    assert [(r["path"], r["error"]) for r in records] == [(str(pipe), FIFO), ("/dev/zero", DEVICE)]


def test_a_scanned_folder_reports_its_fifos_and_sockets_and_writes_its_audio(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    good = tagfiles.make(folder, "flac")
    pipe = fifo(folder / "a pipe.mp3")
    linked_pipe = folder / "link to a pipe.mp3"
    linked_pipe.symlink_to(pipe)
    linked_good = folder / "link to good.flac"
    linked_good.symlink_to(tagfiles.make(tmp_path, "flac"))  # outside the folder, so written once
    fifo(folder / "not audio")  # no audio name: skipped as any other such file is
    server = socket.socket(socket.AF_UNIX)
    sock = folder / "s.ogg"
    try:
        server.bind(str(sock))
    except OSError:  # a path too long for a socket address
        sock = None
    try:
        code, records, _ = cli("set", "--genre", "Jazz", "--json", folder)
    finally:
        server.close()
    assert code == 1
    results = by_path(records)
    assert results[str(pipe)]["error"] == results[str(linked_pipe)]["error"] == FIFO
    if sock is not None:
        assert results[str(sock)]["error"] == "not a regular file (a socket); only audio files are read"
    assert results[str(good)]["status"] == results[str(linked_good)]["status"] == "written"
    assert len(records) == 4 + (sock is not None)
    assert read_tags(good).genres == read_tags(linked_good).genres == ["Jazz"]


def test_finish_refuses_a_recorded_file_that_became_a_fifo(tmp_path, good):
    (tmp_path / "other").mkdir()
    other = tagfiles.make(tmp_path / "other", "flac")
    journal = Journal()
    batch = journal.start("set", "replace")
    journal.plan(batch, [planned_entry(WriteRequest(p, ["Jazz"])) for p in (good, other)])
    journal.close()  # killed here, before writing
    good.unlink()
    fifo(good)
    code, records, _ = cli("finish", "--json")
    assert code == 1
    assert by_path(records)[str(good)]["error"] == FIFO
    assert by_path(records)[str(other)]["status"] == "written"
    assert read_tags(other).genres == ["Jazz"]


def test_undo_refuses_a_written_file_that_became_a_fifo(tmp_path, good):
    (tmp_path / "other").mkdir()
    other = tagfiles.make(tmp_path / "other", "flac")
    assert cli("set", "--genre", "Jazz", good, other)[0] == 0
    good.unlink()
    fifo(good)
    code, records, _ = cli("undo", "--json")
    assert code == 1
    assert by_path(records)[str(good)]["error"] == FIFO
    assert by_path(records)[str(other)]["status"] == "written"
    assert read_tags(other).genres == ["Rock"]


@pytest.mark.parametrize("command", [["genres"], ["set", "--genre", "Jazz"], ["normalise"]])
def test_dev_null_and_dev_zero_are_refused(command):
    code, records, _ = cli(*command, "--json", "/dev/null", "/dev/zero")
    assert code == 1
    errors = records[0]["problems"] if command == ["genres"] else records
    assert [(e["path"], e["error"]) for e in errors] == [("/dev/null", DEVICE), ("/dev/zero", DEVICE)]


def test_the_check_names_each_kind_and_follows_symlinks(tmp_path, good):
    from tagger.files.regular import irregular, irregular_file

    pipe = fifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(pipe)
    (tmp_path / "good link").symlink_to(good)
    assert irregular_file(good) is irregular_file(tmp_path / "good link") is None
    assert irregular_file(pipe) == irregular_file(tmp_path / "link") == FIFO
    assert irregular_file(tmp_path / "missing") is None  # opening it says why, without blocking
    assert irregular_file("/dev/null") == DEVICE
    assert irregular_file(tmp_path) == "not a regular file (a folder); only audio files are read"
    block = os.stat_result((stat.S_IFBLK | 0o600,) + (0,) * 9)
    assert irregular(block) == "not a regular file (a block device); only audio files are read"


# -- Genre Tagger's own files ----------------------------------------------------------------------


def without_blocking(call, pipe):
    """What ``call()`` returns or raises; fails the test if it opens ``pipe`` and blocks there."""
    outcome = []

    def attempt():
        try:
            outcome.append(call())
        except Exception as e:
            outcome.append(e)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))  # the blocked open then reads an empty file
        thread.join()
        pytest.fail("it opened the FIFO and waited for a writer")
    return outcome[0]


def test_settings_aliases_a_saved_review_and_a_learned_model_that_are_fifos_are_refused(tmp_path, caplog):
    from tagger.genres.vocabulary import read_user_aliases
    from tagger.learning.learned import LearnedModel, LearnedModelError
    from tagger.review.session import ReviewSession, SavedSessionError
    from tagger.settings import Settings

    not_regular = "not a regular file (a FIFO)"
    pipe = fifo(tmp_path / "state.json")
    assert without_blocking(lambda: Settings.load(pipe), pipe) == Settings()
    assert without_blocking(lambda: read_user_aliases(pipe), pipe) == {}
    assert caplog.text.count(f"({not_regular})") == 2
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        refusal = without_blocking(lambda: ReviewSession(Settings(), journal).restore(pipe), pipe)
    finally:
        journal.close()
    assert isinstance(refusal, SavedSessionError) and f"({not_regular})" in str(refusal)
    refusal = without_blocking(lambda: LearnedModel.load(pipe), pipe)
    assert isinstance(refusal, LearnedModelError) and f"is {not_regular};" in str(refusal)


def test_a_state_file_is_read_up_to_its_bound(tmp_path):
    from tagger.files.regular import read_state_file

    path = tmp_path / "settings.json"
    path.write_bytes(b"0123456789")
    assert read_state_file(path, limit=10) == b"0123456789"
    path.write_bytes(b"0123456789!")
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        read_state_file(path, limit=10)

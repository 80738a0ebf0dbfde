"""The real command line, in a child process, on broken files and closed pipes:
what a person sees on their terminal (tracebacks, decoder chatter, exit codes)."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys

import pytest
import soundfile as sf
from support.audio import make_m4a, tone
from support.paths import REPO


def cli(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tagger.cli", *args], cwd=REPO, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=300, **kwargs)


def unknown_codec_wav(path):
    """A WAV whose format tag nobody assigned: PyAV gives its stream no codec context."""
    sf.write(path, tone(2.0), 44100, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 8: fmt + 10] = struct.pack("<H", 0x7777)
    path.write_bytes(bytes(data))
    return path


def latin1_tagged_m4a(path):
    """An M4A whose title is not UTF-8: PyAV raised UnicodeDecodeError opening it."""
    make_m4a(path, seconds=4.0, title="PLACEHOLDERTITLE")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDERTITLE", b"Caf\xe9 \xff\xfe del mar!!"))
    return path


def test_suggest_survives_files_that_break_the_decoders(tmp_path):
    good = [tmp_path / "good1.flac", tmp_path / "good2.flac"]
    for path in good:
        sf.write(path, tone(4.0), 44100)
    unknown = unknown_codec_wav(tmp_path / "unknown-codec.wav")
    latin1 = latin1_tagged_m4a(tmp_path / "latin1-title.m4a")
    paths = [good[0], unknown, latin1, good[1]]
    result = cli("suggest", "--json", "--device", "cpu", "--no-cache", *map(str, paths))
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == [str(p) for p in paths]
    assert [r["status"] for r in records] == ["ok", "error", "ok", "ok"]
    assert records[1]["error"].endswith("FFmpeg: no decoder for its audio codec)")
    assert result.returncode == 1
    assert "3 file(s) analysed" in result.stderr


# A reader that goes away (`genre-tagger set --json DIR | head -n 1`): a write batch
# runs to its end with its output dropped, suggest stops; neither prints a traceback.

def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tagger.cli", *args], cwd=REPO, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def closed_pipe_run(args, when):
    """Run the CLI with its stdout a pipe whose reader closes it: ``"at once"`` (before
    the first write) or ``"after one line"``. Returns (exit status, first line, stderr)."""
    if when == "at once":
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            child = subprocess.Popen([sys.executable, "-m", "tagger.cli", *args], cwd=REPO, env=os.environ.copy(),
                                     stdout=write_end, stderr=subprocess.PIPE)
        finally:
            os.close(write_end)
        first = b""
    else:
        child = start(*args)
        first = child.stdout.readline()
        child.stdout.close()
    _, err = child.communicate(timeout=300)
    return child.returncode, first.decode(), err.decode()


def assert_quiet(stderr):
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception ignored" not in stderr, stderr


@pytest.mark.parametrize("when", ["at once", "after one line"])
def test_a_closed_pipe_never_stops_a_write_batch(make_audio, when):
    from tagger.tags import read_tags
    from tagger.writing.journal import Journal

    paths = [make_audio(f"library/song{i:02}.flac", seconds=0.5) for i in range(20)]
    code, first, err = closed_pipe_run(["set", "--genre", "Ska", "--json", str(paths[0].parent)], when)
    assert_quiet(err)
    assert code == 0  # the batch's own result: every file written
    assert err.strip().endswith("20 written")
    if when == "after one line":
        assert json.loads(first)["status"] == "written"
    journal = Journal()
    try:
        (batch,) = journal.batches()
        assert batch.counts == {"written": 20}  # none left 'planned'
    finally:
        journal.close()
    assert [read_tags(p).genres for p in paths] == [["Ska"]] * 20


@pytest.mark.parametrize("when", ["at once", "after one line"])
def test_suggest_stops_quietly_when_its_reader_goes_away(make_audio, when):
    paths = [make_audio(f"song{i:02}.flac", seconds=4.0) for i in range(20)]
    code, first, err = closed_pipe_run(["suggest", "--json", "--device", "cpu", "--no-cache", *map(str, paths)], when)
    assert_quiet(err)
    assert err == ""  # no summary either: a reader that left wants no more
    assert code == 141  # 128 + SIGPIPE, as a shell reports a tool that SIGPIPE ended
    if when == "after one line":
        assert json.loads(first)["path"] == str(paths[0])


def test_history_into_a_closed_pipe_is_quiet(make_audio):
    path = make_audio("song.flac", seconds=0.5)
    assert cli("set", "--genre", "Ska", str(path)).returncode == 0
    code, _, err = closed_pipe_run(["history"], "at once")
    assert_quiet(err)
    assert code == 0 and err == ""


# Decoders' own notes: mpg123 (inside libsndfile) writes "Note: Trying to resync..." to
# descriptor 2 from C. Only -v shows them.

def mp3_with_garbage(make_audio):
    """An MP3 with a few hundred bytes of noise mid-stream: mpg123 resyncs and says so."""
    import numpy as np

    path = make_audio("resync.mp3", seconds=10.0)
    data = path.read_bytes()
    noise = np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes()
    path.write_bytes(data[: len(data) // 2] + noise + data[len(data) // 2:])
    return path


@pytest.mark.parametrize("command", ["suggest", "apply"])
def test_decoder_notes_show_only_with_verbose(make_audio, command):
    path = mp3_with_garbage(make_audio)
    args = [command, "--json", "--device", "cpu", "--no-cache", str(path)]
    if command == "apply":
        args += ["--dry-run", "--min-confidence", "0"]
    quiet = cli(*args)
    verbose = cli(*args, "-v")
    for result in (quiet, verbose):
        assert result.returncode == 0, result.stderr
        assert_quiet(result.stderr)
        assert json.loads(result.stdout.splitlines()[0])["path"] == str(path)
    assert "Note: Trying to resync" in verbose.stderr  # the file does make mpg123 talk
    assert "Note:" not in quiet.stderr and "Warning:" not in quiet.stderr and "[src/" not in quiet.stderr
    # Everything of our own still comes, in order, ending with the summary.
    summary = "1 file(s) analysed" if command == "suggest" else "1 planned"
    assert quiet.stderr.splitlines()[-1].startswith(summary)
    ours = [line for line in verbose.stderr.splitlines()
            if not line.startswith(("Note:", "Warning:", "[src/", "genre-tagger: "))]  # less -v's log
    assert untimed(quiet.stderr.splitlines()) == untimed(ours)


def untimed(lines):
    return [re.sub(r"\d+\.\d+ s", "N s", line) for line in lines]


def test_the_app_leaves_qts_last_words_on_the_terminal(monkeypatch):
    """The decoder-note filter must not swallow what Qt prints before it aborts."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")
    result = subprocess.run([sys.executable, "-m", "ui", "gui"], cwd=REPO, env=os.environ.copy(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert 'platform plugin "no-such-platform"' in result.stderr

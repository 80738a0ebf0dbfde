"""The real command line, in a child process, on broken files and closed pipes:
what a person sees on their terminal (tracebacks, decoder chatter, exit codes)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
import soundfile as sf

from conftest import REPO, tone
from test_audio import make_m4a


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

"""Tags and file names reach the terminal escaped in text output, and exact in --json.

A genre tag or a file name can hold any characters: an escape sequence in one could
retitle the terminal or recolour it (issue 21), and a newline could start a line that
looks like the program's own. The tests run real commands on real audio files, and
the desktop app's forwarding of Qt's messages.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.flac import FLAC

from tagger import cli

# The stored genre turns the text red and rings the bell, and its newline starts a fake
# result line. Tags are read as the value's first line, the genre; the whole value is
# kept as stored. (A semicolon would split the value into several genres.)
GENRE = "Rock\x1b[31m\x07\nwritten   /etc/passwd"
READ = "Rock\x1b[31m\x07"
READ_SHOWN = "Rock\\x1b[31m\\x07"
# DEL and the 8-bit CSI (U+009B, here clearing the screen) are controls as well.
NEW = "Jazz\x1b[32m\x7f\x9b2J"
NEW_SHOWN = "Jazz\\x1b[32m\\x7f\\x9b2J"
# The name sets the window's title (OSC 0), and its newline starts a fake error line.
NAME = "é 日本\x1b]0;owned\x07\tsong\r\nerror     fake.flac"
NAME_SHOWN = "é 日本\\x1b]0;owned\\x07\\tsong\\r\\nerror     fake.flac"
CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) != "\n"]


def tagged(make_audio, name: str = NAME, genre: str = GENRE, seconds: float = 8.0) -> Path:
    path = make_audio(name, seconds=seconds)
    tags = FLAC(path)
    tags["genre"] = [genre]
    tags.save()
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_no_controls(text: str) -> None:
    """No control character but the newlines that end lines."""
    found = sorted({c for c in text if c in CONTROLS})
    assert not found, f"raw controls {found} in {text!r}"


def test_genres_escapes_tags_and_the_names_of_unreadable_files(capsys, make_audio, tmp_path):
    path = tagged(make_audio)
    broken = tmp_path / f"{NAME}.mp3"
    broken.write_bytes(b"")

    code, out, err = run(capsys, "genres", str(path), str(broken))
    assert code == 1
    assert_no_controls(out + err)
    genre_line, variants, summary = out.splitlines()
    assert genre_line.startswith(f"     1  {READ_SHOWN}  (unknown)")
    assert variants == "        as " + repr(GENRE) + " (1)"
    assert summary.startswith("1 file(s) read, 1 genre(s)")
    shown_name, problem, count = err.splitlines()
    assert shown_name == f"error     {tmp_path}/{NAME_SHOWN}.mp3"
    assert problem.strip().startswith("the file does not parse cleanly") and count == "1 file(s) could not be read"

    code, out, _ = run(capsys, "genres", "--json", str(path), str(broken))
    assert_no_controls(out.rstrip("\n"))
    (report,) = [json.loads(line) for line in out.splitlines()]
    assert [(g["genre"], g["variants"]) for g in report["genres"]] == [(READ, [{"value": GENRE, "files": 1}])]
    assert report["file_storage"][0] == {"path": str(path), "storage": "single", "values": [GENRE]}
    assert report["problems"][0]["path"] == str(broken)


def test_set_escapes_the_file_name_and_the_genres_old_and_new(capsys, make_audio):
    path = tagged(make_audio)

    code, out, err = run(capsys, "set", "--dry-run", "--genre", NEW, str(path))
    assert code == 0
    assert_no_controls(out + err)
    assert out.splitlines() == [f"planned   {path.parent}/{NAME_SHOWN}", f"          {READ_SHOWN} -> {NEW_SHOWN}"]

    code, out, _ = run(capsys, "set", "--json", "--genre", "Blues", "--genre", NEW, str(path))
    assert code == 0
    assert_no_controls(out.rstrip("\n"))
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["path"] == str(path) and record["status"] == "written"
    assert record["old_genres"] == [READ] and record["new_genres"] == ["Blues", NEW]
    assert FLAC(path)["genre"] == ["Blues", NEW]


def test_suggest_escapes_names_tags_and_the_progress_line(capsys, make_audio, monkeypatch):
    path = tagged(make_audio)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = run(capsys, "suggest", "--device", "cpu", "--depth", "fast", str(path))
    assert code == 0
    assert_no_controls(out)
    shown_path, genres, details = out.splitlines()
    assert shown_path == f"{path.parent}/{NAME_SHOWN}"
    assert genres.count("%") == 3
    assert details.endswith(f"now tagged: {READ_SHOWN}")
    # The progress line is drawn and cleared with carriage returns of its own: the name's
    # is escaped, so the drawn line is one piece between them.
    progress = terminal.getvalue()
    assert_no_controls(progress.replace("\r", ""))
    assert f"[1] {NAME_SHOWN}"[:79].ljust(79) in progress.split("\r")

    code, out, _ = run(capsys, "suggest", "--device", "cpu", "--depth", "fast", "--json", str(path))
    assert code == 0
    assert_no_controls(out.rstrip("\n"))
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["path"] == str(path) and record["current_genres"] == [READ]


def test_learn_escapes_the_genres_named_in_its_refusal(capsys, make_audio):
    paths = [tagged(make_audio, f"{i} {NAME}", seconds=3.0) for i in range(2)]

    code, out, err = run(capsys, "learn", "--device", "cpu", "--depth", "fast", "--min-files", "1", *map(str, paths))
    assert code == 1 and out == ""
    assert_no_controls(err)  # the plan, said first, names the genre too
    plan, refusal = err.splitlines()
    assert plan.startswith("genre-tagger learn: only 1 genre (") and READ_SHOWN in plan
    assert refusal.startswith("genre-tagger learn: need at least two genres")
    assert f"Files per genre: {READ_SHOWN} (2)" in refusal


def test_log_messages_escape_the_paths_they_name(make_audio, tmp_path):
    path = tagged(make_audio)
    config = tmp_path / "config\x1b]0;owned\x07"
    aliases = config / "genre-tagger" / "genre-aliases.json"
    aliases.parent.mkdir(parents=True)
    aliases.write_text("{not json")

    env = {**os.environ, "XDG_CONFIG_HOME": str(config)}
    done = subprocess.run([sys.executable, "-m", "tagger.cli", "genres", str(path)], capture_output=True,
                          env=env, cwd=Path(cli.__file__).parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    err = done.stderr.decode()
    assert_no_controls(err)
    assert f"could not read the genre aliases in {tmp_path}/config\\x1b]0;owned\\x07/genre-tagger" in err


def test_qt_messages_keep_their_lines_and_escape_the_names_in_them(capsys):
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QMessageLogContext, QtMsgType

    from ui.app import forward_qt_message

    # Qt's own messages run over several lines, so there a newline cannot be told from the
    # data's: the name here has none.
    message = "cannot play é 日本\x1b]0;owned\x07\tsong.ogg\nsecond line"
    forward_qt_message(QtMsgType.QtWarningMsg, QMessageLogContext(), message)
    assert capsys.readouterr().err == "cannot play é 日本\\x1b]0;owned\\x07\\tsong.ogg\nsecond line\n"

#!/usr/bin/env python3
"""The fault campaign of issue 21, with real processes: one line of figures per item.

    python benchmarks/fault_campaign.py [--runs N] [--tree PATH] [--items 1,2,...] [--keep]

Every command is a real ``python -m tagger.cli`` process of the source tree given by
--tree (default: the repository this script is in), run with PYTHONPATH=TREE from a
scratch folder, so that the same script measures old and new code. Each run gets fresh
XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_DATA_HOME folders, and fresh generated audio
(FLAC, MP3 and Ogg Vorbis, 0.1 s of noise tagged 'Original'). Each process runs in its own
session with a 4 GiB cap on its address space and a timeout: a process that outlives its
timeout is killed and counted as a hang, so the script itself never hangs.

The items, as in the issue:

 1. two ``set --mode merge`` of all 8 files at once, 2N runs: files whose genre was
    reported written but is missing, and clear refusals;
 2. ``set`` while ``undo BATCH`` of an earlier batch runs on the same 8 files, N runs: files
    whose final genres contradict the reports (tests/system/test_concurrent_writes.py's rule: the
    set's genres if it wrote the file, else the undo's if it did, else the genres before);
 3. another program with the file open for writing, saving after our set, or appending a
    record every 10 ms while set runs, N runs each: records lost to an orphaned inode;
 4. the journal on a nearly full 6 MiB tmpfs (needs root; skipped if the mount fails), at
    several free-space levels: files changed while reported unchanged or failed, and
    whether ``finish`` and ``undo`` give back the original bytes;
 5. a damaged journal (cut to 8 KB, garbled header, garbled second page, a folder in its
    place, cut to zero bytes): tracebacks of history, undo, finish and set, and whether
    undo works after ``genre-tagger journal recover`` (n/a where the tree lacks it);
 6. a FIFO given as a path to set, genres, normalise and rename (20 s timeout), and
    ``genres /dev/zero`` (20 s timeout): hangs, and the peak RSS;
 7. escape sequences in a tag and in a file name: raw ESC bytes (and other raw control
    characters) in the text output of genres and set; suggest is not run, since it loads
    the model;
 8. the first run of 4 set processes at once on a fresh profile, 2N+1 runs: 'database is
    locked' and tracebacks;
 9. SIGTERM during a set of 40 files, N runs: exit codes, temporary copies left behind;
10. undo after the batch's folder was renamed (``undo BATCH --root NEW`` where the tree has
    it), and a newline in a file name in text output.

Timing-dependent items (1, 2, 3, 8, 9) race real processes: on a busy machine a race may
be hit less often than on an idle one, so a count of zero from old code means "not hit
this time", not "cannot happen".
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mutagen
import numpy as np
import soundfile as sf
from mutagen.id3 import ID3, TCON, TIT2

REPO = Path(__file__).resolve().parent.parent
MEMORY_CAP = 4 << 30
TIMEOUT = 180  # a command that should take a few seconds; past this it counts as a hang
IRREGULAR_TIMEOUT = 20  # FIFOs and /dev/zero
FORMATS = ("flac", "mp3", "ogg")

_running: set[int] = set()


def _kill_leftovers() -> None:
    for pid in list(_running):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


atexit.register(_kill_leftovers)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


# -- processes ---------------------------------------------------------------------------------------

class Done:
    """A finished process: exit code, output, whether it was killed as a hang, its peak RSS."""

    def __init__(self, rc, out: bytes, err: bytes, hung: bool, maxrss_kb: int, seconds: float):
        self.rc, self.out_bytes, self.err_bytes = rc, out, err
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")
        self.hung, self.maxrss_kb, self.seconds = hung, maxrss_kb, seconds

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.err

    def records(self) -> dict[str, dict]:
        """The JSON Lines of --json output, by path."""
        found = {}
        for line in self.out.splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if "path" in record:
                        found[record["path"]] = record
        return found


class Child:
    """A running process whose output goes to files, so that many can run at once."""

    def __init__(self, argv: list[str], env: dict, cwd: Path):
        # Open for the child's whole life: wait() reads and closes them.
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, preexec_fn=_limit_memory, start_new_session=True)
        self.pid = self.proc.pid
        _running.add(self.pid)

    def output_so_far(self) -> bytes:
        self._out.flush()
        self._out.seek(0)
        return self._out.read()

    def send(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def wait(self, timeout: float = TIMEOUT) -> Done:
        deadline = self.started + timeout
        hung = False
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                hung = True
                with contextlib.suppress(OSError):
                    os.killpg(self.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - self.started
        _running.discard(self.pid)
        with contextlib.suppress(OSError):  # anything it left in its session
            os.killpg(self.pid, signal.SIGKILL)
        rc = os.waitstatus_to_exitcode(status)
        self.proc.returncode = rc  # reaped here; keeps Popen from waiting again
        out, err = self.output_so_far(), (self._err.seek(0), self._err.read())[1]
        self._out.close()
        self._err.close()
        return Done(rc, out, err, hung, usage.ru_maxrss, seconds)


class Campaign:
    def __init__(self, tree: Path, runs: int, base: Path):
        self.tree, self.runs, self.base = tree, runs, base
        self._count = 0

    def scratch(self, name: str) -> Path:
        self._count += 1
        folder = self.base / f"{self._count:04d}-{name}"
        folder.mkdir(parents=True)
        return folder

    def env(self, scratch: Path, **extra: str) -> dict:
        """A fresh profile under ``scratch``; the tree's tagger first on the path."""
        env = dict(os.environ)
        for name in ("CONFIG", "CACHE", "DATA"):
            folder = scratch / "profile" / name.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[f"XDG_{name}_HOME"] = str(folder)
        env["PYTHONPATH"] = str(self.tree)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env.update(extra)
        return env

    def start(self, env: dict, *args) -> Child:
        # The working directory is a scratch folder: with the repository as cwd, 'python -m'
        # would import its tagger whatever PYTHONPATH says.
        return Child([sys.executable, "-m", "tagger.cli", *map(str, args)], env, self.base)

    def run(self, env: dict, *args, timeout: float = TIMEOUT) -> Done:
        return self.start(env, *args).wait(timeout)

    def has(self, *args: str, option: str) -> bool:
        """Whether the tree's CLI knows ``option`` (in the help of ``args``)."""
        done = self.run(self.env(self.scratch("help")), *args, "--help", timeout=60)
        return done.rc == 0 and option in done.out


# -- audio -------------------------------------------------------------------------------------------

_rng = np.random.default_rng(21)


def make_file(path: Path, genre: str | None = "Original", title: str = "track") -> Path:
    """0.1 s of noise in the format the suffix names, tagged with ``genre`` and a title."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix.lstrip(".").lower()
    data = 0.1 * _rng.standard_normal((4410, 1)).astype(np.float32)
    fmt = {"flac": "FLAC", "mp3": "MP3", "ogg": "OGG"}[kind]
    subtype = {"flac": None, "mp3": "MPEG_LAYER_III", "ogg": "VORBIS"}[kind]
    sf.write(str(path), data, 44100, format=fmt, subtype=subtype)
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    if isinstance(audio.tags, ID3):
        if genre is not None:
            audio.tags.add(TCON(encoding=3, text=[genre]))
        audio.tags.add(TIT2(encoding=3, text=[title]))
    else:
        if genre is not None:
            audio.tags["GENRE"] = [genre]
        audio.tags["TITLE"] = [title]
    audio.save()
    return path


def make_library(folder: Path, count: int, formats=FORMATS) -> list[Path]:
    return [make_file(folder / f"{i:03d}.{formats[i % len(formats)]}", title=f"track {i}") for i in range(count)]


def genres_of(path: Path) -> list[str] | None:
    """The genre values as stored (mutagen, not the tree under test); None if unreadable."""
    try:
        audio = mutagen.File(path)
    except Exception:
        return None
    if audio is None:
        return None
    if audio.tags is None:
        return []
    if isinstance(audio.tags, ID3):
        frame = audio.tags.get("TCON")
        return list(frame.text) if frame else []
    return list(audio.tags.get("genre", []))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(values) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(collections.Counter(values).items(), key=str)) or "none"


# -- 1 -----------------------------------------------------------------------------------------------

def item_merge(c: Campaign) -> list[str]:
    runs = 2 * c.runs
    files = lost = refusals = other = dropped = hangs = tracebacks = 0
    for run in range(runs):
        scratch = c.scratch("merge")
        env = c.env(scratch)
        paths = make_library(scratch / "library", 8)
        genres = (f"First {run}", f"Second {run}")
        children = [c.start(env, "set", "--json", "--mode", "merge", "--genre", genre, *paths) for genre in genres]
        done = [child.wait() for child in children]
        hangs += sum(d.hung for d in done)
        tracebacks += sum(d.traceback for d in done)
        reports = [d.records() for d in done]
        for path in paths:
            files += 1
            now = genres_of(path) or []
            missing = False
            for genre, report in zip(genres, reports):
                record = report.get(str(path), {})
                if record.get("status") == "written":
                    missing |= genre not in now
                elif record.get("status") == "error" and record.get("error"):
                    refusals += 1
                else:
                    other += 1
            lost += missing
            dropped += "Original" not in now
    return [f"merge/merge lost writes: {lost} of {files} files (runs {runs}, refusals {refusals}, "
            f"other outcomes {other}, original genre dropped {dropped}, hangs {hangs}, tracebacks {tracebacks})"]


# -- 2 -----------------------------------------------------------------------------------------------

def item_set_undo(c: Campaign) -> list[str]:
    runs = c.runs
    files = wrong = set_written = undo_written = refusals = hangs = tracebacks = 0
    for run in range(runs):
        scratch = c.scratch("set-undo")
        env = c.env(scratch)
        paths = make_library(scratch / "library", 8)
        first = c.run(env, "set", "--json", "--genre", f"Undone {run}", *paths)
        batch = next(iter(first.records().values()), {}).get("batch")
        if batch is None:
            return [f"set/undo: the first set wrote nothing (rc {first.rc}): {first.err.strip()[-300:]}"]
        before = {p: genres_of(p) for p in paths}
        setter = c.start(env, "set", "--json", "--genre", f"Kept {run}", *paths)
        undoer = c.start(env, "undo", "--json", batch)  # named: not the set's unfinished batch
        set_done, undo_done = setter.wait(), undoer.wait()
        hangs += set_done.hung + undo_done.hung
        tracebacks += set_done.traceback + undo_done.traceback
        set_records, undo_records = set_done.records(), undo_done.records()
        for path in paths:
            files += 1
            set_record = set_records.get(str(path), {})
            undo_record = undo_records.get(str(path), {})
            refusals += (set_record.get("status") == "error") + (undo_record.get("status") == "error")
            if set_record.get("status") == "written":
                set_written += 1
                expected = set_record.get("new_genres")
            elif undo_record.get("status") == "written":
                expected = undo_record.get("new_genres")
            else:
                expected = before[path]
            undo_written += undo_record.get("status") == "written"
            wrong += genres_of(path) != expected
    return [f"set/undo contradictions: {wrong} of {files} files (runs {runs}; set wrote {set_written}, "
            f"undo wrote {undo_written}, refusals {refusals}, hangs {hangs}, tracebacks {tracebacks})"]


# -- 3 -----------------------------------------------------------------------------------------------

HOLDER_SAVE_LATER = """
import sys
with open(sys.argv[1], "ab") as f:
    print("open", flush=True)
    sys.stdin.readline()  # a tag editor with the file open, saving later
    for record in range(100):
        f.write(b"record %d;" % record)
print(100, flush=True)
"""

HOLDER_STREAM = """
import select, sys
written = 0
with open(sys.argv[1], "ab", buffering=0) as f:
    print("open", flush=True)
    while True:  # a recorder appending every 10 ms until told to stop
        f.write(b"record %d;" % written)
        written += 1
        if select.select([sys.stdin], [], [], 0.01)[0]:
            break
print(written, flush=True)
"""


def item_open_for_writing(c: Campaign) -> list[str]:
    lines = []
    holders = (("saves after set", HOLDER_SAVE_LATER), ("appends every 10 ms while set runs", HOLDER_STREAM))
    for label, script in holders:
        total = lost = wrote = refused = hangs = tracebacks = 0
        for run in range(c.runs):
            scratch = c.scratch("holder")
            env = c.env(scratch)
            path = make_file(scratch / "library" / f"held.{('mp3', 'flac', 'ogg')[run % 3]}")
            holder = subprocess.Popen([sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, preexec_fn=_limit_memory)
            try:
                assert holder.stdout.readline().strip() == "open"
                done = c.run(env, "set", "--json", "--genre", "Swapped", path)
                time.sleep(0.2)  # the streaming holder goes on writing after the set
                holder.stdin.write("stop\n")
                holder.stdin.flush()
                out, _ = holder.communicate(timeout=60)
            finally:
                if holder.poll() is None:
                    holder.kill()
                    holder.wait()
            records = int(out.split()[-1])
            present = path.read_bytes().count(b"record ")
            total += records
            lost += max(0, records - present)
            status = done.records().get(str(path), {}).get("status")
            wrote += status == "written"
            refused += status == "error"
            hangs += done.hung
            tracebacks += done.traceback
        lines.append(f"file open for writing, {label}: {lost} of {total} records lost (runs {c.runs}; "
                     f"set wrote {wrote}, refused {refused}, hangs {hangs}, tracebacks {tracebacks})")
    return lines


# -- 4 -----------------------------------------------------------------------------------------------

# Old code's WAL journal runs out of room at up to ~170 KB free, the new one below ~64 KB.
FREE_KB = (0, 16, 32, 64, 96, 112, 128, 144, 160, 192)


def fill(folder: Path, leave_kb: int) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 65536):
            pass
    except OSError:
        pass
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    if leave_kb:
        os.truncate(filler, max(0, filler.stat().st_size - leave_kb * 1024))
    return filler


def item_full_disk(c: Campaign) -> list[str]:
    files = bad = bad_runs = written = unchanged_written = restored = tracebacks = hangs = 0
    for free_kb in FREE_KB:
        scratch = c.scratch("full")
        data = scratch / "data"
        data.mkdir()
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(data)],
                               capture_output=True, text=True)
        if mount.returncode:
            why = mount.stderr.strip() or f"exit {mount.returncode}"
            return [f"full journal disk: skipped, cannot mount a tmpfs here ({why})"]
        try:
            env = c.env(scratch, XDG_DATA_HOME=str(data))
            paths = make_library(scratch / "library", 4)
            originals = {p: digest(p) for p in paths}
            c.run(env, "history")  # creates the journal while there is room
            filler = fill(data, free_kb)
            done = c.run(env, "set", "--json", "--genre", "Full", *paths)
            records = done.records()
            run_bad = False
            for path in paths:
                files += 1
                changed = digest(path) != originals[path]
                record = records.get(str(path), {})
                said_written = record.get("status") == "written"
                message = json.dumps(record)
                if changed and (not said_written or "unchanged" in message):
                    bad += 1
                    run_bad = True
                written += said_written
                unchanged_written += said_written and not changed
            bad_runs += run_bad
            filler.unlink()
            finish = c.run(env, "finish")
            undo = c.run(env, "undo")
            restored += all(digest(p) == originals[p] for p in paths)
            tracebacks += done.traceback + finish.traceback + undo.traceback
            hangs += done.hung + finish.hung + undo.hung
        finally:
            if subprocess.run(["umount", str(data)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(data)], capture_output=True)
    levels = len(FREE_KB)
    return [f"full journal disk: changed but reported unchanged/error: {bad} of {files} files, in {bad_runs} of "
            f"{levels} runs (free KB {','.join(map(str, FREE_KB))} of a 6 MiB tmpfs); reported written {written}, "
            f"of them unchanged {unchanged_written}; finish+undo restored the original bytes in {restored} of "
            f"{levels} runs; tracebacks {tracebacks}, hangs {hangs}"]


# -- 5 -----------------------------------------------------------------------------------------------

def damage(path: Path, kind: str) -> None:
    data = bytearray(path.read_bytes())
    if kind == "cut to 8 KB":
        path.write_bytes(data[:8192])
    elif kind == "garbled header":
        data[:16] = b"garbage garbage!"
        path.write_bytes(data)
    elif kind == "garbled page":
        data[4096:8192] = np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8).tobytes()
        path.write_bytes(data)
    elif kind == "a folder in its place":
        path.unlink()
        path.mkdir()
    elif kind == "cut to zero":
        path.write_bytes(b"")


def item_damaged_journal(c: Campaign) -> list[str]:
    lines = []
    can_recover = c.has("journal", "recover", option="FILE")
    total_tb = total_commands = works = 0
    for kind in ("cut to 8 KB", "garbled header", "garbled page", "a folder in its place", "cut to zero"):
        scratch = c.scratch("damage")
        env = c.env(scratch)
        paths = make_library(scratch / "library", 6)
        extra = make_file(scratch / "other" / "extra.flac")
        for number in range(3):
            c.run(env, "set", "--genre", f"Round {number}", *paths)
        journal = Path(env["XDG_DATA_HOME"]) / "genre-tagger" / "journal.sqlite3"
        if not journal.is_file():
            return [f"damaged journal: no journal at {journal} after three sets"]
        damage(journal, kind)
        commands = [("history",), ("undo",), ("finish",), ("set", "--genre", "After", extra)]
        done = [c.run(env, *command) for command in commands]
        tb = [command[0] for command, d in zip(commands, done) if d.traceback]
        hung = [command[0] for command, d in zip(commands, done) if d.hung]
        total_tb += len(tb)
        total_commands += len(commands)
        if can_recover:
            recover = c.run(env, "journal", "recover")
            numbers = [int(n) for n in re.findall(r"is now batch (\d+)", recover.out)]
            back = f"{len(numbers)} batch(es) back"
            ok = False
            if numbers:
                c.run(env, "undo", "--json", max(numbers))
                ok = all(genres_of(p) == ["Round 1"] for p in paths)
            works += ok
            after = f"journal recover: {back}, undo then restores the batch's files: {'yes' if ok else 'no'}" + (
                "; recover: Traceback" if recover.traceback else "")
        else:
            after = "journal recover: n/a (the tree has no such command)"
        lines.append(f"damaged journal ({kind}): tracebacks in {len(tb)} of {len(commands)} commands "
                     f"(history, undo, finish, set)" + (f": {', '.join(tb)}" if 0 < len(tb) < len(commands) else "")
                     + f", hangs {len(hung)}; {after}")
    lines.append(f"damaged journal, all kinds: tracebacks in {total_tb} of {total_commands} commands; undo works "
                 f"after journal recover in " + (f"{works} of 5 kinds" if can_recover else "n/a"))
    return lines


# -- 6 -----------------------------------------------------------------------------------------------

def item_irregular(c: Campaign) -> list[str]:
    scratch = c.scratch("fifo")
    env = c.env(scratch)
    (scratch / "library").mkdir()
    fifo = scratch / "library" / "x.mp3"
    os.mkfifo(fifo)
    commands = {"set": ("set", "--genre", "Jazz", fifo), "genres": ("genres", fifo),
                "normalise": ("normalise", fifo), "rename": ("rename", "Rock", "Jazz", fifo)}
    hung, tb, codes = [], [], []
    for name, command in commands.items():
        done = c.run(env, *command, timeout=IRREGULAR_TIMEOUT)
        if done.hung:
            hung.append(name)
        else:
            codes.append(f"{name} {done.rc}")
        if done.traceback:
            tb.append(name)
    zero = c.run(env, "genres", "/dev/zero", timeout=IRREGULAR_TIMEOUT)
    outcome = (f"hang (killed after {IRREGULAR_TIMEOUT} s)" if zero.hung
               else f"exit {zero.rc} after {zero.seconds:.1f} s")
    memory = "MemoryError" in zero.err
    return [f"FIFO as a path: hangs {len(hung)} of {len(commands)} commands ({', '.join(hung) or 'none'}; "
            f"timeout {IRREGULAR_TIMEOUT} s); exits {', '.join(codes) or 'none'}; tracebacks {len(tb)}",
            f"genres /dev/zero: {outcome}, peak RSS {zero.maxrss_kb / 1024:.0f} MB (address space capped at "
            f"{MEMORY_CAP >> 30} GiB), traceback {'yes' if zero.traceback else 'no'}"
            + (" (MemoryError)" if memory else "")]


# -- 7 -----------------------------------------------------------------------------------------------

CONTROLS = bytes([*range(0x20), 0x7F]).replace(b"\n", b"")
C1 = [chr(c).encode() for c in range(0x80, 0xA0)]


def raw_controls(data: bytes) -> tuple[int, int]:
    """Raw ESC bytes, and other raw control characters (C0 but newline, DEL, UTF-8 C1)."""
    esc = data.count(b"\x1b")
    other = sum(data.count(bytes([b])) for b in CONTROLS if b != 0x1B) + sum(data.count(c) for c in C1)
    return esc, other


def item_escapes(c: Campaign) -> list[str]:
    scratch = c.scratch("escape")
    env = c.env(scratch)
    folder = scratch / "library"
    tagged = make_file(folder / "esc \x1b]0;owned\x07 title.flac", genre="Rock\x1b[31m\x07 red")
    (folder / "broken \x1b[2J clear.mp3").write_bytes(b"")  # an unreadable file: its name in an error
    genres = c.run(env, "genres", folder)
    setting = c.run(env, "set", "--genre", "Jazz\x1b[32m\x9b2J green", tagged)
    parts = []
    for name, done in (("genres", genres), ("set", setting)):
        esc, other = raw_controls(done.out_bytes + done.err_bytes)
        parts.append(f"{name} {esc} (other raw controls {other}, exit {done.rc}"
                     + (", Traceback" if done.traceback else "") + ")")
    return [f"escape sequences in a tag and a file name: raw ESC bytes in text output: {'; '.join(parts)}; "
            f"suggest not run (it loads the model)"]


# -- 8 -----------------------------------------------------------------------------------------------

def item_first_run(c: Campaign) -> list[str]:
    runs = 2 * c.runs + 1
    locked = tracebacks = failed = hangs = processes = 0
    library = make_library(c.scratch("first-run-library") / "library", 4)
    for run in range(runs):
        env = c.env(c.scratch("first-run"))
        children = [c.start(env, "set", "--json", "--genre", f"G{run}", path) for path in library]
        for done in [child.wait() for child in children]:
            processes += 1
            locked += "database is locked" in done.err
            tracebacks += done.traceback
            failed += done.rc != 0
            hangs += done.hung
    return [f"first-run race: 'database is locked' in {locked} of {processes} processes ({runs} runs of 4 at "
            f"once on a fresh profile); tracebacks {tracebacks}, non-zero exits {failed}, hangs {hangs}"]


# -- 9 -----------------------------------------------------------------------------------------------

def item_sigterm(c: Campaign) -> list[str]:
    codes, left, tracebacks, mixed, late, no_start = [], 0, 0, 0, 0, 0
    delays = random.Random(9)
    for _ in range(c.runs):
        scratch = c.scratch("sigterm")
        env = c.env(scratch, PYTHONUNBUFFERED="1")  # its first JSON line is seen when printed
        folder = scratch / "library"
        paths = make_library(folder, 40)
        child = c.start(env, "set", "--json", "--genre", "Stopped", *paths)
        deadline = time.monotonic() + TIMEOUT
        while b'"status"' not in child.output_so_far() and child.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if child.proc.returncode is not None:  # poll() reaped it: it ended before its first write
            no_start += 1
            _running.discard(child.pid)
            continue
        time.sleep(delays.uniform(0, 0.3))  # at some point of a later file's write
        child.send(signal.SIGTERM)
        done = child.wait(120)
        codes.append("hang" if done.hung else f"killed by {signal.Signals(-done.rc).name}" if done.rc < 0
                     else done.rc)
        tracebacks += done.traceback
        late += len(done.records()) == len(paths)
        left += any(p.name.startswith(".genre-tagger-") for p in folder.iterdir())
        mixed += sum(genres_of(p) not in (["Original"], ["Stopped"]) for p in paths)
    runs = c.runs - no_start
    return [f"SIGTERM during a set of 40 files: exit codes {counts(codes)}; a temporary copy .genre-tagger-* left "
            f"in {left} of {runs} runs; tracebacks {tracebacks}; files neither old nor new {mixed}; runs whose "
            f"batch ended before the signal {late}" + (f"; runs that ended before their first write {no_start}"
                                                        if no_start else "")]


# -- 10 ----------------------------------------------------------------------------------------------

def item_moved_and_newline(c: Campaign) -> list[str]:
    scratch = c.scratch("moved")
    env = c.env(scratch)
    old = scratch / "Old name"
    paths = make_library(old, 2) + make_library(old / "disc 2", 1)
    done = c.run(env, "set", "--json", "--genre", "Moved", *paths)
    batch = next(iter(done.records().values()), {}).get("batch")
    new = scratch / "New name"
    old.rename(new)
    moved = [new / p.relative_to(old) for p in paths]
    plain = c.run(env, "undo")
    restored_plain = sum(genres_of(p) == ["Original"] for p in moved)
    line = (f"undo after renaming the folder: plain undo exit {plain.rc}, restored {restored_plain} of "
            f"{len(moved)}" + (", Traceback" if plain.traceback else ""))
    if batch is not None and c.has("undo", option="--root"):
        rooted = c.run(env, "undo", batch, "--root", new, "--json")
        restored = sum(genres_of(p) == ["Original"] for p in moved)
        line += f"; undo {batch} --root NEW exit {rooted.rc}, restored {restored} of {len(moved)}"
    else:
        line += "; undo BATCH --root NEW: n/a (the tree has no --root)"

    scratch = c.scratch("newline")
    env = c.env(scratch)
    name = "nl\nwritten   forged.flac"
    path = make_file(scratch / "library" / name, genre="Rock")
    forged = {}
    for command in (("set", "--genre", "Jazz", path), ("genres", path.parent)):
        done = c.run(env, *command)
        # The name's own newline printed raw: a line of output that the program did not write.
        forged[command[0]] = sum(text.startswith("written   forged.flac") for text in done.out.splitlines())
    nl = (f"newline in a file name: forged output lines in text output: set {forged['set']}, "
          f"genres {forged['genres']}")
    return [line, nl]


ITEMS = {1: item_merge, 2: item_set_undo, 3: item_open_for_writing, 4: item_full_disk,
         5: item_damaged_journal, 6: item_irregular, 7: item_escapes, 8: item_first_run, 9: item_sigterm,
         10: item_moved_and_newline}


def describe(tree: Path) -> str:
    commit = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True).stdout.strip()
    return f"{tree} ({commit[:90] or 'not a git checkout'})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, metavar="N",
                        help="runs of the repeated items (default 10; item 1 runs 2N, item 8 2N+1)")
    parser.add_argument("--tree", type=Path, default=REPO, metavar="PATH",
                        help="the source tree whose CLI runs (default: the repository of this script)")
    parser.add_argument("--items", default=",".join(map(str, ITEMS)), metavar="LIST",
                        help="comma-separated item numbers (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    # `python -m tagger.cli` runs tagger/cli.py in trees from before the packages, tagger/cli/__main__.py since.
    if not any((tree / "tagger" / name).is_file() for name in ("cli.py", "cli/__main__.py")):
        parser.error(f"{tree} holds no tagger/cli.py or tagger/cli/__main__.py")
    items = [int(n) for n in args.items.split(",") if n.strip()]
    base = Path(tempfile.mkdtemp(prefix="fault-campaign-"))
    campaign = Campaign(tree, args.runs, base)
    where = campaign.run(campaign.env(campaign.scratch("where")), "--version", timeout=60)
    print(f"fault campaign (issue 21) of {describe(tree)}", flush=True)
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} CPUs, load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, Python {platform.python_version()}, runs {args.runs}"
          + ("" if where.rc == 0 else f"; '--version' failed: {where.err.strip()[-200:]}"), flush=True)
    started = time.monotonic()
    try:
        for number in items:
            began = time.monotonic()
            try:
                lines = ITEMS[number](campaign)
            except Exception as e:  # one broken item does not cost the others
                lines = [f"script error: {type(e).__name__}: {e}"]
            for line in lines:
                print(f"{number:>2}. {line}  [{time.monotonic() - began:.0f} s]" if line is lines[-1]
                      else f"{number:>2}. {line}", flush=True)
    finally:
        _kill_leftovers()
        if args.keep:
            print(f"scratch kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"total {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

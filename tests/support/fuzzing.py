"""Fuzzing the tag writer and the analysis with mutated audio files.

The mutator is byte-level and seeded: ``mutate(data, seed)`` is a pure function of the
seed file's bytes and an integer, so a failure is reproduced from the seed file and the
number alone (the Ogg seeds made by tagfiles.py get a random stream serial, so keep the
seed file or the mutant itself, which a failing test leaves in its folder).

Each mutant gets 1 to 6 mutations. The first lands near the start or the end of the
file, where the tags live (ID3v2, FLAC metadata blocks, the ASF header; ID3v1, APEv2,
the MP4 moov atom, WAV/AIFF ID3 chunks), with offsets skewed towards the very edge
where the headers and size fields are; the second lands anywhere, mostly in the audio;
the rest are drawn from both.

The runner checks the command line the way a person's library would hit it: each
mutant gets its own ``set`` subprocess (a crash of one file must not be hidden by
another), and ``suggest`` takes mutants in batches since loading the models costs about
a second; a crash there shows as missing lines, and those files are then run one by one.
Both must exit with 0 or 1, print no traceback, and print one JSON line per file; a file
``set`` refused (or left unchanged) and every file ``suggest`` saw keeps its bytes; a
written file reads back the genre, with its other tags as mutagen read them before;
``suggest``'s numbers are finite and its confidences within 0..1.

Reproduce one mutant from the command line:

    PYTHONPATH=tests python -m support.fuzzing SEED_FILE_OR_KIND SEED [OUT]

prints the mutations and writes the mutant to OUT (default: next to the seed file, or
the current folder for a kind, which is built with tagfiles.make first).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from support.paths import REPO

# --- the mutator -------------------------------------------------------------------

EDGE = 8192  # bytes at each end of a file counted as its tag region
OPS = {  # operation: weight
    "flip": 24, "interesting": 14, "insert": 12, "delete": 12, "zero": 12, "duplicate": 12, "truncate": 6,
}
COUNTS = {1: 30, 2: 25, 3: 20, 4: 12, 5: 8, 6: 5}  # mutations per mutant: weight
# Values that sit on the edges of size and count fields, in the widths those fields have.
INTERESTING = [
    b"\x00", b"\xff", b"\x7f", b"\x80", b"\x01",
    b"\x00\x00", b"\xff\xff", b"\x7f\xff", b"\x80\x00", b"\xff\x7f", b"\x00\x80",
    b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00",
    b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80", b"\x00\x00\x00\x01", b"\x01\x00\x00\x00",
    b"\x00\x00\xff\xff", b"\x00\x01\x00\x00", b"\x7f\x7f\x7f\x7f",  # the largest ID3 synchsafe size
    b"\xff\xff\xff\xff\xff\xff\xff\xff", b"\x00\x00\x00\x00\x00\x00\x00\x00", b"\x7f\xff\xff\xff\xff\xff\xff\xff",
]


@dataclass(frozen=True)
class Mutation:
    """One edit, with offsets into the bytes as they were when it was applied."""

    op: str
    offset: int
    length: int = 0  # delete, zero, duplicate: bytes affected
    data: bytes = b""  # flip: the XOR mask; insert, interesting: the bytes written
    source: int = 0  # duplicate: where the copied chunk starts

    @property
    def target(self) -> int:
        """Where the mutation reads the file: the copied chunk for a duplicate, else its offset."""
        return self.source if self.op == "duplicate" else self.offset

    def apply(self, buf: bytearray) -> None:
        at = self.offset
        if self.op == "flip":
            for i, mask in enumerate(self.data):
                if at + i < len(buf):
                    buf[at + i] ^= mask
        elif self.op == "interesting":
            buf[at:at + len(self.data)] = self.data
        elif self.op == "insert":
            buf[at:at] = self.data
        elif self.op == "delete":
            del buf[at:at + self.length]
        elif self.op == "zero":
            end = min(len(buf), at + self.length)
            buf[at:end] = bytes(end - at)
        elif self.op == "duplicate":
            buf[at:at] = bytes(buf[self.source:self.source + self.length])
        elif self.op == "truncate":
            del buf[at:]
        else:
            raise ValueError(f"unknown mutation {self.op!r}")

    def __str__(self) -> str:
        if self.op in ("flip", "interesting", "insert"):
            shown = self.data[:8].hex() + ("..." if len(self.data) > 8 else "")
            return f"{self.op}@{self.offset}[{len(self.data)}]={shown}"
        if self.op == "duplicate":
            return f"duplicate {self.source}+{self.length}@{self.offset}"
        if self.op == "truncate":
            return f"truncate@{self.offset}"
        return f"{self.op}@{self.offset}+{self.length}"


def rng_for(data: bytes, seed: int) -> random.Random:
    # Seeding with bytes is stable across runs and Python versions (it hashes them with SHA-512).
    return random.Random(hashlib.sha256(data).digest() + seed.to_bytes(8, "big", signed=True))


def _length(rng: random.Random, largest: int) -> int:
    """1..largest, log-uniform: mostly a few bytes, sometimes kilobytes."""
    return max(1, min(largest, int(2 ** rng.uniform(0, math.log2(max(2, largest))))))


def _position(rng: random.Random, size: int, region: str, end_inclusive: bool = False) -> int:
    """An offset in ``region``: "tags" (either end, skewed to the edge) or "body" (anywhere)."""
    limit = size + 1 if end_inclusive else size
    if limit <= 0:
        return 0
    if region == "body":
        return rng.randrange(limit)
    depth = int(min(EDGE, limit) * rng.random() ** 2)
    return min(depth, limit - 1) if rng.random() < 0.55 else max(0, limit - 1 - depth)


def _mutation(rng: random.Random, buf: bytearray, region: str, truncated: bool) -> Mutation:
    size = len(buf)
    ops = {op: w for op, w in OPS.items() if not (truncated and op == "truncate")}
    if size == 0:
        ops = {"insert": 1}
    op = rng.choices(list(ops), weights=list(ops.values()))[0]
    if op == "insert":
        at = _position(rng, size, region, end_inclusive=True)
        n = _length(rng, 1024)
        fill = rng.random()
        data = (bytes([rng.choice((0, 0xFF))]) * n if fill < 0.3
                else rng.choice(INTERESTING) if fill < 0.5 else rng.randbytes(n))
        return Mutation(op, at, data=data)
    at = _position(rng, size, region)
    if op == "flip":
        n = rng.choice((1, 1, 1, 2, 4))
        mask = bytes((1 << rng.randrange(8)) | (rng.getrandbits(8) if rng.random() < 0.2 else 0) for _ in range(n))
        return Mutation(op, at, data=mask)
    if op == "interesting":
        value = rng.choice(INTERESTING)
        return Mutation(op, at, data=value[:size - at])
    if op == "truncate":
        return Mutation(op, at)
    n = _length(rng, min(4096, size - at))
    if op in ("delete", "zero"):
        return Mutation(op, at, n)
    # duplicate: mostly repeat the chunk in place (a doubled frame or atom), sometimes copy it elsewhere.
    dest = at + n if rng.random() < 0.6 else _position(rng, size, rng.choice(("tags", "body")), end_inclusive=True)
    return Mutation(op, dest, n, source=at)


def plan_and_apply(data: bytes, seed: int) -> tuple[bytes, list[Mutation]]:
    rng = rng_for(data, seed)
    buf = bytearray(data)
    count = rng.choices(list(COUNTS), weights=list(COUNTS.values()))[0]
    mutations: list[Mutation] = []
    i = 0
    # Zeroing zeros or writing a value that is already there changes nothing: go on until it does.
    while i < count or (buf == data and i < count + 20):
        region = "tags" if i == 0 else "body" if i == 1 else rng.choice(("tags", "body"))
        mutation = _mutation(rng, buf, region, any(m.op == "truncate" for m in mutations))
        mutation.apply(buf)
        mutations.append(mutation)
        i += 1
    return bytes(buf), mutations


def mutate(data: bytes, seed: int) -> bytes:
    """The mutant of ``data`` for ``seed``; see plan_and_apply for what was done."""
    return plan_and_apply(data, seed)[0]


def apply(data: bytes, mutations: Iterable[Mutation]) -> bytes:
    buf = bytearray(data)
    for mutation in mutations:
        mutation.apply(buf)
    return bytes(buf)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the runner --------------------------------------------------------------------

SET_TIMEOUT_S = 60.0
SUGGEST_TIMEOUT_S = 120.0  # a batch gets this plus SUGGEST_FILE_S for each file
SUGGEST_FILE_S = 10.0
SET_STATUSES = {"written", "unchanged", "error"}
SUGGEST_STATUSES = {"ok", "error"}
MEMORY_LIMIT_KB = 4 * 1024 * 1024  # `set` on a file of a few hundred kB has no business near this


@dataclass
class Case:
    """One mutant: ``path`` is where it is written, ``seed_path`` the file it came from."""

    kind: str
    seed: int
    seed_path: Path
    path: Path
    mutations: list[Mutation] = field(default_factory=list)
    digest: str = ""
    record: dict = field(default_factory=dict)  # the line `set` printed for it

    def describe(self) -> str:
        return f"{self.kind} seed {self.seed} ({self.seed_path.name}): " + ", ".join(map(str, self.mutations))

    def reproduce(self) -> str:
        return f"PYTHONPATH=tests python -m support.fuzzing {self.seed_path} {self.seed} {self.path.name}"


@dataclass
class Failure:
    case: Case | None  # None: a batch check that no single mutant explains
    command: str  # "set" or "suggest"
    check: str  # the rule broken, e.g. "exit code", "traceback"
    detail: str  # what happened: the traceback's last line, the odd output
    output: str = ""  # stderr and stdout, for the report

    @property
    def symptom(self) -> tuple[str, str, str]:
        return self.command, self.check, normalise(self.detail)

    def describe(self) -> str:
        where = self.case.describe() + f"\n      reproduce: {self.case.reproduce()}" if self.case else "(batch)"
        return f"{self.command}: {self.check}: {self.detail}\n      {where}"


def normalise(text: str) -> str:
    """A failure's detail without what differs between mutants: paths, numbers, hex."""
    text = re.sub(r"(/[^\s'\":,]+)+", "<path>", text)
    text = re.sub(r"0x[0-9a-fA-F]+|\b[0-9a-f]{16,}\b", "<hex>", text)
    return re.sub(r"\d+", "<n>", text)[:300]


def last_traceback_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no stderr)"


def child_env(home: Path) -> dict[str, str]:
    """The environment of a child: its own journal, cache and settings under ``home``."""
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["PYTHONFAULTHANDLER"] = "1"  # a native crash prints the Python stack on its way out
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_cli(args: Sequence[str], env: dict[str, str], timeout: float,
            memory_limit_kb: int | None = None) -> tuple[int | None, str, str, float]:
    """(exit code or None on a timeout, stdout, stderr, seconds)."""
    command = [sys.executable, "-m", "tagger.cli", *args]
    if memory_limit_kb:
        command = ["sh", "-c", f'ulimit -v {memory_limit_kb}; exec "$@"', "sh", *command]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env, cwd=REPO)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        return None, out, err, time.perf_counter() - started
    return (done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"),
            time.perf_counter() - started)


def process_problems(command: str, case: Case | None, code: int | None, out: str, err: str,
                     timeout: float) -> list[Failure]:
    """The checks every run shares: it ended by itself, with 0 or 1, and without a traceback."""
    output = f"exit {code}\n--- stderr\n{err[-3000:]}\n--- stdout\n{out[-2000:]}"
    failures = []
    if code is None:
        failures.append(Failure(case, command, "timeout", f"still running after {timeout:.0f} s", output))
    elif code < 0:
        failures.append(Failure(case, command, "crash", f"killed by signal {-code}: {last_traceback_line(err)}",
                                output))
    elif code not in (0, 1):
        failures.append(Failure(case, command, "exit code", f"exit {code}: {last_traceback_line(err)}", output))
    if "Traceback" in err:
        failures.append(Failure(case, command, "traceback", last_traceback_line(err), output))
    return failures


def json_lines(out: str) -> tuple[list[dict], list[str]]:
    """The records on stdout, and the lines that are not one."""
    records, bad = [], []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        (records if isinstance(record, dict) else bad).append(record if isinstance(record, dict) else line)
    return records, bad


# Kinds whose write adds an ID3v2.3 tag beside the old one, so other tags change form (TDRC -> TYER).
CONVERTED_KINDS = {"mp3-id3v1", "mp3-id3v22"}


def other_tags(case: Case):
    """Every tag but the genres as mutagen reads them (tagfiles.other_tags), or None where it cannot."""
    from support import tagfiles

    if case.kind in CONVERTED_KINDS:
        return None
    try:
        return tagfiles.other_tags(case.path)
    except Exception:  # a mutant mutagen cannot read: nothing to compare with
        return None


def check_written(case: Case, genre: str, before) -> list[Failure]:
    from tagger.tags import read_tags

    try:
        genres = read_tags(case.path).genres
    except Exception as e:  # any failure to read back is the finding
        return [Failure(case, "set", "read back", f"the written file does not read: {type(e).__name__}: {e}")]
    if genres != [genre]:
        return [Failure(case, "set", "read back", f"the written file reads back genres {genres}, not [{genre!r}]")]
    if before is not None:
        after = other_tags(case)
        if after != before:
            lost = [item for item in before[0] if after is None or item not in after[0]]
            return [Failure(case, "set", "other tags", f"other tags changed with the genre; lost {str(lost)[:300]}")]
    return []


def check_set(case: Case, home: Path, genre: str = "Fuzz") -> tuple[list[Failure], str, float]:
    """Run ``set`` on one mutant in its own process; (failures, status, seconds)."""
    before = other_tags(case)
    code, out, err, seconds = run_cli(["set", "--genre", genre, "--json", str(case.path)], child_env(home),
                                      SET_TIMEOUT_S, MEMORY_LIMIT_KB)
    failures = process_problems("set", case, code, out, err, SET_TIMEOUT_S)
    output = f"exit {code}\n--- stderr\n{err[-3000:]}\n--- stdout\n{out[-2000:]}"
    records, bad = json_lines(out)
    if bad or len(records) != 1:
        if not failures:  # a crash, timeout or traceback already explains it
            failures.append(Failure(case, "set", "output",
                                    f"{len(records)} JSON line(s) and {len(bad)} other line(s), not one line", output))
        return failures, "?", seconds
    record = case.record = records[0]
    status = record.get("status")
    if record.get("path") != str(case.path) or status not in SET_STATUSES:
        failures.append(Failure(case, "set", "output", f"unexpected record {json.dumps(record)[:300]}", output))
        return failures, str(status), seconds
    if code is not None and code >= 0 and (code == 1) != (status == "error"):
        failures.append(Failure(case, "set", "exit code", f"exit {code} for status {status}", output))
    if status in ("error", "unchanged") and sha256(case.path) != case.digest:
        failures.append(Failure(case, "set", "untouched", f"status {status} but the file's bytes changed "
                                f"({record.get('error') or record.get('message')})", output))
    if status == "written":
        failures += check_written(case, genre, before)
    if status == "error" and not record.get("error"):
        failures.append(Failure(case, "set", "output", "status error without an error message", output))
    return failures, status, seconds


def finite_numbers(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return True


def check_suggest_record(case: Case, record: dict, output: str) -> list[Failure]:
    status = record.get("status")
    if status not in SUGGEST_STATUSES:
        return [Failure(case, "suggest", "output", f"unexpected status in {json.dumps(record)[:300]}", output)]
    if status == "error":
        return [] if record.get("error") else [Failure(case, "suggest", "output", "status error without a message")]
    if not finite_numbers(record):
        return [Failure(case, "suggest", "values", f"a number is NaN or infinite: {json.dumps(record)[:400]}")]
    problems = [f"confidence {g['confidence']} of {g['genre']}" for g in record.get("genres", [])
                if not 0.0 <= g["confidence"] <= 1.0]
    if record.get("duration_s", 0) < 0:
        problems.append(f"duration {record['duration_s']}")
    return [Failure(case, "suggest", "values", "; ".join(problems))] if problems else []


def check_suggest(cases: Sequence[Case], home: Path, isolate: bool = True,
                  statuses: dict[str, int] | None = None) -> tuple[list[Failure], float]:
    """Run ``suggest`` over ``cases`` in one process. Files that get no line (a crash or a
    hang part-way) are run again one by one, so that the failure names its file. The
    statuses of the records are counted into ``statuses``."""
    statuses = {} if statuses is None else statuses
    timeout = SUGGEST_TIMEOUT_S + SUGGEST_FILE_S * len(cases)
    args = ["suggest", "--json", "--no-cache", "--device", "cpu", *(str(c.path) for c in cases)]
    code, out, err, seconds = run_cli(args, child_env(home), timeout)
    one = cases[0] if len(cases) == 1 else None
    output = f"exit {code}\n--- stderr\n{err[-3000:]}\n--- stdout\n{out[-2000:]}"
    failures = process_problems("suggest", one, code, out, err, timeout)
    records, bad = json_lines(out)
    by_path: dict[str, list[dict]] = {}
    for record in records:
        by_path.setdefault(str(record.get("path")), []).append(record)
    if bad:
        failures.append(Failure(one, "suggest", "output",
                                f"{len(bad)} line(s) that are not JSON objects: {bad[0][:200]}", output))
    missing = [c for c in cases if str(c.path) not in by_path]
    for case in cases:
        got = by_path.pop(str(case.path), [])
        if len(got) > 1:
            failures.append(Failure(case, "suggest", "output", f"{len(got)} lines for one file", output))
        for record in got[:1]:
            statuses[str(record.get("status"))] = statuses.get(str(record.get("status")), 0) + 1
            failures += check_suggest_record(case, record, output)
        if sha256(case.path) != case.digest:
            failures.append(Failure(case, "suggest", "untouched", "suggest changed the file's bytes"))
    if by_path:
        failures.append(Failure(one, "suggest", "output", f"lines for paths it was not given: {sorted(by_path)[:3]}",
                                output))
    errors = sum(r.get("status") == "error" for r in records)
    if code is not None and code in (0, 1) and (code == 1) != (errors > 0):
        failures.append(Failure(one, "suggest", "exit code", f"exit {code} with {errors} error record(s)", output))
    if missing and (len(cases) == 1 or not isolate) and not failures:  # nothing else explains it
        failures.append(Failure(one, "suggest", "output", f"no line for {len(missing)} file(s)", output))
    batch_level = [f for f in failures if f.case is None]
    if isolate and len(cases) > 1 and (missing or batch_level):
        # Which file did it: the files without a line (or, for a traceback in a batch
        # whose every file got its line, all of them), each on its own.
        alone: list[Failure] = []
        for case in missing or cases:
            more, extra = check_suggest([case], home, isolate=False,
                                        statuses=statuses if case in missing else {})
            alone += [f for f in more if f.case is not None]
            seconds += extra
        if alone:
            failures = [f for f in failures if f.case is not None] + alone
        else:
            failures += [Failure(None, "suggest", "batch only",
                                 f"{len(missing)} file(s) without a line, or a batch-level problem, "
                                 f"that no file shows alone", output)]
    return failures, seconds


@dataclass
class Campaign:
    """What a run found: failures, the status counts, and where the time went."""

    failures: list[Failure] = field(default_factory=list)
    set_statuses: dict[str, int] = field(default_factory=dict)
    suggest_statuses: dict[str, int] = field(default_factory=dict)
    set_seconds: list[float] = field(default_factory=list)
    suggest_seconds: float = 0.0
    mutants: int = 0
    code_changed: bool = False  # tagger/ was edited while the campaign ran
    set_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    set_errors: dict[str, int] = field(default_factory=dict)  # why `set` refused files, normalised

    def grouped(self) -> dict[tuple[str, str, str], list[Failure]]:
        groups: dict[tuple[str, str, str], list[Failure]] = {}
        for failure in self.failures:
            groups.setdefault(failure.symptom, []).append(failure)
        return groups

    def summary(self) -> str:
        mean = sum(self.set_seconds) / max(1, len(self.set_seconds))
        lines = [f"{self.mutants} mutants; set: {self.set_statuses}, {mean:.2f} s per call; "
                 f"suggest: {self.suggest_statuses}, {self.suggest_seconds:.1f} s in all; "
                 f"{len(self.failures)} failure(s) in {len(self.grouped())} distinct symptom(s)"]
        lines.append("set statuses by kind: " + "; ".join(
            f"{kind} " + " ".join(f"{status}={n}" for status, n in sorted(counts.items()))
            for kind, counts in sorted(self.set_by_kind.items())))
        lines.append("set refused files because: " + " | ".join(
            f"{n}x {message}" for message, n in sorted(self.set_errors.items(), key=lambda kv: -kv[1])))
        if self.code_changed:
            lines.append("NOTE: tagger/ changed while this ran; a failure may come from a half-made edit")
        for failures in sorted(self.grouped().values(), key=len, reverse=True):
            kinds = sorted({f.case.kind for f in failures if f.case})
            lines.append(f"\n[{len(failures)}x, kinds {', '.join(kinds) or '-'}] {failures[0].describe()}")
            lines.append("      " + failures[0].output.replace("\n", "\n      ")[-2500:])
        return "\n".join(lines)


def code_fingerprint() -> str:
    """The product code's state, to tell a finding from an edit made while a long run ran."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "tagger").rglob("*.py")):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def make_cases(seeds: dict[str, Path], count: int, base_seed: int, folder: Path) -> list[Case]:
    """``count`` mutants, the kinds taken in turn, each in its own folder under ``folder``."""
    kinds = sorted(seeds)
    cases = []
    for i in range(count):
        kind, seed = kinds[i % len(kinds)], base_seed + i
        source = seeds[kind]
        data, mutations = plan_and_apply(source.read_bytes(), seed)
        path = folder / f"{i:05d}" / f"{kind}-{seed}{source.suffix}"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        cases.append(Case(kind, seed, source, path, mutations, hashlib.sha256(data).hexdigest()))
    return cases


def run_campaign(cases: list[Case], work: Path, workers: int = 2, suggest_batch: int = 40,
                 progress: Callable[[str], None] | None = None) -> Campaign:
    """suggest over copies of the mutants in batches, and set on each mutant in its own
    process, ``workers`` at a time."""
    campaign = Campaign(mutants=len(cases))
    code_before = code_fingerprint()
    # suggest gets its own copies, so that the two commands never see each other's work.
    suggest_cases = []
    for case in cases:
        copy = work / "suggest" / case.path.parent.name / case.path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(case.path.read_bytes())
        suggest_cases.append(Case(case.kind, case.seed, case.seed_path, copy, case.mutations, case.digest))
    batches = [suggest_cases[i:i + suggest_batch] for i in range(0, len(suggest_cases), suggest_batch)]
    done = 0

    def suggest_task(index: int):
        statuses: dict[str, int] = {}
        failures, seconds = check_suggest(batches[index], work / "home" / f"suggest-{index}", statuses=statuses)
        return "suggest", statuses, failures, seconds

    def set_task(index: int):
        case = cases[index]
        failures, status, seconds = check_set(case, work / "home" / f"set-{index % (workers * 4)}")
        return "set", (case.kind, status, case.record.get("error")), failures, seconds

    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(suggest_task, i) for i in range(len(batches))]
        futures += [pool.submit(set_task, i) for i in range(len(cases))]
        for future in futures:
            command, what, failures, seconds = future.result()
            campaign.failures += failures
            if command == "set":
                kind_name, status, error = what
                if status == "error":
                    message = normalise(str(error))[:160]
                    campaign.set_errors[message] = campaign.set_errors.get(message, 0) + 1
                campaign.set_statuses[status] = campaign.set_statuses.get(status, 0) + 1
                by_kind = campaign.set_by_kind.setdefault(kind_name, {})
                by_kind[status] = by_kind.get(status, 0) + 1
                campaign.set_seconds.append(seconds)
            else:
                campaign.suggest_seconds += seconds
                for status, n in what.items():
                    campaign.suggest_statuses[status] = campaign.suggest_statuses.get(status, 0) + n
            done += 1
            if progress and done % 50 == 0:
                progress(f"{done}/{len(futures)} runs, {len(campaign.failures)} failure(s)")
    campaign.code_changed = code_fingerprint() != code_before
    return campaign


def main(argv: Sequence[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.split("Reproduce one mutant from the command line:")[1].strip(), file=sys.stderr)
        return 2
    source, seed = Path(argv[0]), int(argv[1])
    if not source.exists():
        from support import tagfiles

        if argv[0] not in tagfiles.KINDS:
            print(f"{source}: no such file, nor a kind in tagfiles.KINDS", file=sys.stderr)
            return 2
        source = tagfiles.make(Path(tempfile.mkdtemp(prefix="fuzz-seed-")), argv[0])
        print(f"seed file made at {source}")
    data, mutations = plan_and_apply(source.read_bytes(), seed)
    out = Path(argv[2]) if len(argv) == 3 else Path(f"{source.stem}-{seed}{source.suffix}")
    out.write_bytes(data)
    print(f"{out}: {len(data)} bytes from {len(source.read_bytes())}; " + ", ".join(map(str, mutations)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Nothing leaves the machine: the CLI and the app, each run for a while under strace,
open no connection to an IPv4 or IPv6 address.

onnxruntime 1.29+ resolves mobile.events.data.microsoft.com (its 1DS telemetry) from
its own threads some seconds after the first session: a connect() to the DNS server.
tagger/__init__.py switches that off by setting ORT_DISABLE_TELEMETRY before
onnxruntime loads. The children here get an environment without that variable, so
only the project itself can set it, and each runs at least RUN_S seconds of wall
time, long enough for the lookups (the first came about 9 s in, then every ~5 s).
AF_UNIX connects (nscd, D-Bus and the like) stay on the machine and are allowed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.paths import REPO

RUN_S = 15.0
# connect() and the sends that can carry a destination address of their own.
TRACED = "trace=connect,sendto,sendmsg,sendmmsg"
INET = re.compile(r"sa_family=AF_INET6?\b")

# Runs `suggest` over the bundled demo samples, afresh each time (new sessions, no
# cache), until RUN_S seconds have passed.
CLI_DRIVER = """
import sys, time
started = time.monotonic()
from tagger.cli import main
from tagger.resources import samples_dir
runs = 0
while True:
    code = main(["suggest", "--no-cache", "--json", str(samples_dir())])
    if code != 0:
        sys.exit(f"suggest exited {code}")
    runs += 1
    if time.monotonic() - started >= float(sys.argv[1]):
        break
print(f"runs={runs}", file=sys.stderr)
"""


@pytest.fixture(scope="module")
def strace():
    path = shutil.which("strace")
    if path is None:
        pytest.skip("strace is not installed (apt-get install strace); .ci/run installs it")
    probe = subprocess.run([path, "-f", "-e", "trace=connect", "-o", os.devnull, "true"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()[-300:]}")
    return path


def child_env() -> dict[str, str]:
    """The test's environment (its private XDG folders included) without the variable
    under test: the project must set it itself. This process has it already, from
    importing tagger."""
    env = dict(os.environ)
    env.pop("ORT_DISABLE_TELEMETRY", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def inet_calls(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if INET.search(line)]


def traced_child(tracer: subprocess.Popen) -> int:
    """The pid of the process strace started (its only direct child)."""
    for _ in range(100):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == tracer.pid:
                return int(stat.parent.name)
        if tracer.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError("strace started no child")


def test_cli_suggest_makes_no_connection(strace, tmp_path):
    log, out = tmp_path / "strace.log", tmp_path / "out.txt"
    started = time.monotonic()
    with open(out, "w") as output:
        done = subprocess.run(
            [strace, "-f", "-e", TRACED, "-o", str(log), sys.executable, "-c", CLI_DRIVER, str(RUN_S)],
            stdout=output, stderr=subprocess.STDOUT, env=child_env(), cwd=REPO, timeout=180,
        )
    elapsed = time.monotonic() - started
    text = out.read_text(errors="replace")
    assert done.returncode == 0, text[-3000:]
    assert elapsed >= RUN_S
    assert '"status": "ok"' in text, text[-3000:]
    assert inet_calls(log) == [], "the CLI connected to the network:\n" + "\n".join(inet_calls(log)[:10])


def test_app_demo_makes_no_connection(strace, tmp_path):
    log, out = tmp_path / "strace.log", tmp_path / "out.txt"
    with open(out, "w") as output:
        tracer = subprocess.Popen(
            [strace, "-f", "-e", TRACED, "-o", str(log), sys.executable, "-m", "ui", "--demo"],
            stdout=output, stderr=subprocess.STDOUT, env=child_env(), cwd=REPO,
        )
    app = None
    try:
        app = traced_child(tracer)
        deadline = time.monotonic() + RUN_S
        while time.monotonic() < deadline:
            assert tracer.poll() is None, "the app exited early:\n" + out.read_text(errors="replace")[-3000:]
            time.sleep(0.25)
        # The app did load onnxruntime, so its telemetry had the chance to run.
        maps = Path(f"/proc/{app}/maps").read_text()
        assert "onnxruntime" in maps, "the app never loaded onnxruntime"
        os.kill(app, signal.SIGTERM)
        tracer.wait(timeout=30)
    finally:
        if tracer.poll() is None:  # leave nothing running, whatever failed above
            if app is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(app, signal.SIGKILL)
            tracer.kill()
            tracer.wait(timeout=30)
    assert inet_calls(log) == [], "the app connected to the network:\n" + "\n".join(inet_calls(log)[:10])


# Genre cleanup over a copy of the demo samples, its survey in worker processes as for a
# large library: the tags are read, rewritten and restored.
CLEANUP_DRIVER = """
import shutil, sys
import tagger.library.cleanup
from tagger.cli import main
from tagger.resources import samples_dir
tagger.library.cleanup.PARALLEL_FROM = 1
library = sys.argv[1]
shutil.copytree(samples_dir(), library)
for command in (["set", "--genre", "Electronic", library], ["genres", "--json", library],
                ["rename", "Electronic", "Electronica", library], ["undo"]):
    code = main(command)
    if code != 0:
        sys.exit(f"{command[0]} exited {code}")
"""


def test_cli_genre_cleanup_makes_no_connection(strace, tmp_path):
    log, out = tmp_path / "strace.log", tmp_path / "out.txt"
    with open(out, "w") as output:
        done = subprocess.run(
            [strace, "-f", "-e", TRACED, "-o", str(log), sys.executable, "-c", CLEANUP_DRIVER, str(tmp_path / "lib")],
            stdout=output, stderr=subprocess.STDOUT, env=child_env(), cwd=REPO, timeout=180,
        )
    text = out.read_text(errors="replace")
    assert done.returncode == 0, text[-3000:]
    assert '"genre": "Electronic", "files": 3' in text
    # strace -f followed the survey's worker processes too: each one's exit is in the log.
    assert log.read_text().count("+++ exited with 0 +++") >= 3
    assert inet_calls(log) == [], "genre cleanup connected to the network:\n" + "\n".join(inet_calls(log)[:10])

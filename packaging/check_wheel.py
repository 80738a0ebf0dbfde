"""Build the wheel and sdist, and check that the wheel works on its own.

Run from anywhere: ``python packaging/check_wheel.py [--ref REF] [--keep] [--no-tests] [-- PYTEST_ARGS]``. It

1. builds an sdist and, from it, a wheel (``python -m build``) into a temporary folder,
   from the working tree, or with ``--ref`` from a commit or tag,
2. checks both with ``twine check --strict``,
3. lists the wheel: no tests, test data, benchmarks or caches may be in it, and the
   models, taxonomy and demo samples must be,
4. installs the wheel with its ``test`` extra into a fresh virtual environment,
5. in a folder with no source tree (only ``tests/`` and ``pyproject.toml`` taken from
   the sdist, for the tests and pytest's settings), runs ``genre-tagger --version``,
   ``genre-tagger suggest --demo``, and the default tests that do not need ../shared,
   all against the installed wheel.

Each step prints its figures; the exit status is 0 only if every step passed. It
needs ``build`` and ``twine`` (``pip install build twine``), and pip must reach an
index for the wheel's dependencies. Without ``--ref`` the build takes the working tree
as it is, uncommitted and untracked files included, as ``python -m build`` does.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
# What a wheel must not carry: the tests and their data, the benchmarks, the
# packaging scripts, and anything a local run leaves behind.
FORBIDDEN_PARTS = {"tests", "benchmarks", "packaging", "mutants", "__pycache__", ".pytest_cache"}
FORBIDDEN_NAME = re.compile(r"^(test_.*\.py|conftest\.py|.*\.pyc)$")
REQUIRED = [
    "tagger/cli/__init__.py",
    "ui/app.py",
    "tagger/data/genres.json",
    "tagger/data/vocabulary.json",
    "tagger/data/models/MSD_musicnn.int8.onnx",
    "tagger/data/models/MTT_musicnn.int8.onnx",
    "tagger/data/models/MSD_musicnn.onnx",
    "tagger/data/models/MTT_musicnn.onnx",
    "tagger/data/models/calibration.json",
    "tagger/data/icons/genre-tagger.svg",
    "tagger/data/icons/actions/edit-undo.svg",  # the actions' own icons, where no theme has them
]
DEMO_SAMPLES = 3
# The default selection (pyproject.toml's addopts) without the tests that need ../shared:
# a -m on the command line replaces addopts' own.
PYTEST_SELECTION = "not shared and not fuzz and not slow and not packaging"
# Extracting archives: the "data" filter refuses links and paths out of the target;
# Pythons before 3.10.12 lack it.
DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


class CheckFailed(Exception):
    pass


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600,
        echo: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``command``; CheckFailed, with its output, if it fails."""
    print("$", shlex.join(command), flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, text=True, timeout=timeout,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if echo or result.returncode:
        print(result.stdout.rstrip())
    if result.returncode:
        raise CheckFailed(f"{command[0]} {' '.join(command[1:3])} ... exited with {result.returncode}")
    return result


def export(ref: str, source: Path) -> Path:
    """The tree of ``ref`` (a commit, tag or branch), written out to ``source``."""
    step(f"export {ref}")
    source.mkdir()
    git = subprocess.Popen(["git", "-C", str(REPO), "archive", "--format=tar", ref], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=git.stdout, mode="r|") as archive:
        archive.extractall(source, **DATA_FILTER)
    if git.wait():
        raise CheckFailed(f"git archive {ref} failed")
    print(f"{ref} written out to {source}")
    return source


def build(source: Path, dist: Path) -> tuple[Path, Path]:
    step("build")
    started = time.monotonic()
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)], cwd=source)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise CheckFailed(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    print(f"built {wheels[0].name} and {sdists[0].name} in {time.monotonic() - started:.0f} s")
    return wheels[0], sdists[0]


def twine_check(wheel: Path, sdist: Path) -> None:
    step("twine check --strict")
    checked = run([sys.executable, "-m", "twine", "--no-color", "check", "--strict", str(wheel), str(sdist)], cwd=REPO)
    print(checked.stdout.strip())


def wheel_contents(wheel: Path) -> None:
    step("wheel contents")
    with zipfile.ZipFile(wheel) as archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
    names = [i.filename for i in entries]
    forbidden = [n for n in names
                 if FORBIDDEN_PARTS & set(PurePosixPath(n).parts) or FORBIDDEN_NAME.match(PurePosixPath(n).name)]
    missing = [n for n in REQUIRED if n not in names]
    unpacked = sum(i.file_size for i in entries)
    print(f"wheel: {wheel.stat().st_size / 2**20:.1f} MiB ({wheel.stat().st_size} bytes), {len(names)} files, "
          f"{unpacked / 2**20:.1f} MiB unpacked")
    by_folder: dict[str, int] = {}
    for name in names:
        folder = str(PurePosixPath(name).parent)
        by_folder[folder] = by_folder.get(folder, 0) + 1
    for folder, count in sorted(by_folder.items()):
        print(f"  {count:3d}  {folder}/")
    if forbidden or missing:
        raise CheckFailed(f"the wheel carries {forbidden or 'nothing forbidden'} and lacks {missing or 'nothing'}")
    print("no tests, test data, benchmarks or caches; models, taxonomy, icon and samples present")


def install(wheel: Path, venv: Path) -> Path:
    step("install into a fresh virtual environment")
    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[test]"],
        cwd=venv.parent)
    print(f"installed in {time.monotonic() - started:.0f} s")
    return python


def isolated_env(home: Path) -> dict[str, str]:
    """An environment in which nothing outside the installed wheel is importable, and
    the user's settings, analysis cache and undo journal are not touched."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_installed(python: Path, venv: Path, work: Path, env: dict[str, str]) -> None:
    step("the installed command, with no source tree in reach")
    locate = "import tagger, tagger.resources as r; print(tagger.__file__); print(r.resource_dir())"
    where = run([str(python), "-c", locate], cwd=work, env=env).stdout.splitlines()
    if not all(Path(p).resolve().is_relative_to(venv.resolve()) for p in where):
        raise CheckFailed(f"tagger came from outside the virtual environment: {where}")
    print(f"tagger and its resources from {where[1]}")
    command = str(venv / "bin" / "genre-tagger")
    print(run([command, "--version"], cwd=work, env=env).stdout.strip())
    started = time.monotonic()
    suggest = run([command, "suggest", "--demo", "--device", "cpu"], cwd=work, env=env, echo=True)
    analysed = re.search(r"(\d+) file\(s\) analysed", suggest.stdout)
    if not analysed or int(analysed[1]) != DEMO_SAMPLES or " 0 problem(s)" not in suggest.stdout:
        raise CheckFailed(f"suggest --demo did not analyse the {DEMO_SAMPLES} samples without problems")
    print(f"suggest --demo: ok, {analysed[1]} samples in {time.monotonic() - started:.1f} s")


def run_tests(python: Path, sdist: Path, work: Path, env: dict[str, str], pytest_args: list[str]) -> None:
    step("the tests, against the installed wheel")
    with tarfile.open(sdist) as archive:
        root = archive.getnames()[0].split("/")[0]
        wanted = [m for m in archive.getmembers()
                  if m.name == f"{root}/pyproject.toml" or m.name.startswith(f"{root}/tests/")]
        archive.extractall(work, members=wanted, **DATA_FILTER)
    for item in (work / root).iterdir():
        item.rename(work / item.name)
    (work / root).rmdir()
    started = time.monotonic()
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", PYTEST_SELECTION, *pytest_args, "tests"],
        cwd=work, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3 * 3600,
    )
    lines = result.stdout.rstrip().splitlines()
    summary = lines[-1] if lines else "(no output)"
    if result.returncode:
        print(result.stdout[-20000:])
        raise CheckFailed(f"the tests failed: {summary}")
    skips = [line for line in lines if line.startswith("SKIPPED")]
    print("\n".join(skips))
    print(f"tests: {summary.strip('= ')} ({time.monotonic() - started:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="build this commit or tag (git archive), leaving out uncommitted and untracked "
                                      "files, instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    parser.add_argument("--no-tests", action="store_true", help="stop after suggest --demo")
    parser.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS",
                        help="more arguments for pytest, after --: -x, or --deselect tests/writing/test_x.py::test_y")
    args = parser.parse_args()
    temporary = Path(tempfile.mkdtemp(prefix="genre-tagger-wheel-"))
    # Run as root, some tests drop to an unprivileged user, who must still read the
    # installed package: mkdtemp's 0700 would hide it.
    temporary.chmod(0o755)
    work, venv = temporary / "run", temporary / "venv"
    work.mkdir()
    try:
        source = export(args.ref, temporary / "source") if args.ref else REPO
        wheel, sdist = build(source, temporary / "dist")
        twine_check(wheel, sdist)
        wheel_contents(wheel)
        python = install(wheel, venv)
        env = isolated_env(temporary / "home")
        run_installed(python, venv, work, env)
        if not args.no_tests:
            run_tests(python, sdist, work, env, args.pytest_args)
    except (CheckFailed, subprocess.TimeoutExpired) as e:
        print(f"\nFAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"\nkept {temporary}")
        else:
            shutil.rmtree(temporary, ignore_errors=True)
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The downloadable app (packaging/build_app.py, genre-tagger.spec, linux/).

install.sh and uninstall.sh are tried in the default run on a stand-in for the bundle
(a shell script): they must put each file in its place and take exactly those away again.
The frozen bundle itself, which takes a minute or two to build, is tried under
``-m packaging``: packaging/smoke_test.py, then the same install on the real bundle.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO

PACKAGING = REPO / "packaging"

needs_sh = pytest.mark.skipif(sys.platform == "win32" or shutil.which("sh") is None,
                              reason="install.sh is a POSIX shell script for Linux")


def load_build_app():
    spec = importlib.util.spec_from_file_location("build_app", PACKAGING / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if not (PACKAGING / "build_app.py").is_file():  # the tests run from an installed wheel (check_wheel.py)
    pytest.skip(f"no source tree here: {PACKAGING} is absent", allow_module_level=True)
build_app = load_build_app()


def lay_out_archive(bundle: Path, destination: Path) -> Path:
    """The unpacked tar.gz that build_app.py would make of ``bundle``, without packing it."""
    top = destination / "unpacked"
    for source, name in build_app.linux_members(bundle):
        target = top / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target)
    return top


def stand_in_bundle(folder: Path) -> Path:
    """A bundle's shape: the executable (here one that prints a version) and its _internal/."""
    bundle = folder / "genre-tagger"
    (bundle / "_internal" / "tagger").mkdir(parents=True)
    (bundle / "_internal" / "tagger" / "data.txt").write_text("data\n")
    (bundle / "_internal" / "libexample.so.1").write_text("library\n")
    (bundle / "_internal" / "libexample.so").symlink_to("libexample.so.1")
    executable = bundle / "genre-tagger"
    executable.write_text("#!/bin/sh\necho 'genre-tagger 0.0.0-stand-in'\n")
    executable.chmod(0o755)
    return bundle


def tree(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` with what it is, and a file's text, to compare two states."""
    state = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            state[name] = f"link to {os.readlink(path)}"
        elif path.is_dir():
            state[name] = "folder"
        else:
            state[name] = path.read_bytes().decode("utf-8", "replace")
    return state


def run_script(script: Path, home: Path, prefix: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home)}
    env.pop("PREFIX", None)
    if prefix is not None:
        env["PREFIX"] = str(prefix)
    return subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=120)


def assert_installed(prefix: Path, version_text: str) -> None:
    app = prefix / "lib" / "genre-tagger"
    launcher = prefix / "bin" / "genre-tagger"
    assert launcher.is_symlink() and launcher.resolve() == (app / "genre-tagger").resolve()
    assert version_text in subprocess.run([str(launcher), "--version"], capture_output=True, text=True,
                                          timeout=60).stdout
    entries = [prefix / "share" / "applications" / source.name for source in sorted(PACKAGING.glob("*.desktop"))]
    for entry in entries:
        exec_lines = [line for line in entry.read_text().splitlines() if line.startswith("Exec=")]
        quoted = f'"{launcher}"' if " " in str(launcher) else str(launcher)
        assert exec_lines and all(line.startswith(f"Exec={quoted} ") for line in exec_lines)
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "genre-tagger.svg").is_file()
    manifest = (app / "installed-files.txt").read_text().splitlines()
    assert f"f {launcher}" in manifest and f"d {app}" in manifest
    assert all(line[:2] in ("f ", "d ", "c ") and line[2:].startswith(str(prefix)) for line in manifest)


def check_install_round_trip(bundle: Path, tmp_path: Path, version_text: str) -> None:
    """Install into a fresh HOME beside another app's entry, reinstall over it, uninstall:
    the HOME is as it was, the other entry untouched; then the same under a PREFIX with a space."""
    unpacked = lay_out_archive(bundle, tmp_path)
    home = tmp_path / "home"
    other = home / ".local" / "share" / "applications" / "other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other %F\nMimeType=audio/flac;\n")
    before = tree(home)

    installed = run_script(unpacked / "install.sh", home)
    assert installed.returncode == 0, installed.stderr
    assert_installed(home / ".local", version_text)
    again = run_script(unpacked / "install.sh", home)
    assert again.returncode == 0 and "Replacing" in again.stdout, again.stderr
    assert_installed(home / ".local", version_text)
    removed = run_script(home / ".local" / "lib" / "genre-tagger" / "uninstall.sh", home)
    assert removed.returncode == 0, removed.stderr
    assert tree(home) == before

    prefix = tmp_path / "apps with spaces"
    assert run_script(unpacked / "install.sh", home, prefix).returncode == 0
    assert_installed(prefix, version_text)
    assert run_script(unpacked / "uninstall.sh", home, prefix).returncode == 0
    assert not prefix.exists()
    assert tree(home) == before


@needs_sh
def test_install_and_uninstall_leave_the_home_as_it_was(tmp_path):
    check_install_round_trip(stand_in_bundle(tmp_path / "dist"), tmp_path, "genre-tagger 0.0.0-stand-in")


@needs_sh
def test_install_overwrites_no_file_of_another_install(tmp_path):
    """A genre-tagger that pip --user put in ~/.local/bin is left, and nothing installed."""
    unpacked = lay_out_archive(stand_in_bundle(tmp_path / "dist"), tmp_path)
    home = tmp_path / "home"
    pip_script = home / ".local" / "bin" / "genre-tagger"
    pip_script.parent.mkdir(parents=True)
    pip_script.write_text("#!/usr/bin/python3\n")
    before = tree(home)
    refused = run_script(unpacked / "install.sh", home)
    assert refused.returncode == 1
    assert str(pip_script) in refused.stderr
    assert tree(home) == before


@needs_sh
def test_uninstall_without_an_install_says_so(tmp_path):
    unpacked = lay_out_archive(stand_in_bundle(tmp_path / "dist"), tmp_path)
    result = run_script(unpacked / "uninstall.sh", tmp_path / "home")
    assert result.returncode == 1 and "no Genre Tagger installed" in result.stderr


@pytest.mark.packaging
def test_frozen_app_passes_the_smoke_test(tmp_path):
    bundle = build_app.bundle_dir()
    executable = bundle / ("genre-tagger.exe" if sys.platform == "win32" else "genre-tagger")
    if not executable.is_file():
        if importlib.util.find_spec("PyInstaller") is None:
            pytest.skip(f"no bundle in {bundle}, and PyInstaller, which builds it, is not installed "
                        "(pip install -e '.[app]')")
        subprocess.run([sys.executable, str(PACKAGING / "build_app.py"), "--no-archive"], check=True, timeout=1800)
    smoke = subprocess.run([sys.executable, str(PACKAGING / "smoke_test.py"), str(bundle)], capture_output=True,
                           text=True, timeout=600)
    assert smoke.returncode == 0, (f"{smoke.stdout}{smoke.stderr}\n(a bundle older than the source fails too: "
                                   "rebuild it with python packaging/build_app.py)")
    if sys.platform.startswith("linux"):
        check_install_round_trip(bundle, tmp_path, f"genre-tagger {build_app.app_version()}")

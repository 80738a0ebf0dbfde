"""The desktop app's start-up: which system libraries Qt's X11 plugin and QtMultimedia lack,
and the command that installs them on each distribution family; decoders' notes kept out
of its terminal output, Qt's messages let through."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from support.paths import REPO

from ui import setup_check

DEBIAN_12 = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
"""
OS_RELEASES = {
    "debian": DEBIAN_12,
    "ubuntu": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
    "mint": 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
    "fedora": 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n',
    "rocky": 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
    "arch": 'NAME="Arch Linux"\nID=arch\n',
    "manjaro": 'NAME="Manjaro Linux"\nID=manjaro\nID_LIKE=arch\n',
    "tumbleweed": 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n',
    "sles": 'NAME="SLES"\nID="sles"\nID_LIKE="suse"\n',
}
# What a fresh Debian 12 desktop lacked (the issue), and what each family calls it.
FRESH_DESKTOP_MISSING = ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
COMMANDS = {
    "debian": "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1",
    "ubuntu": "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1",
    "mint": "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1",
    "fedora": "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms",
    "rocky": "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms",
    "arch": "sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms",
    "manjaro": "sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms",
    "tumbleweed": "sudo zypper install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1",
    "sles": "sudo zypper install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1",
}
PULSE = {"debian": "libpulse0", "fedora": "pulseaudio-libs", "arch": "libpulse", "tumbleweed": "libpulse0"}

plugin_absent = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not setup_check.xcb_needs(),
    reason="no PySide6 xcb platform plugin here to check",
)


def loads_all_but(*missing):
    return lambda soname: soname not in missing


@pytest.mark.parametrize("name, family", [
    ("debian", "debian"), ("ubuntu", "debian"), ("mint", "debian"), ("fedora", "fedora"), ("rocky", "fedora"),
    ("arch", "arch"), ("manjaro", "arch"), ("tumbleweed", "suse"), ("sles", "suse"),
])
def test_the_distribution_family_comes_from_os_release(name, family):
    assert setup_check.os_family(OS_RELEASES[name]) == family


def test_an_unknown_distribution_has_no_family():
    assert setup_check.os_family('NAME="Alpine Linux"\nID=alpine\n') is None
    assert setup_check.os_family("") is None


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_fresh_desktop_gets_the_exact_install_command(name):
    needed = ["libxcb.so.1", *FRESH_DESKTOP_MISSING, "libX11.so.6"]
    problem = setup_check.window_problem(OS_RELEASES[name], needed, loads_all_but(*FRESH_DESKTOP_MISSING))
    assert problem == (
        "Qt cannot open a window: the X11 (xcb) platform plugin needs libxcb-cursor.so.0, libxcb-icccm.so.4 "
        f"and libxcb-keysyms.so.1, which are not installed. Install them with: {COMMANDS[name]}"
    )


def test_nothing_missing_is_no_problem():
    assert setup_check.window_problem(DEBIAN_12, FRESH_DESKTOP_MISSING, loads_all_but()) is None
    assert setup_check.playback_problem(DEBIAN_12, ["libpulse.so.0"], loads_all_but()) is None


def test_libraries_of_one_package_name_it_once():
    needed = ["libxcb-randr.so.0", "libxcb-shape.so.0", "libxcb-xkb.so.1"]
    problem = setup_check.window_problem(OS_RELEASES["fedora"], needed, loads_all_but(*needed))
    assert problem.endswith("Install them with: sudo dnf install libxcb")
    problem = setup_check.window_problem(DEBIAN_12, needed, loads_all_but(*needed))
    assert problem.endswith("sudo apt install libxcb-randr0 libxcb-shape0 libxcb-xkb1")


@pytest.mark.parametrize("name", sorted(PULSE))
def test_playback_without_libpulse_is_a_warning_with_its_package(name):
    problem = setup_check.playback_problem(OS_RELEASES[name], ["libGL.so.1", "libpulse.so.0"],
                                   loads_all_but("libpulse.so.0"))
    assert problem.startswith("playback is unavailable: QtMultimedia needs libpulse.so.0, which is not installed.")
    installer = setup_check.INSTALL[setup_check.os_family(OS_RELEASES[name])]
    assert problem.endswith(f"Install it with: {installer} {PULSE[name]}")


def test_a_library_nobody_mapped_is_still_named():
    problem = setup_check.window_problem(DEBIAN_12, ["libxcb-cursor.so.0", "libnew.so.7"],
                                         loads_all_but(*["libnew.so.7"]))
    assert "needs libnew.so.7, which is not installed" in problem
    assert problem.endswith("Install the packages that provide libnew.so.7")
    # RPM finds the package by the library's own name.
    if sys.maxsize > 2**32:
        fedora = setup_check.window_problem(OS_RELEASES["fedora"], ["libnew.so.7"], loads_all_but("libnew.so.7"))
        assert fedora.endswith("sudo dnf install 'libnew.so.7()(64bit)'")
    unknown = setup_check.window_problem('ID=alpine\n', FRESH_DESKTOP_MISSING, loads_all_but(*FRESH_DESKTOP_MISSING))
    assert unknown.endswith("Install the packages of your distribution that provide them.")


@pytest.mark.parametrize("env, use", [
    ({"DISPLAY": ":0"}, "only"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "only"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb:nomitshm"}, "only"),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "fallback"),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "fallback"),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, "fallback"),
    ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, "only"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "fallback"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb;offscreen"}, "fallback"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, None),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, None),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, None),
    ({}, None),
])
def test_when_qt_will_use_x11(env, use):
    assert setup_check.xcb_use(env) == use


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 check is for Linux")
def test_display_problem_refuses_only_where_x11_is_the_only_way(monkeypatch):
    monkeypatch.setattr(setup_check, "library_loads", loads_all_but("libxcb-cursor.so.0"))
    monkeypatch.setattr(setup_check, "xcb_needs", lambda: ["libxcb.so.1", "libxcb-cursor.so.0"])
    monkeypatch.setattr(setup_check, "read_os_release", lambda: DEBIAN_12)
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert setup_check.display_problem() == (
        "Qt cannot open a window: the X11 (xcb) platform plugin needs libxcb-cursor.so.0, which is not "
        "installed. Install it with: sudo apt install libxcb-cursor0"
    )
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert setup_check.display_problem() is None
    # In a Wayland session Qt may never need X11: a warning, not a refusal.
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setattr(setup_check, "multimedia_needs", list)
    assert setup_check.display_problem() is None
    assert setup_check.startup_notes() == [
        "should Wayland fail, Qt cannot open a window: the X11 (xcb) platform plugin needs libxcb-cursor.so.0, "
        "which is not installed. Install it with: sudo apt install libxcb-cursor0"
    ]


def test_elf_needed_reads_no_other_files(tmp_path):
    text = tmp_path / "libfake.so.1"
    text.write_text("not an ELF file")
    assert setup_check.elf_needed(text) is None
    assert setup_check.elf_needed(tmp_path / "absent.so") is None
    assert setup_check.system_needs([text], tmp_path, ["libxcb-cursor.so.0"]) == ["libxcb-cursor.so.0"]


@plugin_absent
def test_the_real_plugin_needs_what_the_issue_found_missing():
    needed = setup_check.xcb_needs()
    assert set(FRESH_DESKTOP_MISSING) <= set(needed)
    assert not [name for name in needed if name.startswith("libQt6")]  # bundled ones are followed, not checked
    plugin = setup_check.qt_dir() / "plugins" / "platforms" / "libqxcb.so"
    assert "libQt6XcbQpa.so.6" in setup_check.elf_needed(plugin)


@plugin_absent
def test_the_window_check_agrees_with_qts_own_plugin_loader():
    """Whatever this machine has installed: the check finds a problem exactly where Qt
    fails to load its X11 plugin (with no display to reach, a loaded plugin then says so)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {"QT_QPA_PLATFORM": "xcb"}
    result = subprocess.run([sys.executable, "-c", "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    plugin_loaded = "could not connect to display" in result.stderr
    assert plugin_loaded or 'Could not load the Qt platform plugin "xcb"' in result.stderr, result.stderr
    problem = setup_check.window_problem(setup_check.read_os_release(), setup_check.xcb_needs(),
                                         setup_check.library_loads)
    assert (problem is None) == plugin_loaded, (problem, result.stderr)


@plugin_absent
def test_the_playback_check_agrees_with_qtmultimedia_itself():
    result = subprocess.run([sys.executable, "-c", "import PySide6.QtMultimedia"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    problem = setup_check.playback_problem(setup_check.read_os_release(), setup_check.multimedia_needs(),
                                           setup_check.library_loads)
    assert (problem is None) == (result.returncode == 0), (problem, result.stderr)
    if problem:  # the library that the import named is among the ones the check found
        named = result.stderr.strip().splitlines()[-1].split(": ")[1]
        assert named in problem


@plugin_absent
def test_the_app_names_the_packages_instead_of_qts_abort(tmp_path):
    """A library the loader finds but cannot load, ahead of the real one: as good as missing."""
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.update(DISPLAY=":77", LD_LIBRARY_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "ui", "gui"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("genre-tagger: Qt cannot open a window: the X11 (xcb) platform plugin needs ")
    assert "libxcb-cursor.so.0" in result.stderr.splitlines()[0] and "Install" in result.stderr.splitlines()[0]
    assert "qt.qpa" not in result.stderr and "Aborted" not in result.stderr


APP_SCRIPT = r"""
import sys, threading
from PySide6.QtCore import qWarning
from PySide6.QtWidgets import QApplication
from tagger.audio import decode as audio
from ui.app import quiet_decoders

if sys.argv[2] == "verbose":
    audio.show_decoder_notes(True)
with quiet_decoders():
    application = QApplication(sys.argv[:1])
    worker = threading.Thread(target=lambda: audio.open_audio(sys.argv[1]).read(0.0, 12.0))
    worker.start()
    worker.join()
    qWarning("a warning of Qt's own")
"""


@pytest.mark.parametrize("mode", ["quiet", "verbose"])
def test_the_app_keeps_decoder_notes_out_but_lets_qt_speak(make_audio, mode):
    path = make_audio("damaged.mp3", seconds=12.0)
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 400] = np.random.default_rng(3).integers(0, 256, 400, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", APP_SCRIPT, str(path), mode], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "a warning of Qt's own" in result.stderr
    assert ("Note: Trying to resync" in result.stderr) == (mode == "verbose"), result.stderr


FATAL_SCRIPT = r"""
import sys
from PySide6.QtWidgets import QApplication
from ui.app import quiet_decoders

with quiet_decoders():
    QApplication(sys.argv[:1])
"""


def test_qts_last_words_before_it_aborts_pass_the_filter():
    """Qt aborts right after its fatal message, before the filter's thread could pass it on."""
    env = dict(os.environ, QT_QPA_PLATFORM="no-such-platform")
    for _ in range(3):  # the race the message handler avoids is lost now and then, not every time
        result = subprocess.run([sys.executable, "-c", FATAL_SCRIPT], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode != 0
        assert 'platform plugin "no-such-platform"' in result.stderr
        assert "This application failed to start" in result.stderr

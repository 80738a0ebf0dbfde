"""The checks before the window opens: which system libraries Qt's X11 plugin and QtMultimedia lack.

They read the ELF files of PySide6's own plugins rather than load Qt, which aborts the
process where a library is missing, and name the command that installs what is missing
on the distribution family at hand."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# Each shared library that PySide6's wheels leave to the system, by distribution family:
# (Debian/Ubuntu, Fedora/RHEL, Arch, openSUSE). A fresh desktop lacks the xcb utility
# libraries above all (Qt >= 6.5 needs libxcb-cursor), and sometimes libpulse.
PACKAGES: dict[str, tuple[str, str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor", "libxcb-cursor0"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm", "libxcb-icccm4"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms", "libxcb-keysyms1"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image", "libxcb-image0"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil",
                                "libxcb-render-util0"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util", "libxcb-util1"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb", "libxcb1"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb", "libxcb-randr0"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb", "libxcb-render0"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb", "libxcb-shape0"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb", "libxcb-shm0"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb", "libxcb-sync1"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb", "libxcb-xfixes0"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb", "libxcb-xkb1"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb", "libxcb", "libxcb-xinerama0"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb", "libxcb", "libxcb-xinput0"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon", "libxkbcommon0"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11", "libxkbcommon-x11-0"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11", "libX11-6"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11", "libX11-xcb1"),
    "libXext.so.6": ("libxext6", "libXext", "libxext", "libXext6"),
    "libXrandr.so.2": ("libxrandr2", "libXrandr", "libxrandr", "libXrandr2"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd", "libGL1"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd", "libEGL1"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd", "libOpenGL0"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig", "libfontconfig1"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2", "libfreetype6"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libglib-2_0-0"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2", "libgthread-2_0-0"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus", "libdbus-1-3"),
    "libz.so.1": ("zlib1g", "zlib", "zlib", "libz1"),
    "libzstd.so.1": ("libzstd1", "libzstd", "zstd", "libzstd1"),
    "libpulse.so.0": ("libpulse0", "pulseaudio-libs", "libpulse", "libpulse0"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++", "gcc-libs", "libstdc++6"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc", "gcc-libs", "libgcc_s1"),
}
FAMILIES = ("debian", "fedora", "arch", "suse")
INSTALL = {"debian": "sudo apt install", "fedora": "sudo dnf install", "arch": "sudo pacman -S --needed",
           "suse": "sudo zypper install"}
# What each family's os-release may say in ID or ID_LIKE, first match wins.
FAMILY_IDS = {
    "debian": ("debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali", "elementary", "zorin", "neon"),
    "fedora": ("fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn", "nobara"),
    "arch": ("arch", "manjaro", "endeavouros", "garuda", "artix"),
    "suse": ("suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "sled"),
}
# Where DT_NEEDED cannot be read (an unexpected file), what the xcb plugin of Qt 6.5 to
# 6.11 needs from the system, and what QtMultimedia needs.
XCB_FALLBACK = (
    "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-util.so.1", "libxcb-image.so.0", "libxcb-keysyms.so.1",
    "libxcb-randr.so.0", "libxcb-render-util.so.0", "libxcb-shm.so.0", "libxcb-sync.so.1", "libxcb-xfixes.so.0",
    "libxcb-render.so.0", "libxcb-shape.so.0", "libxcb-xkb.so.1", "libxcb.so.1", "libX11-xcb.so.1", "libX11.so.6",
    "libxkbcommon.so.0", "libxkbcommon-x11.so.0", "libGL.so.1", "libEGL.so.1", "libfontconfig.so.1",
    "libfreetype.so.6", "libglib-2.0.so.0",
)
MULTIMEDIA_FALLBACK = ("libpulse.so.0",)


def display_problem() -> str | None:
    """Why a window cannot open here, or None; Qt would abort the process instead."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        return ("no display to open the window on; on a server use the subcommands "
                "(genre-tagger suggest, apply, …), see genre-tagger --help")
    if sys.platform.startswith("linux") and xcb_use(os.environ) == "only":
        return window_problem(read_os_release(), xcb_needs(), library_loads)
    return None


def startup_notes() -> list[str]:
    """Warnings worth printing before the window opens: what is missing where it may be needed."""
    if not sys.platform.startswith("linux"):
        return []
    os_release = read_os_release()
    notes = []
    if xcb_use(os.environ) == "fallback":  # Wayland may well open the window, so only a warning
        missing = xcb_missing(os_release, xcb_needs(), library_loads)
        if missing:
            notes.append(f"should Wayland fail, Qt cannot open a window: {missing}")
    problem = playback_problem_here(os_release)
    if problem:
        notes.append(problem)
    return notes


def playback_problem_here(os_release: str | None = None) -> str | None:
    """Why QtMultimedia cannot play on this system, with the command that mends it, or None."""
    if not sys.platform.startswith("linux"):
        return None
    return playback_problem(read_os_release() if os_release is None else os_release, multimedia_needs(),
                            library_loads)


def xcb_use(env: Mapping[str, str]) -> str | None:
    """Whether Qt will open its window through X11 (the xcb plugin): ``"only"``, or as the
    ``"fallback"`` after Wayland, or not at all (None)."""
    platforms = [name.split(":", 1)[0].strip() for name in env.get("QT_QPA_PLATFORM", "").split(";")]
    platforms = [name for name in platforms if name]
    if platforms:
        if platforms == ["xcb"]:
            return "only"
        return "fallback" if "xcb" in platforms else None
    if not env.get("DISPLAY"):
        return None
    # Qt 6 tries Wayland first wherever it sees a sign of it, and falls back to X11 (Xwayland).
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "fallback"
    return "only"


def window_problem(os_release: str, needed: Iterable[str], loads: Callable[[str], bool]) -> str | None:
    """Why Qt's X11 plugin cannot load, with the command that mends it, or None."""
    missing = xcb_missing(os_release, needed, loads)
    return f"Qt cannot open a window: {missing}" if missing else None


def missing_text(what_needs: str, os_release: str, needed: Iterable[str], loads: Callable[[str], bool]) -> str | None:
    """``what_needs`` the libraries of ``needed`` that do not load, and the command that
    installs them; None if nothing is missing."""
    missing = missing_libraries(needed, loads)
    if not missing:
        return None
    return (f"{what_needs} {names_text(missing)}, {'which are' if len(missing) > 1 else 'which is'} not installed. "
            + install_advice(os_family(os_release), missing))


def xcb_missing(os_release: str, needed: Iterable[str], loads: Callable[[str], bool]) -> str | None:
    """What the xcb plugin lacks and how to install it, or None."""
    return missing_text("the X11 (xcb) platform plugin needs", os_release, needed, loads)


def playback_problem(os_release: str, needed: Iterable[str], loads: Callable[[str], bool]) -> str | None:
    """Why QtMultimedia cannot play the analysed excerpt, with the command that mends it, or None.
    Only a warning: everything else in the app works without it."""
    return missing_text("playback is unavailable: QtMultimedia needs", os_release, needed, loads)


def missing_libraries(needed: Iterable[str], loads: Callable[[str], bool]) -> list[str]:
    """Those of ``needed`` that do not load, each once, in order."""
    return [name for name in dict.fromkeys(needed) if not loads(name)]


def names_text(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def os_family(os_release: str) -> str | None:
    """The distribution family in FAMILIES that the text of /etc/os-release names, or None."""
    fields = {}
    for line in os_release.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    # ID first: Ubuntu is "like debian", but a distribution is its own family before its parent's.
    for word in [fields.get("ID", "")] + fields.get("ID_LIKE", "").split():
        for family, ids in FAMILY_IDS.items():
            if word.lower() in ids:
                return family
    return None


def install_advice(family: str | None, missing: list[str]) -> str:
    them = "them" if len(missing) > 1 else "it"
    if family is None:
        return f"Install the packages of your distribution that provide {them}."
    column = FAMILIES.index(family)
    packages = list(dict.fromkeys(PACKAGES[name][column] for name in missing if name in PACKAGES))
    unknown = [name for name in missing if name not in PACKAGES]
    if family in ("fedora", "suse") and struct.calcsize("P") == 8:
        # RPM resolves a library by the capability its package provides.
        packages += [f"'{name}()(64bit)'" for name in unknown]
        unknown = []
    advice = f"Install {them} with: {INSTALL[family]} {' '.join(packages)}" if packages else ""
    if unknown:
        advice += ("; and " if advice else "Install ") + f"the packages that provide {names_text(unknown)}"
    return advice


def read_os_release() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def library_loads(soname: str) -> bool:
    """Whether the dynamic linker finds and loads ``soname`` as Qt would: the same search
    path and the library's own dependencies, which looking for its file would miss."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def qt_dir() -> Path | None:
    """PySide6's bundled Qt, found without importing a Qt module (which may not load)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        if (Path(location) / "Qt" / "lib").is_dir():
            return Path(location) / "Qt"
    return None


def xcb_needs() -> list[str]:
    """The system libraries that PySide6's xcb plugin needs, with those of the Qt libraries it links."""
    qt = qt_dir()
    if qt is None or not (qt / "plugins" / "platforms" / "libqxcb.so").is_file():
        return []  # no plugin to check: Qt says what it lacks itself
    return system_needs([qt / "plugins" / "platforms" / "libqxcb.so"], qt / "lib", XCB_FALLBACK)


def multimedia_needs() -> list[str]:
    qt = qt_dir()
    if qt is None or not (qt / "lib" / "libQt6Multimedia.so.6").is_file():
        return []
    # The app plays through QAudioSink, which QtMultimedia itself provides; its media
    # backend plugins (FFmpeg, GStreamer) are for QMediaPlayer, and their needs are not ours.
    return system_needs([qt / "lib" / "libQt6Multimedia.so.6"], qt / "lib", MULTIMEDIA_FALLBACK)


def system_needs(roots: list[Path], bundled: Path, fallback: Iterable[str]) -> list[str]:
    """The DT_NEEDED libraries of ``roots`` and of the bundled libraries they pull in, that
    are not bundled themselves; ``fallback`` where an ELF file cannot be read."""
    needs: dict[str, None] = {}
    seen: set[Path] = set()
    queue = list(roots)
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        names = elf_needed(path)
        if names is None:
            needs.update(dict.fromkeys(fallback))
            continue
        for name in names:
            if (bundled / name).is_file():
                queue.append(bundled / name)
            else:
                needs[name] = None
    return list(needs)


def elf_needed(path: Path) -> list[str] | None:
    """The DT_NEEDED entries of an ELF file, or None where it is no ELF file this can read.
    Read here because ldd may not be installed, and running it executes the library's loader."""
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                return None
            wide, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
            header = f.read(48 if wide else 36)
            if wide:
                shoff, = struct.unpack_from(order + "Q", header, 24)
                shentsize, shnum = struct.unpack_from(order + "HH", header, 42)
            else:
                shoff, = struct.unpack_from(order + "I", header, 16)
                shentsize, shnum = struct.unpack_from(order + "HH", header, 30)
            sections = []
            for index in range(shnum):
                f.seek(shoff + index * shentsize)
                raw = f.read(shentsize)
                if wide:
                    _, kind, _, _, offset, size, link = struct.unpack_from(order + "IIQQQQI", raw)
                else:
                    _, kind, _, _, offset, size, link = struct.unpack_from(order + "IIIIIII", raw)
                sections.append((kind, offset, size, link))
            for kind, offset, size, link in sections:
                if kind != 6:  # SHT_DYNAMIC
                    continue
                f.seek(offset)
                dynamic = f.read(size)
                _, strings_at, strings_size, _ = sections[link]
                f.seek(strings_at)
                strings = f.read(strings_size)
                entry = struct.Struct(order + ("qQ" if wide else "iI"))
                names = []
                for tag, value in entry.iter_unpack(dynamic[: len(dynamic) - len(dynamic) % entry.size]):
                    if tag == 0:  # DT_NULL
                        break
                    if tag == 1:  # DT_NEEDED
                        names.append(strings[value: strings.index(b"\0", value)].decode("utf-8", "replace"))
                return names
            return None
    except (OSError, struct.error, ValueError, IndexError):
        return None

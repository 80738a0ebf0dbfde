"""Build the downloadable app: a one-folder PyInstaller bundle, and on Linux its tar.gz.

    python packaging/build_app.py            # dist/genre-tagger/ (+ the tar.gz on Linux)
    python packaging/build_app.py --no-archive

Needs PyInstaller in the environment that has the app's dependencies:
``pip install -e '.[app]'``. The archive holds the bundle, the desktop file, the
AppStream metainfo, the icons and install.sh/uninstall.sh (packaging/linux/), and
unpacks to one folder: ``genre-tagger-<version>-linux-x86_64/``.
"""

from __future__ import annotations

import argparse
import ast
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "genre-tagger.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
APP_NAME = "genre-tagger"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
METAINFO = PACKAGING / "io.github.genretagger.GenreTagger.metainfo.xml"
LINUX_SCRIPTS = PACKAGING / "linux"


def app_version() -> str:
    """``tagger.__version__``, read from tagger/__init__.py without importing the package."""
    source = (ROOT / "tagger" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError("tagger/__init__.py sets no __version__")


def bundle_dir() -> Path:
    return DIST / APP_NAME


def build_bundle() -> Path:
    """Run PyInstaller on the spec, from scratch, and return the bundle's folder."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)], check=True, cwd=ROOT)
    print(f"build_app: bundle built in {time.perf_counter() - started:.0f} s: {bundle_dir()}")
    return bundle_dir()


def linux_archive_name(version: str) -> str:
    return f"{APP_NAME}-{version}-linux-{platform.machine()}"


def linux_members(bundle: Path) -> list[tuple[Path, str]]:
    """Each file or folder that goes into the archive, with its name under the top folder.
    The desktop entry goes under the name it has in packaging/, which the metainfo's
    launchable names; the metainfo and PNG icons are optional: the archive takes whichever exist."""
    members = [(bundle, APP_NAME), (LINUX_SCRIPTS / "install.sh", "install.sh"),
               (LINUX_SCRIPTS / "uninstall.sh", "uninstall.sh"),
               (ICONS / "genre-tagger.svg", "share/icons/hicolor/scalable/apps/genre-tagger.svg")]
    members += [(entry, f"share/applications/{entry.name}") for entry in sorted(PACKAGING.glob("*.desktop"))]
    if METAINFO.is_file():
        members.append((METAINFO, f"share/metainfo/{METAINFO.name}"))
    for size in ICON_SIZES:
        png = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "genre-tagger.png"
        if png.is_file():
            members.append((png, f"share/icons/hicolor/{size}x{size}/apps/genre-tagger.png"))
    return members


def write_linux_archive(bundle: Path, version: str) -> Path:
    """dist/genre-tagger-<version>-linux-<machine>.tar.gz, with one top folder of the same name."""
    top = linux_archive_name(version)
    archive = DIST / f"{top}.tar.gz"
    members = linux_members(bundle)
    with tarfile.open(archive, "w:gz") as tar:
        for source, name in members:
            tar.add(source, arcname=f"{top}/{name}", filter=normalised)
    names = sorted(name for _, name in members if name.startswith("share/"))
    print(f"build_app: wrote {archive} ({archive.stat().st_size / 2**20:.1f} MiB): the bundle, install.sh, "
          f"uninstall.sh and {len(names)} files for the desktop:")
    for name in names:
        print(f"  {name}")
    return archive


def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by nobody in particular, so that unpacking as root gives root's files; readable by all."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = (info.mode | 0o644 | (0o111 if info.isdir() or info.mode & 0o100 else 0)) & 0o755
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-archive", action="store_true", help="build the bundle only, not the Linux tar.gz")
    args = parser.parse_args(argv)
    if not SPEC.is_file():
        parser.error(f"{SPEC} is missing")
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("build_app: PyInstaller is not installed; pip install -e '.[app]'", file=sys.stderr)
        return 2
    bundle = build_bundle()
    if sys.platform.startswith("linux") and not args.no_archive:
        write_linux_archive(bundle, app_version())
    return 0


if __name__ == "__main__":
    sys.exit(main())

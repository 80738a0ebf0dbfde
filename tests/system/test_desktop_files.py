"""The desktop integration: the desktop entry, the AppStream metainfo, the icons and the
Flatpak manifest. Fast; the validators run where they are installed (Debian:
desktop-file-utils, appstream) and the tests that need them skip, saying so, elsewhere.

A copy of tests/ run against an installed wheel (packaging/check_wheel.py) has no
source tree beside it, so these skip there too."""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from support.paths import REPO

import tagger

PACKAGING = REPO / "packaging"
DESKTOP = PACKAGING / "genre-tagger.desktop"
METAINFO = PACKAGING / "io.github.genretagger.GenreTagger.metainfo.xml"
APP_ID = "io.github.genretagger.GenreTagger"
ICONS = REPO / "resources" / "icons"
# packaging/build_app.py's tar.gz and the Flatpak manifest install exactly these.
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
SCREENSHOT_URL = "https://github.com/genretagger/genre-tagger/raw/main/"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not DESKTOP.is_file(), reason=f"no source tree here: {DESKTOP} is absent")


def command(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt install {package})")
    return path


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive: Comment and Comment[de]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def listed(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


def test_desktop_file_passes_desktop_file_validate():
    result = subprocess.run([command("desktop-file-validate", "desktop-file-utils"), str(DESKTOP)],
                            capture_output=True, text=True)
    # Hints are advice; errors and warnings are not allowed.
    complaints = [line for line in result.stdout.splitlines() if ": error:" in line or ": warning:" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_desktop_file_opens_audio_files_and_folders():
    from tagger.cli.program import build_parser

    entry = desktop_entry()
    assert entry["Exec"] == "genre-tagger gui %F"
    # %F passes every selected file and folder; gui takes them all (one file is checked, more are added).
    arguments = build_parser().parse_args(["gui", "/music/a.flac", "/music/Album"])
    assert [str(p) for p in arguments.paths] == ["/music/a.flac", "/music/Album"]
    mime_types = listed(entry["MimeType"])
    assert "inode/directory" in mime_types
    assert {"audio/mpeg", "audio/flac", "audio/ogg", "audio/x-opus+ogg", "audio/mp4", "audio/x-wav"} <= set(mime_types)
    assert all(t.startswith("audio/") for t in mime_types if t != "inode/directory")
    assert entry["Icon"] == "genre-tagger" and entry["Comment"] and listed(entry["Keywords"])


def test_metainfo_passes_appstreamcli_validate():
    result = subprocess.run([command("appstreamcli", "appstream"), "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_this_release_and_the_shipped_files():
    root = ElementTree.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    # The Flatpak build renames the desktop file to the app id and rewrites this to match.
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("provides/binary") == "genre-tagger"
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == tagger.__version__, "add a <release> for this version"
    urls = [image.text.strip() for image in root.iter("image")]
    assert urls
    for url in urls:
        assert url.startswith(SCREENSHOT_URL), url
        assert (REPO / url.removeprefix(SCREENSHOT_URL)).is_file(), f"{url} is not in the repository"


def test_flatpak_manifest_check():
    pytest.importorskip("yaml", reason="packaging/flatpak/check_manifest.py reads the manifest with PyYAML, "
                                       "which is not installed (pip install pyyaml)")
    result = subprocess.run([sys.executable, str(PACKAGING / "flatpak" / "check_manifest.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_at_its_size(size):
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "genre-tagger.png"
    header = path.read_bytes()[:26]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR", path
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", header[16:26])
    assert (width, height) == (size, size)
    assert (bit_depth, colour_type) == (8, 6), "8-bit RGBA, so the rounded corners stay transparent"


def test_one_svg_icon():
    assert (ICONS / "genre-tagger.svg").is_file()
    assert not list((ICONS / "hicolor").rglob("*.svg")), "installers take the SVG from resources/icons/genre-tagger.svg"

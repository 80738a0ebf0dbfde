"""Check the Flatpak manifest without building it (no flatpak-builder or runtime needed).

``python packaging/flatpak/check_manifest.py [MANIFEST]`` checks that

- every remote source is an https URL pinned by sha256 (a git URL by commit),
- every local source (``path``) and every file an ``install`` command copies from the
  tree exists,
- the app id is the metainfo's component id, and the metainfo's launchable is the
  desktop file the manifest installs,
- the desktop file, the metainfo and every icon in resources/icons/hicolor, and the
  SVG, are installed under the app id's name, where Flatpak exports them.

It prints what it checked, or each problem; the exit status is 1 if there is any.
Needs PyYAML (``pip install pyyaml``).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "io.github.genretagger.GenreTagger.yml"
# The paths Flatpak exports from /app/share, named after the app id.
DESKTOP_TARGET = "${FLATPAK_DEST}/share/applications/${FLATPAK_ID}.desktop"
METAINFO_TARGET = "${FLATPAK_DEST}/share/metainfo/${FLATPAK_ID}.metainfo.xml"


def icon_target(size: str, extension: str) -> str:
    return f"${{FLATPAK_DEST}}/share/icons/hicolor/{size}/apps/${{FLATPAK_ID}}.{extension}"


def modules(manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every module, nested ones included, in build order."""
    pending = list(manifest.get("modules", []))
    while pending:
        module = pending.pop(0)
        if isinstance(module, dict):
            pending[:0] = module.get("modules", [])
            yield module


def installed_files(module: dict[str, Any]) -> dict[str, str]:
    """Target -> source of each ``install SOURCE... TARGET`` build command."""
    targets = {}
    for command in module.get("build-commands", []):
        words = shlex.split(command)
        if words and words[0] == "install":
            operands = [w for w in words[1:] if not w.startswith("-")]
            if len(operands) == 2:
                targets[operands[1]] = operands[0]
    return targets


def check_sources(module: dict[str, Any], base: Path) -> tuple[list[str], int, list[Path]]:
    """Problems with the module's sources, how many are remote, and its local folders."""
    problems, remote, folders = [], 0, []
    name = module.get("name", "?")
    for source in module.get("sources", []):
        if isinstance(source, str):  # a file of further sources, relative to the manifest
            if not (base / source).is_file():
                problems.append(f"{name}: the sources file {source} is missing")
            continue
        kind = source.get("type", "?")
        if "url" in source:
            remote += 1
            url = source["url"]
            if not url.startswith("https://"):
                problems.append(f"{name}: {url} is not https")
            pinned = "commit" in source if kind == "git" else re.fullmatch("[0-9a-f]{64}", source.get("sha256", ""))
            if not pinned:
                problems.append(f"{name}: {url} has no {'commit' if kind == 'git' else 'sha256'}")
        elif "path" in source:
            path = (base / source["path"]).resolve()
            if not path.exists():
                problems.append(f"{name}: the local {kind} source {source['path']} ({path}) is missing")
            elif kind == "dir":
                folders.append(path)
        elif kind not in ("script", "shell", "inline"):
            problems.append(f"{name}: a {kind} source with neither url nor path")
    return problems, remote, folders


def metainfo_ids(path: Path) -> tuple[str, str]:
    """The component id and the desktop-id launchable of a metainfo file."""
    root = ElementTree.parse(path).getroot()
    return root.findtext("id", "").strip(), root.findtext("launchable[@type='desktop-id']", "").strip()


def check(manifest_path: Path) -> tuple[list[str], list[str]]:
    """(problems, what was checked)."""
    import yaml

    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    base = manifest_path.resolve().parent
    app_id = manifest.get("id") or manifest.get("app-id") or ""
    problems, remote, installs, folders = [], 0, {}, []
    for module in modules(manifest):
        module_problems, module_remote, module_folders = check_sources(module, base)
        problems += module_problems
        remote += module_remote
        folders += module_folders
        for target, source in installed_files(module).items():
            # Files installed from the tree come from the module's dir source.
            found = [folder / source for folder in module_folders if (folder / source).is_file()]
            if not found:
                problems.append(f"{module.get('name', '?')}: installs {source}, which is not in "
                                f"{', '.join(map(str, module_folders)) or 'any local source'}")
            installs[target] = found[0] if found else None

    desktop, metainfo = installs.get(DESKTOP_TARGET), installs.get(METAINFO_TARGET)
    if desktop is None:
        problems.append(f"no desktop file is installed as {DESKTOP_TARGET}")
    if metainfo is None:
        problems.append(f"no metainfo is installed as {METAINFO_TARGET}")
    else:
        component_id, launchable = metainfo_ids(metainfo)
        if component_id != app_id:
            problems.append(f"the app id {app_id!r} is not the metainfo's id {component_id!r}")
        if launchable != f"{app_id}.desktop":
            problems.append(f"the metainfo launches {launchable!r}, but the desktop file is installed as "
                            f"{app_id}.desktop")
    icons = []
    for folder in folders:
        for png in sorted((folder / "resources" / "icons" / "hicolor").glob("*/apps/*.png")):
            target = icon_target(png.parent.parent.name, "png")
            icons.append(target)
            if target not in installs:
                problems.append(f"{png.relative_to(folder)} is not installed as {target}")
    svg_target = icon_target("scalable", "svg")
    if svg_target not in installs:
        problems.append(f"no SVG icon is installed as {svg_target}")
    checked = [
        f"app id {app_id}, the metainfo's id and launchable {app_id}.desktop",
        f"{remote} remote sources, each https and pinned",
        f"{len(folders)} local folder source(s), {len(installs)} files installed from them, all present",
        f"desktop file, metainfo, SVG and {len(icons)} PNG icons installed under the app id",
    ]
    return problems, checked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", nargs="?", type=Path, default=MANIFEST, help="default: %(default)s")
    args = parser.parse_args()
    problems, checked = check(args.manifest)
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 1
    print(f"{args.manifest.name}: ok")
    for line in checked:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

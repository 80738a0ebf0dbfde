"""Check the Flatpak manifest without building it (no flatpak-builder or runtime needed).

``python packaging/flatpak/check_manifest.py [MANIFEST]`` checks that

- every remote source is an https URL pinned by sha256 (a git URL by commit),
- pip installs every dependency that pyproject.toml declares,
- every local source (``path``) and every file an ``install`` command copies from the
  tree exists,
- the app id is the metainfo's component id, and the metainfo's launchable is the
  desktop file the manifest installs,
- the desktop file, the metainfo, every icon in resources/icons/hicolor and the SVG
  are installed, and end up under the app id's name, where Flatpak exports them:
  the metainfo is installed so, and flatpak-builder renames the desktop file
  (rename-desktop-file, rewriting the metainfo's launchable too) and the icons
  (rename-icon, rewriting the desktop file's Icon).

It prints what it checked, or each problem; the exit status is 1 if there is any.
Needs PyYAML (``pip install pyyaml``).
"""

from __future__ import annotations

import argparse
import configparser
import re
import shlex
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "io.github.genretagger.GenreTagger.yml"
# Where flatpak-builder looks for the metainfo: under the app id's name.
METAINFO_TARGET = "${FLATPAK_DEST}/share/metainfo/${FLATPAK_ID}.metainfo.xml"


def desktop_target(name: str) -> str:
    return f"${{FLATPAK_DEST}}/share/applications/{name}"


def icon_target(size: str, name: str, extension: str) -> str:
    return f"${{FLATPAK_DEST}}/share/icons/hicolor/{size}/apps/{name}.{extension}"


def desktop_icon(path: Path) -> str:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser.get("Desktop Entry", "Icon", fallback="")


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


def pip_installs(module: dict[str, Any]) -> set[str]:
    """The distributions the module's ``pip3 install`` commands name, normalised."""
    names = set()
    for command in module.get("build-commands", []):
        words = shlex.split(command)
        if words[:2] in (["pip3", "install"], ["pip", "install"]):
            names |= {normalise(w) for w in words[2:] if not w.startswith("-") and w != "."}
    return names


def declared_dependencies(pyproject: Path) -> set[str] | None:
    """The runtime dependencies pyproject.toml declares, normalised; None before Python 3.11 (no tomllib)."""
    try:
        import tomllib
    except ModuleNotFoundError:
        return None
    requirements = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {normalise(re.match(r"[A-Za-z0-9._-]+", r)[0]) for r in requirements}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


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
    # Without the renames, the files must be installed under the app id's name already.
    desktop_name = manifest.get("rename-desktop-file") or f"{app_id}.desktop"
    icon_name = manifest.get("rename-icon") or app_id
    problems, remote, installs, folders, pip_installed = [], 0, {}, [], set()
    for module in modules(manifest):
        pip_installed |= pip_installs(module)
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

    declared = declared_dependencies(folders[0] / "pyproject.toml") if folders else None
    if declared is not None and declared - pip_installed:
        problems.append(f"pyproject.toml's dependencies {', '.join(sorted(declared - pip_installed))} are not "
                        "installed by any pip3 install command")
    desktop, metainfo = installs.get(desktop_target(desktop_name)), installs.get(METAINFO_TARGET)
    if desktop is None:
        problems.append(f"no desktop file is installed as {desktop_target(desktop_name)}")
    elif desktop_icon(desktop) != icon_name:
        problems.append(f"{desktop.name} names the icon {desktop_icon(desktop)!r}, the manifest installs {icon_name!r}")
    if metainfo is None:
        problems.append(f"no metainfo is installed as {METAINFO_TARGET}")
    else:
        component_id, launchable = metainfo_ids(metainfo)
        if component_id != app_id:
            problems.append(f"the app id {app_id!r} is not the metainfo's id {component_id!r}")
        if launchable != desktop_name:
            problems.append(f"the metainfo launches {launchable!r}, the desktop file is installed as {desktop_name}")
    icons = []
    for folder in folders:
        for png in sorted((folder / "resources" / "icons" / "hicolor").glob("*/apps/*.png")):
            target = icon_target(png.parent.parent.name, icon_name, "png")
            icons.append(target)
            if target not in installs:
                problems.append(f"{png.relative_to(folder)} is not installed as {target}")
    svg_target = icon_target("scalable", icon_name, "svg")
    if svg_target not in installs:
        problems.append(f"no SVG icon is installed as {svg_target}")
    renamed = f", renamed to {app_id}.*" if (desktop_name, icon_name) != (f"{app_id}.desktop", app_id) else ""
    checked = [
        f"app id {app_id}: the metainfo's id; its launchable {desktop_name}, the desktop file installed",
        f"{remote} remote sources, each https and pinned by sha256",
        f"pyproject.toml's {len(declared)} dependencies all installed" if declared is not None
        else "pyproject.toml's dependencies not compared (Python 3.10 has no tomllib)",
        f"{len(folders)} local folder source(s), {len(installs)} files installed from them, all present",
        f"metainfo, {desktop_name} with Icon={icon_name}, the SVG and {len(icons)} PNG icons installed{renamed}",
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

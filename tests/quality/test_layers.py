"""The packages follow the data's path, and each imports only from those before it.

The order is read from the source, every import counted (also those inside functions and
under TYPE_CHECKING), so a shortcut upward shows here before it grows into a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import REPO

# Lowest first. A module may import from its own layer and any layer before it.
LAYERS: list[tuple[str, ...]] = [
    ("tagger", "tagger.resources", "tagger.text", "tagger.probability"),
    ("tagger.files",),
    ("tagger.audio",),
    ("tagger.genres",),
    ("tagger.tags",),
    ("tagger.learning",),
    ("tagger.analysis",),
    ("tagger.writing",),
    ("tagger.library",),
    ("tagger.settings",),
    ("tagger.review",),
    ("tagger.cli",),
    ("ui",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The index of the layer whose longest prefix names ``module``; the first layer's
    modules are named exactly, since every module starts with ``tagger``."""
    matches = [(len(prefix), index) for index, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or (index > 0 and module.startswith(prefix + "."))]
    if not matches:
        raise LookupError(f"{module} belongs to no layer: add it or its package to LAYERS")
    return max(matches)[1]


def imported_modules(source: str, importer: str) -> set[str]:
    """Every tagger/ui module that ``source`` imports, absolute or relative."""
    found = set()
    package = importer if importer.count(".") == 0 else importer.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in {"tagger", "ui"}}


def known_module(name: str) -> str:
    """``name`` itself where it is a module or package, else the module it names a member of."""
    parts = name.split(".")
    while parts:
        candidate = REPO.joinpath(*parts)
        if candidate.with_suffix(".py").is_file() or (candidate / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    raise LookupError(f"{name} is not a module of this repository")


def layer_violations(sources: dict[str, str]) -> list[str]:
    problems = []
    for importer, source in sorted(sources.items()):
        own = layer_of(importer)
        for imported in sorted(imported_modules(source, importer)):
            target = known_module(imported) if imported not in sources else imported
            if layer_of(target) > own:
                problems.append(f"{importer} ({LAYERS[own][0]}) imports {imported} "
                                f"({LAYERS[layer_of(target)][0]}), a later layer")
    return problems


def repository_sources() -> dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8")
            for folder in ("tagger", "ui") for path in (REPO / folder).rglob("*.py")}


def test_each_package_imports_only_from_the_layers_before_it():
    assert layer_violations(repository_sources()) == []


def test_every_module_belongs_to_a_layer():
    for module in repository_sources():
        layer_of(module)


@pytest.mark.parametrize(("importer", "source", "expected"), [
    ("tagger.files.scan", "from tagger.writing.writer import GenreWriter",
     "tagger.files.scan (tagger.files) imports tagger.writing.writer (tagger.writing), a later layer"),
    ("tagger.analysis.cache", "def later():\n    import ui.app",
     "tagger.analysis.cache (tagger.analysis) imports ui.app (ui), a later layer"),
    ("tagger.genres.vocabulary", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
     "    from tagger.review.items import ReviewItem",
     "tagger.genres.vocabulary (tagger.genres) imports tagger.review.items (tagger.review), a later layer"),
    ("tagger.writing.writer", "from ..review import items",
     "tagger.writing.writer (tagger.writing) imports tagger.review.items (tagger.review), a later layer"),
])
def test_an_import_from_a_later_layer_is_caught(importer, source, expected):
    assert expected in layer_violations({importer: source})


def test_an_import_from_an_earlier_layer_or_the_same_package_passes():
    assert layer_violations({"tagger.writing.writer": "from tagger.files.atomic import rewrite_atomically\n"
                                                      "from tagger.writing.journal import Journal\n"
                                                      "from tagger import text"}) == []


def test_a_module_outside_every_layer_is_named():
    with pytest.raises(LookupError, match="tagger.newthing"):
        layer_of("tagger.newthing")


def test_the_command_line_loads_neither_qt_nor_the_app():
    probe = textwrap.dedent("""
        import sys
        import tagger.cli
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6", "ui"})
        print(loaded)
    """)
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

"""Every third-party module the app imports is a declared dependency.

The test extras bring packages the app must not need: `learn` imported scipy for months
while a plain `pip install genre-tagger` lacked it, and no test noticed. scipy is now only
the reference the minimisers are tested against, and this test keeps it out of the app.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires

from support.paths import REPO


def imported_top_level_modules() -> set[str]:
    modules = set()
    for source in [*(REPO / "tagger").rglob("*.py"), *(REPO / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"tagger", "ui", "__future__"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies() -> list[str]:
    """pyproject.toml's, or on Python 3.10 (no tomllib) the installed package's."""
    try:
        import tomllib
    except ImportError:
        return [r for r in requires("genre-tagger") or [] if "extra ==" not in r]
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def test_every_imported_package_is_a_declared_dependency():
    declared = {normalised(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in declared_dependencies()}
    providers = packages_distributions()
    missing = {m: providers.get(m, ["(not installed)"]) for m in imported_top_level_modules()
               if not {normalised(d) for d in providers.get(m, [])} & declared}
    assert not missing, f"imported but not declared in pyproject.toml's dependencies: {missing}"

"""Every public class of the core and the app says in one line what it is."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_public_class_has_a_docstring() -> None:
    missing = [f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
               for package in ("tagger", "ui") for path in sorted((REPO / package).rglob("*.py"))
               for node in ast.parse(path.read_text(encoding="utf-8")).body
               if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and not ast.get_docstring(node)]
    assert not missing, "public classes without a docstring:\n" + "\n".join(missing)

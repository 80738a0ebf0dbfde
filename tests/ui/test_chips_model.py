"""The chips' data and words (ui/chips.py) stand apart from Qt: the table's model and the
painted views both read them, and neither imports the other."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

from support.paths import REPO

from tagger.genres.suggestion import GenreSuggestion, Source
from ui.chips import (
    TOGGLE_HINT,
    Chip,
    candidates_tooltip,
    legend_tooltip,
    source_tooltip,
    spoken_chip,
    spoken_chips,
    suggestion_chip,
)


def ui_imports(module: str) -> set[str]:
    """The ui modules that ui/``module``.py imports, also inside functions."""
    found = set()
    for node in ast.walk(ast.parse((REPO / "ui" / f"{module}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ui.")}


def test_the_chips_module_loads_no_qt():
    probe = textwrap.dedent("""
        import sys
        import ui.chips
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "shiboken6"}))
    """)
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_painted_views_and_the_table_model_do_not_import_each_other():
    assert "ui.library" not in ui_imports("charts")
    assert "ui.charts" not in ui_imports("library")
    assert {"ui.chips", "ui.roles"} <= ui_imports("charts") & ui_imports("library")


def test_a_suggestion_becomes_a_chip_with_its_source():
    suggestion = GenreSuggestion("Jazz", "Jazz", 0.7, source="album")
    assert suggestion_chip(suggestion) == Chip("Jazz", 0.7, "album", True)
    assert suggestion_chip(suggestion, chosen=False) == Chip("Jazz", 0.7, "album", False)


def test_the_tooltips_name_each_chip_and_say_what_a_click_does_only_where_it_does_something():
    chips = [Chip("Jazz", 0.7, "album"), Chip("Vaporwave", None, None, chosen=False)]
    assert source_tooltip(chips) == ("◆ Jazz 70%: the tags of this album's other tracks vouch for it most\n"
                                     "✎ Vaporwave: your own choice")
    assert candidates_tooltip(chips).splitlines() == [
        "◆ Jazz 70%: the tags of this album's other tracks vouch for it most; Accept writes it",
        "✎ Vaporwave: your own choice; not chosen: Accept leaves it out",
        TOGGLE_HINT,
    ]
    assert TOGGLE_HINT not in candidates_tooltip(chips, toggleable=False)
    assert source_tooltip([]) is None and candidates_tooltip([]) is None


def test_a_screen_reader_hears_each_chips_genre_confidence_source_and_choice_without_glyphs():
    chips = [Chip("Jazz", 0.7, "album"), Chip("Vaporwave", None, None, chosen=False)]
    assert spoken_chips(chips) == ("Jazz, 70%, from album mates' tags, chosen; "
                                   "Vaporwave, your own choice, not chosen")
    assert spoken_chip(chips[0], choice=False) == "Jazz, 70%, from album mates' tags"
    assert spoken_chips([]) == "no genres suggested"


def test_the_legend_explains_each_source_it_shows():
    assert legend_tooltip([Source.LEARNED, Source.BASE]) == (
        "● your genres: learned from the genres you already tagged\n"
        "○ bundled vocabulary: from the bundled genre vocabulary")

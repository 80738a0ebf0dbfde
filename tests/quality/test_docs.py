"""The README stays short and keeps CI's test command, and every relative link in the docs
leads to a file, and to a heading where it names one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.paths import REPO

README = REPO / "README.md"
DOCS = sorted([README, REPO / "CONTRIBUTING.md", *(REPO / "docs").glob("*.md")])
README_MOST_LINES = 200

pytestmark = pytest.mark.skipif(not README.is_file(), reason=f"no source tree here: {README} is absent")

FENCED_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(markdown: str) -> str:
    """The text outside code, where a link is a link."""
    return INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text, lower case, without punctuation,
    spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in ``path``; a repeated heading gets -1, -2 … as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCED_BLOCK.sub("", path.read_text(encoding="utf-8"))):
        base = anchor(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def broken_links(path: Path, markdown: str) -> list[str]:
    """The links in ``markdown``, the text of ``path``, that lead to no file or heading."""
    problems = []
    for target in LINK.findall(prose(markdown)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …: not ours to check
            continue
        file_part, _, fragment = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{path.relative_to(REPO)}: {target} (no such file)")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            problems.append(f"{path.relative_to(REPO)}: {target} (no such heading)")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_leads_somewhere(doc):
    assert broken_links(doc, doc.read_text(encoding="utf-8")) == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for target in LINK.findall(prose(README.read_text(encoding="utf-8")))}
    assert [p.relative_to(REPO) for p in DOCS if p != README and p.resolve() not in linked] == []


def test_the_readme_stays_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) < README_MOST_LINES


def test_the_readme_quick_start_runs_the_command_ci_runs():
    ci_command = [line for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
                  if line and not line.startswith("#")][-1]
    readme = README.read_text(encoding="utf-8")
    assert ci_command in readme
    assert "pip install . && genre-tagger suggest --demo" in readme


@pytest.mark.parametrize(("markdown", "expected"), [
    ("[a](docs/missing.md)", ["README.md: docs/missing.md (no such file)"]),
    ("[a](docs/app.md#no-such-heading)", ["README.md: docs/app.md#no-such-heading (no such heading)"]),
    ("[a](docs/app.md) ![b](docs/screenshots/main-window.png) [c](https://example.org/x)", []),
    ("`[a](nowhere.md)`\n\n```\n[b](nowhere.md)\n```\n", []),
])
def test_a_broken_link_is_named(markdown, expected):
    assert broken_links(README, markdown) == expected


@pytest.mark.parametrize(("heading", "expected"), [
    ("Output of `suggest`: the `--json` schema", "output-of-suggest-the---json-schema"),
    ("Reading a library's genres", "reading-a-librarys-genres"),
    ("Cleaning up the genres a library holds: `genres`, `normalise`, `rename`",
     "cleaning-up-the-genres-a-library-holds-genres-normalise-rename"),
])
def test_anchors_are_spelled_as_github_spells_them(heading, expected):
    assert anchor(heading) == expected

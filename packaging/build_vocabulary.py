"""Build resources/vocabulary.json: a genre list with a hierarchy, for genre cleanup.

The list is beets' ``lastgenre`` plugin's ``genres.txt`` and ``genres-tree.yaml``
(MIT licence, kept beside it in ``resources/licences/beets-lastgenre.txt``), taken
from a beets wheel:

    pip download beets --no-deps -d /tmp/beets
    python packaging/build_vocabulary.py /tmp/beets/beets-*.whl

beets keeps its names in lower case; here each gets the spelling people write
(``hip hop`` -> ``Hip Hop``, ``r&b`` -> ``R&B``, ``uk garage`` -> ``UK Garage``).
Where ``resources/genres.json`` (the models' vocabulary) knows a genre, its
spelling wins at load time (``tagger/genres/vocabulary.py``), so this file only adds.
Needs PyYAML, which only this script uses.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "vocabulary.json"
LICENCE_OUT = ROOT / "resources" / "licences" / "beets-lastgenre.txt"
PLUGIN = "beetsplug/lastgenre/"
# Words written in capitals: abbreviations and country codes.
UPPER = {"uk", "us", "usa", "edm", "idm", "ebm", "dj", "mpb", "nwobhm", "nwoahm", "r&b", "ska", "emo", "lo-fi",
         "dnb", "gqom", "mc", "tv", "vgm", "aor", "ccm", "jrpg"}
UPPER -= {"ska", "emo", "lo-fi", "gqom"}  # read as words, not letters
LOWER = {"and", "of", "the", "de", "do", "da", "n", "y", "a", "in", "con", "la", "el"}


def spelled(name: str) -> str:
    """The lower-case beets name as people write it."""
    words = []
    for index, word in enumerate(name.split(" ")):
        if word in UPPER:
            words.append(word.upper())
        elif index and word in LOWER:
            words.append(word)
        else:
            # Capitalise each hyphen- or slash-separated part: post-rock -> Post-Rock.
            words.append(re.sub(r"(^|[-/(])(\w)", lambda m: m.group(1) + m.group(2).upper(), word))
    return " ".join(words)


def walk(tree: object, parent: str | None, parents: dict[str, str | None]) -> None:
    """beets' tree is a list of names and of one-key mappings from a name to its children."""
    if isinstance(tree, list):
        for node in tree:
            walk(node, parent, parents)
    elif isinstance(tree, dict):
        for name, children in tree.items():
            parents.setdefault(str(name), parent)
            walk(children or [], str(name), parents)
    else:
        parents.setdefault(str(tree), parent)


def build(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as zf:
        names = [n.strip() for n in zf.read(PLUGIN + "genres.txt").decode("utf-8").splitlines() if n.strip()]
        tree = yaml.safe_load(zf.read(PLUGIN + "genres-tree.yaml"))
        licence = next(n for n in zf.namelist() if re.search(r"\.dist-info/(licenses/)?LICENSE", n))
        LICENCE_OUT.write_bytes(zf.read(licence))
        version = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        version = re.search(r"^Version: (.+)$", zf.read(version).decode(), re.M).group(1)
    parents: dict[str, str | None] = {}
    walk(tree, None, parents)
    everything = list(dict.fromkeys([*parents, *names]))
    genres = [[spelled(n), spelled(parents[n]) if parents.get(n) else None] for n in everything]
    return {
        "about": ("Genre names and their parents, from beets' lastgenre plugin (genres.txt and genres-tree.yaml), "
                  "respelled by packaging/build_vocabulary.py. MIT licence: resources/licences/beets-lastgenre.txt."),
        "source": f"beets {version}",
        "genres": genres,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a beets wheel (.whl)")
    doc = build(parser.parse_args().wheel)
    # One genre a line, so that a rebuild's diff reads genre by genre.
    lines = ",\n".join(json.dumps(g, ensure_ascii=False) for g in doc["genres"])
    head = json.dumps({k: v for k, v in doc.items() if k != "genres"}, ensure_ascii=False, indent=1)[:-2]
    OUT.write_text(f'{head},\n "genres": [\n{lines}\n]}}\n', encoding="utf-8")
    print(f"{OUT}: {len(doc['genres'])} genres from {doc['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""When two genre strings name the same genre, which spelling a group of them uses,
and what the genre vocabulary knows about a name.

``genre_key`` is the spelling rule: it ignores case, spacing, hyphens and
underscores, and treats ``&``, ``and``, ``n`` and ``'n'`` between words as one
joiner. So ``Hip-Hop``, ``hip hop`` and ``HipHop`` are one genre, and so are
``Drum & Bass``, ``Drum and Bass`` and ``drum'n'bass``. Reading a file's tags
folds repeats by it.

``Vocabulary.key`` is the one rule for "the same genre" that learning, the
taxonomy lookup and genre cleanup share: ``genre_key`` plus the aliases, bundled
(``DnB`` is ``Drum and Bass``) and the person's own (from renames and merges).

The vocabulary is the models' genres (``resources/genres.json``, whose spelling
and families win) over beets' lastgenre genre list and tree
(``resources/vocabulary.json``, MIT, built by ``packaging/build_vocabulary.py``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tagger.files.regular import read_state_file
from tagger.files.state import reason, state_errors
from tagger.resources import resource_dir, taxonomy_path

log = logging.getLogger(__name__)

# 'n' or ’n’ glued between two words: rock'n'roll, drum’n’bass.
_GLUED_JOINER = re.compile(r"(?<=\w)['’]n['’](?=\w)")
_JOINER_WORDS = frozenset({"&", "and", "n", "'n'", "’n’", "'n", "n'", "’n", "n’"})
# Values people and taggers put in a genre field that name no genre at all.
JUNK = frozenset({"", "other", "others", "unknown", "misc", "miscellaneous", "genre", "none", "n/a", "na",
                  "various", "default", "untitled", "-", "?"})
# Longer than any real genre name; such values are sentences or pasted text.
MAX_GENRE_LENGTH = 80


def genre_key(name: str) -> str:
    """The key under which spellings of one genre are equal."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _GLUED_JOINER.sub(" & ", text)
    text = text.replace("&", " & ").replace("-", " ").replace("_", " ")
    return "".join("&" if word in _JOINER_WORDS else word for word in text.split())


def is_junk(name: str) -> bool:
    """A value that is not a genre: empty, a placeholder such as "Unknown", a URL,
    or text too long to be a genre's name."""
    stripped = name.strip()
    lowered = stripped.casefold()
    return (lowered in JUNK or len(stripped) > MAX_GENRE_LENGTH or "://" in lowered
            or lowered.startswith("www.") or not any(c.isalnum() for c in stripped))


def preferred_spellings(names: Iterable[str], key_of: Callable[[str], str] = genre_key) -> dict[str, str]:
    """For each genre key (``key_of``), the spelling used most often among ``names`` (one
    entry per occurrence); ties go to the spelling seen first."""
    counts: Counter[str] = Counter(" ".join(n.split()) for n in names)
    best: dict[str, tuple[int, str]] = {}
    for spelling, count in counts.items():  # Counter keeps first-seen order
        key = key_of(spelling)
        if key and (key not in best or count > best[key][0]):
            best[key] = (count, spelling)
    return {key: spelling for key, (_, spelling) in best.items()}


# What joins several genres in one value: "Rock/Pop", "Rock; Electronic", "Jazz, Blues",
# "Rock | Pop", "Rock \\ Pop". A backslash needs spaces round it: it is rare inside names.
JOINED_VALUE = re.compile(r"\s*(?:[/;,|]|\s\\\s)\s*")


def joined_parts(value: str) -> list[str]:
    """The parts of a value joined by one of the separators; one part if it has none."""
    return [part for part in JOINED_VALUE.split(value.strip()) if part]


def user_aliases_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("genre-tagger", appauthor=False) / "genre-aliases.json"


class Vocabulary:
    """Known genres with their canonical spelling and parent, and aliases between names.

    ``genres`` maps names to parents (None for a root); earlier entries win a key.
    ``families`` gives the family of the genres the models know. ``aliases`` maps a
    name to the genre it means; the person's own (``user_aliases``) also choose
    the spelling of their target.
    """

    def __init__(self, genres: Iterable[tuple[str, str | None]], families: Mapping[str, str],
                 aliases: Mapping[str, str] = {}, user_aliases: Mapping[str, str] = {}) -> None:
        self._name: dict[str, str] = {}
        self._parent: dict[str, str] = {}
        for name, parent in genres:
            key = genre_key(name)
            if key and key not in self._name:
                self._name[key] = name
                if parent:
                    self._parent[key] = genre_key(parent)
        self._family = {genre_key(name): family for name, family in families.items()}
        self._alias: dict[str, str] = {}
        for old, new in aliases.items():
            self._alias[genre_key(old)] = genre_key(new)
        self.user_aliases = dict(user_aliases)
        self._chosen: dict[str, str] = {}  # the person's spelling of the genres they renamed or merged into
        for old, new in user_aliases.items():
            target = self.key(new)
            self._alias[genre_key(old)] = target
            self._name[target] = self._chosen[target] = new
        for key, target in list(self._alias.items()):
            if key == target:
                del self._alias[key]

    @classmethod
    def load(cls, user_aliases: Path | None = None) -> Vocabulary:
        taxonomy = json.loads(taxonomy_path().read_text(encoding="utf-8"))
        listed = json.loads((resource_dir() / "vocabulary.json").read_text(encoding="utf-8"))
        models = [(g["name"], g["parent"]) for g in taxonomy["genres"]]
        families = {name: parent or name for name, parent in models}
        return cls([*models, *((name, parent) for name, parent in listed["genres"])], families,
                   taxonomy.get("aliases", {}), read_user_aliases(user_aliases or user_aliases_path()))

    def key(self, name: str) -> str:
        """The key under which ``name`` and its variants and aliases are one genre."""
        key = genre_key(name)
        seen = set()
        while key in self._alias and key not in seen:  # a user alias may point at another alias
            seen.add(key)
            key = self._alias[key]
        return key

    def knows(self, name: str) -> bool:
        return self.key(name) in self._name

    def canonical(self, name: str) -> str | None:
        """The vocabulary's spelling of ``name`` (the person's, for a genre they renamed), or None."""
        return self._name.get(self.key(name))

    def chosen(self, name: str) -> str | None:
        """The spelling the person chose for this genre by renaming or merging, if they did."""
        return self._chosen.get(self.key(name))

    def parent(self, name: str) -> str | None:
        parent = self._parent.get(self.key(name))
        return self._name.get(parent) if parent else None

    def family(self, name: str) -> str | None:
        """The family of a known genre: the models' family of it or of its nearest ancestor the models
        know, else the root of its tree; None for a genre the vocabulary does not know."""
        key = self.key(name)
        if key not in self._name and key not in self._family:
            return None
        seen = set()
        while key not in self._family and key in self._parent and key not in seen:
            seen.add(key)
            key = self._parent[key]
        return self._family.get(key) or self._name.get(key)

    def names(self) -> list[str]:
        """Every canonical spelling, for completion."""
        return list(self._name.values())


def read_user_aliases(path: Path) -> dict[str, str]:
    try:
        stored = json.loads(read_state_file(path).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.warning("could not read the genre aliases in %s (%s); ignoring them", path,
                    reason(e, path))
        return {}
    aliases = stored.get("aliases") if isinstance(stored, dict) else None
    if not isinstance(aliases, dict):
        log.warning("the genre aliases in %s are not a JSON object of names; ignoring them", path)
        return {}
    return {old: new for old, new in aliases.items() if isinstance(old, str) and isinstance(new, str) and new.strip()}


@dataclass(frozen=True)
class AliasChange:
    """One rename or merge saved as the person's alias, with the aliases it displaced,
    so that undoing the batch that made it can take it back."""

    old: str
    new: str
    displaced: dict[str, str] = field(default_factory=dict)  # removed or overwritten by the change


def save_user_alias(old: str, new: str, path: Path | None = None) -> AliasChange:
    """Remember that ``old`` means ``new`` (a rename or merge), for every later reading and cleanup."""
    path = path or user_aliases_path()
    aliases = read_user_aliases(path)
    # The genre merged into no longer points elsewhere, and a name is never its own alias.
    kept = {o: n for o, n in aliases.items() if genre_key(o) != genre_key(new)}
    if old != new:
        kept[old] = new
    _write_user_aliases(kept, path)
    return AliasChange(old, new, {o: n for o, n in aliases.items() if kept.get(o) != n})


def take_back_alias(change: AliasChange, path: Path | None = None) -> None:
    """Undo ``change``: drop its alias, unless the person has since pointed the name elsewhere,
    and restore the aliases it displaced, unless their names have since been given others or
    the alias would now lead back to itself."""
    path = path or user_aliases_path()
    aliases = read_user_aliases(path)
    if aliases.get(change.old) == change.new:
        del aliases[change.old]
    for old, new in change.displaced.items():
        if old not in aliases and not _leads_to(aliases, new, old):
            aliases[old] = new
    _write_user_aliases(aliases, path)


def _leads_to(aliases: Mapping[str, str], start: str, goal: str) -> bool:
    """Whether following ``aliases`` from ``start`` reaches ``goal``, by the spelling rule."""
    targets = {genre_key(old): new for old, new in aliases.items()}
    seen: set[str] = set()
    key = genre_key(start)
    while key not in seen:
        if key == genre_key(goal):
            return True
        seen.add(key)
        if key not in targets:
            return False
        key = genre_key(targets[key])
    return False


def _write_user_aliases(aliases: dict[str, str], path: Path) -> None:
    """StateError, saying why in a sentence, where the config folder cannot take them."""
    from tagger.files.atomic import write_file_atomically

    with state_errors("the genre aliases", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(path, json.dumps({"aliases": aliases}, ensure_ascii=False, indent=2).encode("utf-8"))
    forget_vocabulary()


_loaded: Vocabulary | None = None
_loading = threading.Lock()


def vocabulary() -> Vocabulary:
    """The bundled vocabulary with the person's aliases, loaded once."""
    global _loaded
    with _loading:
        if _loaded is None:
            _loaded = Vocabulary.load()
        return _loaded


def forget_vocabulary() -> None:
    """Load the vocabulary again on next use: the person's aliases (or the config folder) changed."""
    global _loaded
    with _loading:
        _loaded = None


def completion_names(library: Iterable[str], vocab: Vocabulary | None = None) -> list[str]:
    """Names to offer as a person types a genre: one per genre, variants folded. The library's
    own spelling (the person's chosen one, else the most common) wins over the vocabulary's."""
    vocab = vocab or vocabulary()
    names = {key: vocab.chosen(spelling) or spelling
             for key, spelling in preferred_spellings((g for g in library if not is_junk(g)), vocab.key).items()}
    for name in vocab.names():
        names.setdefault(vocab.key(name), name)
    return sorted(names.values(), key=str.casefold)

"""When two genre strings name the same genre, and which spelling a group of them uses.

``genre_key`` is the one rule for "the same genre", shared by learning, the
taxonomy lookup and genre cleanup: it ignores case, spacing, hyphens and
underscores, and treats ``&``, ``and``, ``n`` and ``'n'`` between words as one
joiner. So ``Hip-Hop``, ``hip hop`` and ``HipHop`` are one genre, and so are
``Drum & Bass``, ``Drum and Bass`` and ``drum'n'bass``. It does not know aliases
such as ``DnB``; those belong to the vocabulary, not to spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

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


def preferred_spellings(names: Iterable[str]) -> dict[str, str]:
    """For each genre key, the spelling used most often among ``names`` (one entry per
    occurrence); ties go to the spelling seen first."""
    counts: Counter[str] = Counter(" ".join(n.split()) for n in names)
    best: dict[str, tuple[int, str]] = {}
    for spelling, count in counts.items():  # Counter keeps first-seen order
        key = genre_key(spelling)
        if key and (key not in best or count > best[key][0]):
            best[key] = (count, spelling)
    return {key: spelling for key, (_, spelling) in best.items()}

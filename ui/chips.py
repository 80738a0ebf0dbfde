"""Genre chips as data and words, free of Qt: a chip, its label, its source's words, the tooltips' text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.review.items import ReviewItem


class Chip(NamedTuple):
    """One genre as the Suggested column shows it."""

    genre: str
    confidence: float | None  # None: a person's own pick
    source: Source | None  # GenreSuggestion.source; None: a person's own pick
    chosen: bool = True  # Accept writes it; an unchosen chip is a suggestion a click can choose


def item_chips(item: ReviewItem) -> list[Chip]:
    """What ``item`` shows: the genres Accept writes, then the rest of its best suggestions, unchosen."""
    return [Chip(c.genre, c.confidence, None if c.suggestion is None else c.suggestion.source, c.chosen)
            for c in item.candidates()]


def suggestion_chip(suggestion: GenreSuggestion, chosen: bool = True) -> Chip:
    """``suggestion`` as a chip."""
    return Chip(suggestion.genre, suggestion.confidence, suggestion.source, chosen)


def chip_label(genre: str, confidence: float | None) -> str:
    """A chip's text: the genre, and its confidence where it has one."""
    return genre if confidence is None else f"{genre} {confidence:.0%}"


# Each source's name, what it means and its marker's shape as text, for tooltips,
# legends and the panel; ui.charts gives each marker its colour and paints it.
SOURCE_ORDER = (Source.LEARNED, Source.BASE, Source.ALBUM, Source.ARTIST, Source.FOLDER)
SOURCE_NAMES = {Source.LEARNED: "your genres", Source.BASE: "bundled vocabulary", Source.ALBUM: "album mates' tags",
                Source.ARTIST: "the artist's other albums", Source.FOLDER: "folder name"}
SOURCE_MEANINGS = {
    Source.LEARNED: "learned from the genres you already tagged",
    Source.BASE: "from the bundled genre vocabulary",
    Source.ALBUM: "the tags of this album's other tracks vouch for it most",
    Source.ARTIST: "the genres of the artist's other albums vouch for it most",
    Source.FOLDER: "the name of a folder it sits in vouches for it most",
    None: "your own choice",
}
SOURCE_GLYPHS = {Source.LEARNED: "●", Source.BASE: "○", Source.ALBUM: "◆", Source.ARTIST: "▲", Source.FOLDER: "■",
                 None: "✎"}

TOGGLE_HINT = "Click a genre to choose or unchoose it."


def evidence_text(suggestion: GenreSuggestion) -> str:
    """What each source gave ``suggestion``, strongest first, in words:
    "Jazz 94% — album mates' tags 85%, your genres 60%"."""
    parts = sorted(suggestion.evidence or ((suggestion.source, suggestion.confidence),), key=lambda p: -p[1])
    return f"{chip_label(suggestion.genre, suggestion.confidence)} — " + ", ".join(
        f"{SOURCE_NAMES.get(source, source)} {value:.0%}" for source, value in parts)


def source_line(chip: Chip) -> str:
    """A chip with its marker and what it means, for a tooltip."""
    return f"{SOURCE_GLYPHS.get(chip.source, '')} {chip_label(chip.genre, chip.confidence)}: " \
           f"{SOURCE_MEANINGS.get(chip.source, chip.source or '')}"


def candidate_line(chip: Chip) -> str:
    """A chip's source line and whether Accept writes its genre."""
    return f"{source_line(chip)}; " + ("Accept writes it" if chip.chosen else "not chosen: Accept leaves it out")


def source_tooltip(chips: Iterable[Chip]) -> str | None:
    """Each chip with what its marker means; None for no chips."""
    return "\n".join(source_line(c) for c in chips) or None


def candidates_tooltip(chips: Sequence[Chip], toggleable: bool = True) -> str | None:
    """Every candidate with its confidence, its source and whether Accept writes it, and,
    where a click can choose or unchoose them, how; None for no chips."""
    if not chips:
        return None
    return "\n".join([*(candidate_line(c) for c in chips), *([TOGGLE_HINT] if toggleable else [])])


def spoken_chip(chip: Chip, choice: bool = True) -> str:
    """A chip as a screen reader says it, without the marker's glyph: "Jazz, 94%, from
    album mates' tags, chosen"; with ``choice`` False, where nothing is chosen (the bars), without the last part."""
    source = f"from {SOURCE_NAMES[chip.source]}" if chip.source in SOURCE_NAMES else "your own choice"
    confidence = [] if chip.confidence is None else [f"{chip.confidence:.0%}"]
    chosen = ["chosen" if chip.chosen else "not chosen"] if choice else []
    return ", ".join([chip.genre, *confidence, source, *chosen])


def spoken_chips(chips: Iterable[Chip], choice: bool = True) -> str:
    """Every chip as a screen reader says it, one after another."""
    return "; ".join(spoken_chip(c, choice) for c in chips) or "no genres suggested"


def legend_tooltip(sources: Iterable[str]) -> str:
    """What each of ``sources``' markers means, a line each."""
    return "\n".join(f"{SOURCE_GLYPHS[s]} {SOURCE_NAMES[s]}: {SOURCE_MEANINGS[s]}" for s in sources)

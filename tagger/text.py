"""Counts in sentences, as both front ends write them."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 file``, ``2 files``: counts as people write them."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def has(count: int) -> str:
    """The verb that agrees with ``count``: "1 file has", "2 files have"."""
    return "has" if count == 1 else "have"

"""Genres as words: the vocabulary and its aliases, the taxonomy, and the suggestion a stage hands on."""

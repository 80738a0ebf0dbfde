"""Genre Tagger's core: audio analysis, genre suggestions and tag access, without Qt."""

__version__ = "0.1.0"

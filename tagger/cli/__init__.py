"""The ``genre-tagger`` command line: one module per command, assembled by ``program``."""

from tagger.cli.program import main

__all__ = ["main"]

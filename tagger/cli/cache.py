"""``cache``: report on or empty the analysis cache."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagger.cli.options import EXIT_OK
from tagger.text import printable


def add_parser(commands: Any) -> None:
    cache = commands.add_parser("cache", help="report on or empty the analysis cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagger.analysis.cache import AnalysisCache

    cache = AnalysisCache()
    try:
        if args.action == "clear":
            out.write(printable(f"removed {cache.clear()} cached analyses from {cache.path}") + "\n")
        else:
            info = cache.info()
            out.write(printable(f"{info.entries} cached analyses, {info.bytes / 1e6:.1f} MB, in {info.path}") + "\n")
    finally:
        cache.close()
    return EXIT_OK

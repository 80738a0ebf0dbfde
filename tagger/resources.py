"""Where the bundled models, taxonomy and demo samples live.

A wheel carries them inside the package (``tagger/data``); a source checkout
or an editable install keeps them in the repository's top-level ``resources/``.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path


@cache
def resource_dir() -> Path:
    package = Path(__file__).resolve().parent
    for candidate in (package / "data", package.parent / "resources"):
        if (candidate / "genres.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"Genre Tagger's resources are missing: looked in {package / 'data'} and "
        f"{package.parent / 'resources'}. Reinstall the package."
    )


def models_dir() -> Path:
    return resource_dir() / "models"


def samples_dir() -> Path:
    return resource_dir() / "samples"


def demo_copy() -> Path:
    """A fresh copy of the demo samples in the user cache folder, for the app's demo: applying
    and undoing there leaves the bundled files (perhaps read-only, inside an install) alone."""
    from platformdirs import user_cache_path

    folder = user_cache_path("genre-tagger") / "demo-samples"
    shutil.rmtree(folder, ignore_errors=True)  # ours alone: the previous demo's copies
    shutil.copytree(samples_dir(), folder)
    return folder


def taxonomy_path() -> Path:
    return resource_dir() / "genres.json"

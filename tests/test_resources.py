"""The bundled resources, and the demo's copies of the samples."""

from __future__ import annotations

import os

from tagger.resources import demo_copy, samples_dir


def contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_demo_works_on_fresh_copies_and_never_on_the_bundled_samples():
    bundled = contents(samples_dir())
    copy = demo_copy()
    assert copy.resolve() != samples_dir().resolve()
    assert str(copy).startswith(os.environ["XDG_CACHE_HOME"])  # the test's private cache folder
    assert contents(copy) == bundled and len(bundled) >= 3
    (copy / next(iter(bundled))).write_bytes(b"changed by a demo's apply")
    (copy / "left over.txt").write_text("x")
    assert contents(demo_copy()) == bundled  # the next demo starts from the samples again
    assert contents(samples_dir()) == bundled

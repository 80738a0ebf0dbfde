"""Fixtures of the app's tests: the main window, and a real analysis to give its rows."""

import pytest
from support.window import shown_window


@pytest.fixture
def window(qtbot, analyzer):
    w = shown_window(qtbot, analyzer)
    yield w
    w.close()


@pytest.fixture(scope="module")
def demo_analysis(analyzer):
    """A real analysis of a bundled sample, which the tests give the genres they need."""
    from tagger.resources import samples_dir

    return analyzer.analyse(next(p for p in samples_dir().iterdir() if p.suffix == ".ogg"))

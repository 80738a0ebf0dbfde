"""Review state: a person's decisions survive re-analysis and interruptions."""

from dataclasses import replace
from pathlib import Path

import pytest

from tagger.genres import GenreSuggestion
from tagger.review import ReviewItem, ReviewState


@pytest.fixture(scope="module")
def analysis(analyzer):
    from tagger.resources import samples_dir

    real = analyzer.analyse(next(p for p in samples_dir().iterdir() if p.suffix == ".ogg"))
    return replace(real, genres=[GenreSuggestion("Rock", "Rock", 0.9), GenreSuggestion("Jazz", "Jazz", 0.2)])


def reanalysed(item: ReviewItem, analysis) -> ReviewItem:
    item.start_analysis()
    assert item.state is ReviewState.ANALYSING
    item.analysed(analysis, 0.5, 3)
    return item


def test_suggestions_are_picked_by_threshold(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    assert (item.state, item.proposed) == (ReviewState.SUGGESTED, ["Rock"])
    assert item.write_request(provenance=True).expected == analysis.fingerprint


def test_a_rejected_file_stays_rejected_after_re_analysis(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    item.reject()
    assert reanalysed(item, analysis).state is ReviewState.REJECTED


def test_an_edit_keeps_its_genres_and_acceptance_through_re_analysis(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    item.edit(["Post-Punk"])
    assert item.accept()
    reanalysed(item, analysis)
    assert (item.state, item.proposed) == (ReviewState.ACCEPTED, ["Post-Punk"])


def test_an_interrupted_analysis_restores_the_previous_state(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    item.edit(["Ska"])
    item.start_analysis()
    item.analysis_interrupted()
    assert item.state is ReviewState.EDITED
    fresh = ReviewItem(Path("b.flac"))
    fresh.start_analysis()
    fresh.analysis_interrupted()
    assert fresh.state is ReviewState.NEW


def test_nothing_to_write_cannot_be_accepted(analysis):
    quiet = replace(analysis, genres=[GenreSuggestion("Rock", "Rock", 0.1)])
    item = reanalysed(ReviewItem(Path("a.flac")), quiet)
    assert item.proposed == [] and not item.accept() and item.state is ReviewState.SUGGESTED

"""Review state: a person's decisions survive re-analysis and interruptions."""

import os
from dataclasses import replace
from pathlib import Path

import mutagen
import pytest
import soundfile as sf
from support import tagfiles

from tagger.genres.suggestion import GenreSuggestion
from tagger.review.items import Candidate, ReviewItem, ReviewState, error_summary, review_item
from tagger.review.session import ReviewSession
from tagger.settings import Settings


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
    assert item.state is ReviewState.ACCEPTED
    fresh = ReviewItem(Path("b.flac"))
    fresh.start_analysis()
    fresh.analysis_interrupted()
    assert fresh.state is ReviewState.NEW


def test_nothing_to_write_cannot_be_accepted(analysis):
    quiet = replace(analysis, genres=[GenreSuggestion("Rock", "Rock", 0.1)])
    item = reanalysed(ReviewItem(Path("a.flac")), quiet)
    assert item.proposed == [] and not item.accept() and item.state is ReviewState.UNSURE


def test_an_edit_is_a_decision_and_accepts_the_row(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    item.edit(["Post-Punk", "Ska"])
    assert (item.state, item.edited, item.can_write) == (ReviewState.ACCEPTED, True, True)
    item.edit([])
    assert (item.state, item.can_write) == (ReviewState.EDITED, False)


def test_candidates_below_the_threshold_are_shown_but_not_chosen(analysis):
    three = replace(analysis, genres=[GenreSuggestion("Rock", "Rock", 0.6), GenreSuggestion("Jazz", "Jazz", 0.3),
                                      GenreSuggestion("Folk", "Folk", 0.2), GenreSuggestion("Ska", "Ska", 0.1)])
    item = reanalysed(ReviewItem(Path("a.flac")), three)
    shown = [(c.genre, c.chosen) for c in item.candidates()]
    assert shown == [("Rock", True), ("Jazz", False), ("Folk", False)]
    assert item.toggle("Jazz") and item.proposed == ["Rock", "Jazz"] and item.state is ReviewState.ACCEPTED
    assert item.toggle("Rock") and item.proposed == ["Jazz"]
    assert [(c.genre, c.chosen) for c in item.candidates()] == [("Jazz", True), ("Rock", False), ("Folk", False)]
    # The confidence recorded for a toggled-on candidate is the model's.
    assert '"Jazz":0.3' in item.write_request(provenance=True).provenance


def test_a_row_whose_best_candidate_misses_the_threshold_is_unsure_and_accepting_lower_takes_it(analysis):
    low = replace(analysis, genres=[GenreSuggestion("Rock", "Rock", 0.45), GenreSuggestion("Jazz", "Jazz", 0.2)])
    item = reanalysed(ReviewItem(Path("a.flac")), low)
    assert (item.state, item.proposed) == (ReviewState.UNSURE, [])
    assert not item.accept(threshold=0.5)
    assert item.accept(threshold=0.4) and item.proposed == ["Rock"]


def test_a_saved_row_comes_back_with_its_decision_and_waits_for_its_analysis(analysis):
    item = reanalysed(ReviewItem(Path("a.flac"), ["Pop"], "Artist", "Title", "Album", "Album Artist", "3", "1"),
                      analysis)
    item.accept()
    back = ReviewItem.from_json(item.to_json())
    assert (back.state, back.proposed, back.album_artist, back.track, back.disc) == (
        ReviewState.ACCEPTED, ["Rock"], "Album Artist", "3", "1")
    assert not back.can_write  # the change check needs the analysis's fingerprint first
    back.analysed(replace(analysis, genres=[GenreSuggestion("Jazz", "Jazz", 0.9)]), 0.5, 3)
    assert (back.state, back.proposed, back.can_write) == (ReviewState.ACCEPTED, ["Rock"], True)


def test_an_edit_stands_after_a_failed_write_and_a_new_analysis(analysis):
    item = reanalysed(ReviewItem(Path("a.flac")), analysis)
    item.edit(["Chiptune"])
    item.failed("the file is read-only")
    reanalysed(item, analysis)
    assert (item.state, item.proposed, item.error) == (ReviewState.ACCEPTED, ["Chiptune"], None)


def test_an_edit_of_a_failed_file_keeps_its_error_and_waits_for_an_analysis_that_succeeds(analysis):
    item = ReviewItem(Path("a.mp3"))
    item.failed("not a decodable audio file (libsndfile: Format not recognised; FFmpeg: Invalid data)")
    item.edit(["Post-Punk"])
    assert (item.state, item.proposed, item.can_write) == (ReviewState.ERROR, ["Post-Punk"], False)
    assert item.error is not None and item.waits_for_analysis and item.undecided_work
    reanalysed(item, analysis)
    assert (item.state, item.proposed, item.error, item.can_write) == (ReviewState.ACCEPTED, ["Post-Punk"], None, True)
    assert not item.waits_for_analysis


@pytest.mark.parametrize(("name", "message", "summary"), [
    ("a.mp3", "not a decodable audio file (libsndfile: no audio stream found; FFmpeg: Invalid data found when "
              "processing input)", "not an MP3 file"),
    ("a.flac", "not a decodable audio file (libsndfile: x; FFmpeg: y)", "not a FLAC file"),
    ("a.ogg", "not a decodable audio file (libsndfile: Supported file format but file is malformed.; FFmpeg: End "
              "of file)", "file is damaged"),
    ("a.flac", "decoding failed at 1:02 of 3:00 (FFmpeg: Invalid data); the file may be truncated or corrupt",
     "file is damaged"),
    ("a.mp3", "the file does not parse cleanly (HeaderNotFoundError: can't sync to MPEG frame); it is left "
              "untouched", "file is damaged"),
    ("a.flac", "empty file (0 bytes)", "file is empty"),
    ("a.flac", "internal error: KeyError: 'x'", "unexpected error"),
    ("a.flac", "undo: permission denied", "undo failed: permission denied"),
    ("a.flac", "the disk is full; 'genre-tagger finish 3' records it", "the disk is full"),
])
def test_an_error_reads_as_a_few_plain_words(name, message, summary):
    assert error_summary(message, Path(name)) == summary


def test_the_confidence_shown_is_that_of_what_accept_writes(analysis):
    three = replace(analysis, genres=[GenreSuggestion("Rock", "Rock", 0.9), GenreSuggestion("Jazz", "Jazz", 0.3),
                                      GenreSuggestion("Folk", "Folk", 0.2)])
    item = reanalysed(ReviewItem(Path("a.flac")), three)
    assert item.written_confidence == 0.9
    item.edit(["Jazz"])  # the person chose a weaker candidate
    assert item.written_confidence == 0.3 and not item.own_pick
    item.edit(["Post-Punk", "Rock"])  # their own genre first: no analysis vouches for it
    assert item.written_confidence is None and item.own_pick
    item.edit([])  # nothing chosen: the best candidate's
    assert item.written_confidence == 0.9
    album = [GenreSuggestion("Folk", "Folk", 0.7)]
    assert item.accept_album(album) and item.written_confidence == 0.7  # the album's vote, not its own 0.2
    assert ReviewItem(Path("b.flac")).written_confidence is None


def test_a_cleanup_decision_replaces_the_files_genres_even_with_none(analysis):
    from tagger.tags import WriteMode
    from tagger.writing.writer import WriteResult, WriteStatus

    item = ReviewItem(Path("a.flac"), ["Unknown"], stored_genres=["Unknown"])
    item.rewrite([])  # drop junk: the file's only genre goes
    assert item.state is ReviewState.ACCEPTED and item.can_write
    request = item.write_request(provenance=False)
    assert (request.genres, request.mode) == ([], WriteMode.REPLACE)
    # Its decision stands through an analysis, a saved session and an undo.
    assert reanalysed(item, analysis).state is ReviewState.ACCEPTED and item.proposed == []
    restored = ReviewItem.from_json(item.to_json())
    assert restored.replaces and restored.write_request(provenance=False).mode is WriteMode.REPLACE
    item.undone(WriteResult(item.path, WriteStatus.WRITTEN, [], ["Unknown"]))
    assert item.state is ReviewState.EDITED and item.accept() and item.state is ReviewState.ACCEPTED

    # Choosing a candidate keeps it a cleanup; unchoosing the last genre, or a plain edit, does not.
    item.rewrite(["Rock"])
    item.toggle("Jazz")
    assert item.write_request(provenance=False).mode is WriteMode.REPLACE
    item.toggle("Jazz")
    item.toggle("Rock")
    assert (item.state, item.replaces, item.can_write) == (ReviewState.EDITED, False, False)
    item.rewrite(["Rock"])
    item.edit(["Folk"])
    assert item.write_request(provenance=False).mode is None


# The tags a row shows, and its candidates.

def test_candidates_carry_their_suggestions_and_confidences(session, files, analysed):
    item = session.item(files[0])
    rock, jazz, folk = analysed[0].genres
    assert item.candidates() == [Candidate("Rock", rock, True), Candidate("Jazz", jazz, False),
                                 Candidate("Folk", folk, False)]
    assert [c.confidence for c in item.candidates()] == [0.9, 0.45, 0.05]
    assert item.confidence_of("rock") == 0.9 and item.confidence_of("JAZZ") == 0.45
    assert item.suggestion_of("folk") == folk
    assert item.confidence_of("Ska") is None and item.suggestion_of("Ska") is None


@pytest.fixture
def tagged(make_audio) -> Path:
    path = make_audio("tagged.flac", seconds=3)
    audio = mutagen.File(path)
    for key, value in [("ARTIST", "Artist"), ("TITLE", "Title"), ("ALBUM", "Album"), ("ALBUMARTIST", "Album Artist"),
                       ("TRACKNUMBER", "3"), ("DISCNUMBER", "2"), ("GENRE", "Blues"), ("GENRE", "Soul")]:
        audio.tags.append((key, value))
    audio.save()
    return path


def row_fields(item: ReviewItem) -> tuple:
    return (item.path, item.current_genres, item.artist, item.title, item.album, item.album_artist, item.track,
            item.disc)


def test_a_row_shows_the_tags_its_file_holds(tagged, make_audio, tmp_path):
    assert row_fields(review_item(tagged)) == (tagged, ["Blues", "Soul"], "Artist", "Title", "Album",
                                               "Album Artist", "3", "2")
    bare = make_audio("bare.flac", seconds=3)
    assert row_fields(review_item(bare)) == (bare, [], "", "bare", "", "", "", "")
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"not audio")
    assert row_fields(review_item(junk)) == (junk, [], "", "junk", "", "", "", "")


def test_a_row_splits_id3v23_genres_with_the_separator_asked_for(tmp_path):
    path = tmp_path / "joined.mp3"
    sf.write(os.fsencode(path), tagfiles.audio_data(), tagfiles.RATE, format="MP3")
    # Genres the vocabulary does not know: a value joined by known genres splits at any separator.
    tagfiles.add_id3(path, 3, genre="Zorp; Wonk / Blues")
    assert review_item(path, " / ").current_genres == ["Zorp; Wonk", "Blues"]
    assert review_item(path).current_genres == ["Zorp", "Wonk / Blues"]  # "; " by default


def test_a_saved_row_keeps_the_tags_it_showed(tagged, journal, tmp_path):
    session = ReviewSession(Settings(), journal)
    session.add([review_item(tagged)])
    saved = tmp_path / "saved.json"
    session.save(saved)
    [back] = ReviewSession(Settings(), journal).restore(saved)
    assert row_fields(back) == (tagged, ["Blues", "Soul"], "Artist", "Title", "Album", "Album Artist", "3", "2")

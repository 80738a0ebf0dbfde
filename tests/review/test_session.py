"""The review session's rules, without Qt: what both the app and ``apply`` rely on.

The sections from "What gets picked" on were written where a mutation audit of
tagger/review/session.py and tagger/review/items.py (mutmut) found the rules unchecked: the
provenance each write records, the most-genres setting, the album's genres, undo of edits,
failures, and a saved review that must come back whole."""

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from support.review import apply, ranked

from tagger.analysis.analyzer import FileResult
from tagger.genres.suggestion import GenreSuggestion, Source
from tagger.review.items import Candidate, ReviewItem, ReviewState, review_item
from tagger.review.session import Change, ReviewSession, SavedSessionError
from tagger.settings import Settings
from tagger.tags import WriteMode, read_tags
from tagger.text import plural
from tagger.writing.journal import Journal
from tagger.writing.writer import GenreWriter, WriteRequest, WriteResult, WriteStatus


def test_every_change_is_announced_to_subscribers(files, analysed, journal):
    session = ReviewSession(Settings(), journal)
    changes: list[Change] = []
    stop = session.subscribe(changes.append)
    added = session.add([review_item(files[0]), review_item(files[1])])
    assert changes[-1].added == tuple(added)
    assert session.add([review_item(files[0])]) == [] and len(changes) == 1  # nothing new, nothing said
    session.analysis_started([files[0]])
    session.take_analyses([FileResult(analysed[0].path, analysed[0])])
    session.accept([added[0]])
    session.reject([added[1]])
    session.edit([added[1]], ["Ska"])
    session.toggle(added[0], "Jazz")
    assert [c.paths for c in changes[1:]] == [(files[0],)] * 3 + [(files[1],)] * 2 + [(files[0],)]
    stop()
    session.reject([added[0]])
    assert len(changes) == 7


def test_rows_below_the_threshold_are_unsure_and_still_show_their_candidates(session, files):
    states = [session.item(p).state for p in files]
    assert states == [ReviewState.SUGGESTED, ReviewState.SUGGESTED, ReviewState.UNSURE, ReviewState.UNSURE]
    unsure = session.item(files[2])
    assert [(c.genre, c.chosen) for c in unsure.candidates()] == [("Rock", False), ("Jazz", False), ("Folk", False)]


def test_accept_above_previews_exactly_what_it_takes(session, files):
    assert [i.path for i in session.above(0.35)] == files[:3]
    accepted = session.accept_above(0.35)
    assert [i.path for i in accepted] == files[:3]
    # A row that was unsure at the least confidence takes what reaches the lower threshold.
    assert session.item(files[2]).proposed == ["Rock"]
    assert session.item(files[3]).state is ReviewState.UNSURE
    assert session.above(0.35) == []  # decided rows are not taken again


def test_accepting_rows_above_a_threshold_they_miss_leaves_them_as_they_were(session, files):
    row = session.item(files[1])  # Rock 0.6, pre-selected at the least confidence of 0.5
    assert session.accept_above(0.7, [row]) == []
    assert (row.state, row.proposed) == (ReviewState.SUGGESTED, ["Rock"])


def test_new_thresholds_re_pick_only_the_rows_no_one_decided_on(session, files):
    session.edit([session.item(files[0])], ["Post-Punk"])
    session.reject([session.item(files[1])])
    changed = session.set_settings(Settings(min_confidence=0.3, max_genres=3))
    assert [i.path for i in changed] == [files[2]]
    assert session.item(files[2]).proposed == ["Rock"] and session.item(files[2]).state is ReviewState.SUGGESTED
    assert session.item(files[0]).proposed == ["Post-Punk"]
    assert session.item(files[1]).state is ReviewState.REJECTED


def test_an_edited_row_is_written_without_a_separate_accept(session, files):
    session.edit([session.item(files[3])], ["Ambient"])
    assert [r.path for r in session.write_requests()] == [files[3]]
    assert [i.path for i in session.undecided_work()] == [files[3]]


def test_a_multi_row_edit_gives_each_row_its_own_genres(session, files):
    changes: list[Change] = []
    session.subscribe(changes.append)
    session.edit_each([(session.item(files[0]), ["Rock", "Ambient"]), (session.item(files[1]), ["Rock"])])
    assert [session.item(p).proposed for p in files[:2]] == [["Rock", "Ambient"], ["Rock"]]
    assert changes == [Change(paths=(files[0], files[1]))]


def test_a_multi_row_edit_leaves_failed_rows_failed_and_names_them(session, files):
    failed = session.item(files[2])
    failed.failed("decoding failed at 0:02 of 0:04 (FFmpeg: Invalid data); the file may be truncated or corrupt")
    waiting = session.edit([session.item(files[0]), failed], ["Krautrock"])
    assert waiting == [failed]
    assert (failed.state, failed.proposed) == (ReviewState.ERROR, ["Krautrock"])
    assert session.item(files[0]).state is ReviewState.ACCEPTED
    assert [r.path for r in session.write_requests()] == [files[0]]  # Apply leaves the failed file alone
    assert {i.path for i in session.undecided_work()} == {files[0], files[2]}  # quitting would lose both


def test_undo_reaches_only_what_this_session_applied_and_only_once(session, files, journal, make_audio):
    elsewhere = make_audio("elsewhere.flac", seconds=3)
    earlier = list(GenreWriter(journal).write([WriteRequest(elsewhere, ["Blues"])], "set elsewhere"))
    assert earlier[0].status is WriteStatus.WRITTEN
    assert session.batch_to_undo() is None  # a batch some other run wrote is not this window's to undo

    session.accept([session.item(files[0])])
    session.edit([session.item(files[1])], ["Krautrock"])
    batch = apply(session)
    assert session.item(files[0]).state is ReviewState.WRITTEN
    assert read_tags(files[0]).genres == ["Rock"]
    summary = session.batch_to_undo()
    assert summary is not None and summary.id == batch

    errors = session.take_undone(session.writer().undo(batch), batch)
    assert errors == [] and read_tags(files[0]).genres == []
    item = session.item(files[0])
    assert (item.state, item.current_genres) == (ReviewState.SUGGESTED, [])  # what the file holds again
    # An undone edit keeps the person's genres, and like any undone row waits for Accept again.
    edited = session.item(files[1])
    assert (edited.state, edited.proposed, edited.can_write) == (ReviewState.EDITED, ["Krautrock"], False)
    assert session.write_requests() == []
    assert session.batch_to_undo() is None  # no second undo of the same batch, and never the older one
    assert read_tags(elsewhere).genres == ["Blues"]


def test_a_failed_write_is_the_rows_error_and_is_reported(session, files):
    session.accept([session.item(files[0])])
    files[0].write_bytes(b"not audio any more")
    writer = session.writer()
    errors = session.take_written(writer.write(session.write_requests(), "apply"))
    assert len(errors) == 1 and errors[0].startswith(files[0].name)
    assert session.item(files[0]).state is ReviewState.ERROR


def test_a_saved_session_comes_back_with_rows_decisions_and_undo(session, files, tmp_path, journal):
    session.accept([session.item(files[0])])
    batch = apply(session)
    session.edit([session.item(files[1])], ["Shoegaze"])
    session.reject([session.item(files[2])])
    session.add_roots([files[0].parent])
    saved = tmp_path / "saved.json"
    session.save(saved)

    again = ReviewSession(Settings(), journal)
    rows = again.restore(saved)
    assert [r.path for r in rows] == files and again.roots == [files[0].parent]
    states = {r.path: r.state for r in rows}
    assert states == {files[0]: ReviewState.WRITTEN, files[1]: ReviewState.ACCEPTED,
                      files[2]: ReviewState.REJECTED, files[3]: ReviewState.UNSURE}
    assert again.item(files[1]).proposed == ["Shoegaze"] and not again.item(files[1]).can_write
    assert again.batch_to_undo().id == batch  # the window that applied it may still undo it
    saved.unlink()
    assert ReviewSession(Settings(), journal).restore(saved) == []


def test_a_row_restored_without_its_analysis_cannot_be_written_until_it_is_back(session, files, tmp_path, journal,
                                                                                analysed):
    session.accept([session.item(files[0])])
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    again.restore(saved)
    assert again.write_requests() == []
    assert files[0] in again.to_analyse()
    again.take_analyses([FileResult(files[0], analysed[0])])
    requests = again.write_requests()
    assert [r.path for r in requests] == [files[0]] and requests[0].expected == analysed[0].fingerprint


@pytest.mark.parametrize("content", [b"{not json", b'{"version": 99, "items": []}', b'{"version": 1}',
                                     b'{"version": 1, "roots": [], "applied": [], "items": [{"path": 3}]}'])
def test_a_damaged_saved_session_is_refused_with_the_reason(tmp_path, journal, content):
    saved = tmp_path / "saved.json"
    saved.write_bytes(content)
    with pytest.raises(SavedSessionError, match="saved review"):
        ReviewSession(Settings(), journal).restore(saved)


def test_what_to_analyse_leaves_rejected_and_running_rows_alone(session, files, make_audio):
    fresh = session.add([ReviewItem(make_audio("new.flac", seconds=3))])[0]
    session.reject([session.item(files[0])])
    session.take_analyses([FileResult(files[1], error="cannot decode")])
    assert session.to_analyse() == [files[1], fresh.path]
    session.analysis_started([fresh.path])
    assert session.to_analyse([fresh.path, files[2]]) == [files[2]]
    session.analysis_ended()
    assert fresh.state is ReviewState.NEW


def test_plurals():
    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert plural(1, "batch", "batches") == "1 batch" and plural(3, "batch", "batches") == "3 batches"


def test_a_marked_rename_goes_with_the_writes_that_carry_it_out(session, files):
    items = [session.item(p) for p in files]
    session.cleanup([(items[0], ["Electronic"]), (items[1], ["Electronic", "Jazz"])], [("Electronica", "Electronic")])
    session.cleanup([(items[2], ["Noise"])], [("Drone", "Noise")])
    session.edit([items[2]], ["Noise", "Folk"])  # the person's own edit: no longer that cleanup
    # Writing only the unrelated rows carries out no rename.
    assert session.renames_in(session.write_requests([items[2], items[3]])) == []
    # Either row of a rename carries it; the spelling of the new name does not matter.
    request = replace(session.write_requests([items[1]])[0], genres=["electronic", "Jazz"])
    assert session.renames_in([request]) == [("Electronica", "Electronic")]
    # Written, undone and written again, it is carried out again.
    assert session.renames_in(session.write_requests()) == [("Electronica", "Electronic")]


def test_a_saved_session_keeps_the_renames_not_written_yet(session, files, tmp_path, journal):
    items = [session.item(p) for p in files]
    session.cleanup([(items[0], ["Electronic"])], [("Electronica", "Electronic")])
    session.save(tmp_path / "saved.json")
    again = ReviewSession(Settings(), journal)
    again.restore(tmp_path / "saved.json")
    # (The row can be written once its analysis is back from the cache.)
    assert again.renames_in([again.item(files[0]).write_request(False)]) == [("Electronica", "Electronic")]


def test_a_review_saved_before_renames_were_kept_comes_back(session, files, tmp_path, journal):
    session.save(tmp_path / "saved.json")
    record = json.loads((tmp_path / "saved.json").read_text(encoding="utf-8"))
    del record["renames"]
    (tmp_path / "saved.json").write_text(json.dumps(record), encoding="utf-8")
    again = ReviewSession(Settings(), journal)
    assert len(again.restore(tmp_path / "saved.json")) == len(files)


def test_rows_hear_their_album_mates_and_the_audio_alone_when_asked(files, analysed, journal):
    """An untagged track whose album mates are tagged Strategy Game is offered it first,
    with what each source gave; with ``evidence="audio"`` the row keeps the audio's ranking."""
    from mutagen.flac import FLAC

    for path in files[:3]:
        tags = FLAC(path)
        tags["album"], tags["genre"] = ["Campaign"], ["Strategy Game"]
        tags.save()
    tags = FLAC(files[3])
    tags["album"] = ["Campaign"]
    tags.save()
    for evidence, first in (("context", "Strategy Game"), ("audio", "Rock")):
        session = ReviewSession(Settings(min_confidence=0.5, evidence=evidence), journal)
        session.add(review_item(p) for p in files)
        session.take_analyses([FileResult(analysed[3].path, analysed[3])])
        item = session.item(files[3])
        assert item.suggestions[0].genre == first
        assert item.analysis.genres[0].genre == "Rock"  # the analysis stays the audio's
    assert item.suggestions == analysed[3].genres
    session = ReviewSession(Settings(min_confidence=0.5), journal)
    session.add(review_item(p) for p in files)
    session.take_analyses([FileResult(analysed[3].path, analysed[3])])
    top = session.item(files[3]).suggestions[0]
    # Three tagged mates that agree, measured leave-one-out and pulled toward the prior 0.8: (3 + 3.2) / 7.
    assert top.source == "album" and dict(top.evidence)["album"] == pytest.approx(6.2 / 7, abs=1e-3)
    assert session.item(files[3]).proposed == ["Strategy Game"]  # only it reaches 0.5
    request = session.item(files[3]).write_request(provenance=True)
    assert "context" in request.provenance and "album" in request.provenance


def test_a_row_added_later_is_heard_by_the_next_analyses(files, analysed, journal):
    from mutagen.flac import FLAC

    for path in files:
        tags = FLAC(path)
        tags["album"] = ["Campaign"]
        if path != files[3]:
            tags["genre"] = ["Strategy Game"]
        tags.save()
    session = ReviewSession(Settings(min_confidence=0.5), journal)
    session.add([review_item(files[3])])
    session.take_analyses([FileResult(analysed[3].path, analysed[3])])
    assert session.item(files[3]).suggestions[0].genre == "Rock"  # no mate known yet
    session.add(review_item(p) for p in files[:3])
    session.take_analyses([FileResult(analysed[3].path, analysed[3])])
    assert session.item(files[3]).suggestions[0].genre == "Strategy Game"


# What a write request records, and undo as the window asks for it.

ALBUM = [GenreSuggestion("Shoegaze", "Rock", 0.8, Source.LEARNED),
         GenreSuggestion("Dream Pop", "Pop", 0.7, Source.BASE)]


def provenance(request: WriteRequest) -> dict:
    """The provenance field a request writes, without the tool's version."""
    assert request.provenance is not None
    details = json.loads(request.provenance)
    assert details.pop("tool").startswith("genre-tagger ")
    return details


def models(analysis) -> list[str]:
    return [f"{m.name} {m.version}" for m in analysis.models]


def request_for(session: ReviewSession, path: Path) -> WriteRequest:
    return next(r for r in session.write_requests() if r.path == path)


def undo(session: ReviewSession) -> list[str]:
    batch = session.batch_to_undo()
    assert batch is not None
    return session.take_undone(session.writer().undo(batch.id), batch.id)


# What gets picked: the threshold and the most genres.

def test_a_candidate_exactly_at_the_threshold_is_picked_and_previewed(session, files):
    assert [i.path for i in session.above(0.6)] == files[:2]  # files[1]'s best is exactly 0.6
    session.set_settings(Settings(min_confidence=0.6, max_genres=3))
    item = session.item(files[1])
    assert (item.state, item.proposed) == (ReviewState.SUGGESTED, ["Rock"])


def test_the_most_genres_setting_caps_analysis_new_settings_and_accept_above(files, analysed, journal):
    session = ReviewSession(Settings(min_confidence=0.3, max_genres=1), journal)
    session.add(review_item(p) for p in files)
    session.take_analyses([FileResult(a.path, a) for a in analysed])
    # Rock 0.9 and Jazz 0.45 both reach 0.3; one genre at most is written.
    assert [session.item(p).proposed for p in files] == [["Rock"], ["Rock"], ["Rock"], []]
    accepted = session.accept_above(0.2)
    assert [i.path for i in accepted] == files
    assert [session.item(p).proposed for p in files] == [["Rock"]] * 4
    assert all(len(r.genres) == 1 for r in session.write_requests())


def test_new_settings_re_pick_with_their_most_genres(session, files):
    assert session.item(files[0]).proposed == ["Rock"]
    changed = session.set_settings(Settings(min_confidence=0.3, max_genres=1))
    assert [i.path for i in changed] == [files[2]]
    assert session.item(files[0]).proposed == ["Rock"]  # Jazz at 0.45 reaches 0.3, but one genre is the most
    assert session.item(files[2]).proposed == ["Rock"]


def test_a_rejected_row_takes_a_new_analysis_picks_but_stays_rejected(session, files, analysed):
    session.set_settings(Settings(min_confidence=0.5, max_genres=1))
    item = session.item(files[0])
    session.reject([item])
    new = replace(analysed[0], genres=ranked(("Jazz", 0.9), ("Blues", 0.8), ("Rock", 0.1)))
    session.take_analyses([FileResult(files[0], new)])
    assert (item.state, item.proposed) == (ReviewState.REJECTED, ["Jazz"])
    assert session.write_requests() == []
    # Changing one's mind later writes what the new analysis suggests.
    assert session.accept([item]) == []
    assert [r.genres for r in session.write_requests()] == [["Jazz"]]


def test_a_rejected_edit_keeps_the_persons_genres_through_a_new_analysis(session, files, analysed):
    item = session.item(files[1])
    session.edit([item], ["Chiptune"])
    session.reject([item])
    session.take_analyses([FileResult(files[1], replace(analysed[1], genres=ranked(("Jazz", 0.9))))])
    assert (item.state, item.proposed) == (ReviewState.REJECTED, ["Chiptune"])
    session.accept([item])
    request = request_for(session, files[1])
    assert request.genres == ["Chiptune"] and provenance(request)["edited"] is True


def test_an_edit_that_leaves_nothing_stays_unwritable_through_a_new_analysis(session, files, analysed):
    item = session.item(files[0])
    session.edit([item], [])
    session.take_analyses([FileResult(files[0], analysed[0])])
    assert (item.state, item.proposed, item.can_write) == (ReviewState.EDITED, [], False)
    assert session.write_requests() == []  # never an empty write that would clear the file's genres


# Decisions.

def test_accept_returns_the_rows_with_nothing_to_accept(session, files):
    sure, unsure = session.item(files[0]), session.item(files[3])
    assert session.accept([sure, unsure]) == [unsure]
    assert (sure.state, unsure.state) == (ReviewState.ACCEPTED, ReviewState.UNSURE)


def test_a_row_without_candidates_is_never_above_a_threshold(session, files, analysed):
    session.take_analyses([FileResult(files[3], replace(analysed[3], genres=[]))])
    item = session.item(files[3])
    assert item.state is ReviewState.UNSURE and item.top_confidence is None
    assert files[3] not in [i.path for i in session.above(0.1)]
    assert item not in session.accept_above(0.1)


def test_accept_above_over_chosen_rows_takes_only_those_still_undecided(session, files):
    rejected, chosen, other = (session.item(p) for p in files[:3])
    session.reject([rejected])
    accepted = session.accept_above(0.35, [rejected, chosen])
    assert accepted == [chosen]
    assert (rejected.state, chosen.state, other.state) == (
        ReviewState.REJECTED, ReviewState.ACCEPTED, ReviewState.UNSURE)  # other reaches 0.35 but was not chosen


def test_toggle_after_an_edit_and_never_while_analysing_or_failed(session, files):
    edited, analysing, failed = (session.item(p) for p in files[:3])
    session.edit([edited], ["Ska"])
    assert session.toggle(edited, "Rock") is True
    assert edited.proposed == ["Ska", "Rock"]
    session.analysis_started([files[1]])
    assert session.toggle(analysing, "Jazz") is False and analysing.proposed == ["Rock"]
    session.take_analyses([FileResult(files[2], error="cannot decode")])
    assert session.toggle(failed, "Rock") is False and failed.proposed == []


# Provenance: what each write records about where its genres came from.

def test_a_suggestion_records_its_models_and_rounded_confidences_and_no_person(session, files, analysed):
    precise = replace(analysed[0], genres=ranked(("Rock", 0.91234), ("Jazz", 0.61236)))
    session.take_analyses([FileResult(files[0], precise)])
    session.accept([session.item(files[0])])
    request = request_for(session, files[0])
    assert request.genres == ["Rock", "Jazz"] and request.expected == analysed[0].fingerprint
    assert provenance(request) == {"models": models(analysed[0]), "confidences": {"Rock": 0.912, "Jazz": 0.612}}


def test_an_edit_records_that_a_person_chose(session, files, analysed):
    session.edit([session.item(files[1])], ["Rock", "Ska"])
    assert provenance(request_for(session, files[1])) == {
        "edited": True, "models": models(analysed[1]), "confidences": {"Rock": 0.6}}


def test_genres_ranked_by_the_learned_model_say_so(session, files, analysed):
    learned = replace(analysed[2], model=Source.LEARNED, genres=ranked(("Rock", 0.7)))
    session.take_analyses([FileResult(files[2], learned)])
    session.accept([session.item(files[2])])
    assert provenance(request_for(session, files[2])) == {
        "models": models(analysed[2]), "learned": True, "confidences": {"Rock": 0.7}}


def test_provenance_follows_the_setting(session, files):
    session.accept([session.item(files[0])])
    assert session.write_requests()[0].provenance is not None
    session.set_settings(Settings(min_confidence=0.5, max_genres=3, provenance=False))
    assert [(r.path, r.provenance) for r in session.write_requests()] == [(files[0], None)]
    writer = session.writer()
    assert session.take_written(writer.write(session.write_requests(), "apply")) == []
    assert read_tags(files[0]).provenance is None and read_tags(files[0]).genres == ["Rock"]


def test_an_edit_of_a_file_never_analysed_is_written_without_a_change_check(files, journal, tmp_path):
    session = ReviewSession(Settings(), journal)
    item = session.add([review_item(files[0])])[0]
    assert item.candidates() == []
    session.edit([item], ["Ska"])
    assert item.candidates() == [Candidate("Ska", None, True)] and item.confidence_of("Ska") is None
    [request] = session.write_requests()
    assert request.expected is None and provenance(request) == {"edited": True}
    # Kept in a saved review, it is still this person's decision, and writable at once.
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    [back] = again.restore(saved)
    assert (back.state, back.proposed, back.can_write) == (ReviewState.ACCEPTED, ["Ska"], True)
    assert provenance(again.write_requests()[0]) == {"edited": True}
    apply(again)
    assert read_tags(files[0]).genres == ["Ska"]


def test_only_the_chosen_rows_accepted_writes_are_requested(session, files):
    first, second = session.item(files[0]), session.item(files[1])
    session.accept([first, second])
    assert session.writable([second]) == [second]
    assert [r.path for r in session.write_requests([second])] == [files[1]]
    assert [r.path for r in session.write_requests()] == files[:2]


# The album's genres.

def test_accepting_the_albums_genres_replaces_an_edit_and_records_the_album(session, files, analysed):
    item = session.item(files[0])
    session.edit([item], ["Ska"])
    assert item.accept_album(ALBUM) is True
    assert (item.state, item.proposed, item.edited) == (ReviewState.ACCEPTED, ["Shoegaze", "Dream Pop"], False)
    assert [c.suggestion for c in item.candidates()] == ALBUM
    assert provenance(request_for(session, files[0])) == {
        "album": True, "models": models(analysed[0]), "confidences": {"Shoegaze": 0.8, "Dream Pop": 0.7}}


def test_the_albums_genres_are_refused_when_there_are_none_or_the_row_cannot_change(session, files):
    plain, failed, analysing = (session.item(p) for p in files[1:4])
    assert plain.accept_album([]) is False
    assert (plain.state, plain.proposed, plain.album_genres) == (ReviewState.SUGGESTED, ["Rock"], [])
    session.take_analyses([FileResult(files[2], error="cannot decode")])
    assert failed.accept_album(ALBUM) is False and (failed.state, failed.proposed) == (ReviewState.ERROR, [])
    session.analysis_started([files[3]])
    assert analysing.accept_album(ALBUM) is False and analysing.state is ReviewState.ANALYSING


def test_unchoosing_one_of_the_albums_genres_keeps_the_albums_confidence_for_the_rest(session, files, analysed):
    item = session.item(files[0])
    item.accept_album(ALBUM)
    assert session.toggle(item, "Dream Pop")
    assert item.proposed == ["Shoegaze"]
    assert provenance(request_for(session, files[0])) == {
        "edited": True, "album": True, "models": models(analysed[0]), "confidences": {"Shoegaze": 0.8}}


def test_an_undone_album_row_keeps_the_albums_genres_when_thresholds_change(session, files):
    item = session.item(files[0])
    item.accept_album(ALBUM)
    apply(session)
    assert read_tags(files[0]).genres == ["Shoegaze", "Dream Pop"]
    assert undo(session) == []
    assert item.state is ReviewState.SUGGESTED
    session.set_settings(Settings(min_confidence=0.1, max_genres=3))
    assert item.proposed == ["Shoegaze", "Dream Pop"]


def test_a_saved_album_row_comes_back_with_the_albums_suggestions(session, files, analysed, tmp_path, journal):
    session.item(files[3]).accept_album(ALBUM)
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    again.restore(saved)
    again.take_analyses([FileResult(a.path, a) for a in analysed])
    back = again.item(files[3])
    assert back.album_genres == ALBUM and [c.suggestion for c in back.candidates()] == ALBUM
    assert provenance(request_for(again, files[3])) == {
        "album": True, "models": models(analysed[3]), "confidences": {"Shoegaze": 0.8, "Dream Pop": 0.7}}


# Undo.

def test_undone_edits_wait_for_accept_and_an_emptied_one_stays_unwritable(session, files):
    kept, emptied = session.item(files[0]), session.item(files[1])
    session.edit_each([(kept, ["Ska"]), (emptied, ["Blues"])])
    apply(session)
    session.edit([emptied], [])  # after the write, the person clears the row
    assert undo(session) == []
    assert not session.can_undo  # off the stack at once, whatever the journal says
    assert (kept.state, kept.proposed, emptied.state, emptied.proposed) == (
        ReviewState.EDITED, ["Ska"], ReviewState.EDITED, [])
    assert session.write_requests() == [] and read_tags(files[0]).genres == read_tags(files[1]).genres == []
    assert session.accept([kept, emptied]) == [emptied]  # never an empty write that would clear the file
    request = request_for(session, files[0])
    assert [r.path for r in session.write_requests()] == [files[0]] and provenance(request)["edited"] is True


def test_undo_of_a_row_analysed_again_to_nothing_leaves_it_unsure(session, files, analysed):
    item = session.item(files[0])
    session.accept([item])
    apply(session)
    session.take_analyses([FileResult(files[0], replace(analysed[0], genres=ranked(("Rock", 0.1))))])
    assert (item.state, item.proposed) == (ReviewState.UNSURE, [])
    assert undo(session) == []
    assert (item.state, item.proposed) == (ReviewState.UNSURE, [])


def test_a_restored_window_undoes_what_it_applied_before_the_analyses_are_back(session, files, tmp_path, journal):
    session.accept([session.item(files[0])])
    apply(session)
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    again.restore(saved)
    assert undo(again) == []
    item = again.item(files[0])
    assert (item.state, item.current_genres) == (ReviewState.NEW, [])
    assert read_tags(files[0]).genres == [] and not again.can_undo
    assert ReviewItem.from_json(item.to_json()).state is ReviewState.NEW


def test_a_batch_is_on_the_undo_stack_once_and_only_if_it_wrote_something(session, files):
    session.applied(None)
    assert not session.can_undo
    writer = session.writer()
    empty = writer.start("apply")
    assert list(writer.write([], "apply", batch=empty)) == []
    session.applied(empty)
    assert not session.can_undo  # nothing to undo: the undo button stays off
    session.accept([session.item(files[0])])
    batch = apply(session)
    session.applied(batch)
    assert undo(session) == []
    assert not session.can_undo and session.batch_to_undo() is None


def test_a_batch_undone_elsewhere_or_missing_from_the_journal_is_not_offered(session, files, tmp_path):
    session.accept([session.item(files[0])])
    batch = apply(session)
    assert [r.status for r in GenreWriter(session.journal).undo(batch)] == [WriteStatus.WRITTEN]  # the command line
    assert session.can_undo and session.batch_to_undo() is None and not session.can_undo
    saved = tmp_path / "saved.json"
    apply_again(session, files[1])
    session.save(saved)
    other = Journal(tmp_path / "other.sqlite3")
    try:
        elsewhere = ReviewSession(Settings(), other)
        elsewhere.restore(saved)
        assert elsewhere.can_undo and elsewhere.batch_to_undo() is None and not elsewhere.can_undo
    finally:
        other.close()


def apply_again(session: ReviewSession, path: Path) -> int:
    session.accept([session.item(path)])
    return apply(session)


# Failures.

def test_a_failed_write_shows_the_writers_reason(session, files):
    session.accept([session.item(files[0])])
    files[0].write_bytes(b"not audio any more")
    results = list(session.writer().write(session.write_requests(), "apply"))
    assert results[0].message
    assert session.take_written(results) == [f"{files[0].name}: {results[0].message}"]
    assert session.item(files[0]).error == results[0].message


def test_a_failure_without_a_message_shows_its_status(session, files):
    result = WriteResult(files[0], WriteStatus.ERROR)
    assert session.take_written([result]) == [f"{files[0].name}: error"]
    item = session.item(files[0])
    assert (item.state, item.error) == (ReviewState.ERROR, "error")


def test_an_undo_refused_for_a_file_changed_since_says_why(session, files, journal):
    session.accept([session.item(files[0])])
    batch = apply(session)
    list(GenreWriter(journal).write([WriteRequest(files[0], ["Blues"])], "someone else"))
    results = list(session.writer().undo(batch))
    assert results[0].status is WriteStatus.SKIPPED and results[0].message
    assert session.take_undone(results, batch) == [f"{files[0].name}: {results[0].message}"]
    item = session.item(files[0])
    assert (item.state, item.error) == (ReviewState.ERROR, f"undo: {results[0].message}")
    assert read_tags(files[0]).genres == ["Blues"]


def test_analyses_of_unknown_files_are_passed_over_and_errors_reported(session, files, analysed, make_audio):
    stranger = make_audio("stranger.flac", seconds=3)
    assert session.item(stranger) is None
    new = replace(analysed[3], genres=ranked(("Ska", 0.8)))
    errors = session.take_analyses([FileResult(stranger, error="cannot decode"), FileResult(files[3], new),
                                    FileResult(files[2], error="cannot decode")])
    assert errors == [f"{files[2].name}: cannot decode"]  # a file no longer under review is not reported
    assert session.item(files[3]).proposed == ["Ska"]
    assert (session.item(files[2]).state, session.item(files[2]).error) == (ReviewState.ERROR, "cannot decode")
    assert session.item(stranger) is None


# Writing with the settings' mode.

def test_the_writer_follows_the_settings_mode_unless_a_batch_overrides_it(files, journal):
    for path in files[:2]:
        list(GenreWriter(journal).write([WriteRequest(path, ["Blues"])], "earlier"))
    session = ReviewSession(Settings(write_mode="merge"), journal)
    merged, replaced = session.add(review_item(p) for p in files[:2])
    session.edit_each([(merged, ["Ska"]), (replaced, ["Ska"])])
    assert session.take_written(session.writer().write(session.write_requests([merged]), "apply")) == []
    assert read_tags(files[0]).genres == ["Blues", "Ska"]
    writer = session.writer(WriteMode.REPLACE)
    assert session.take_written(writer.write(session.write_requests([replaced]), "apply")) == []
    assert read_tags(files[1]).genres == ["Ska"]


# The saved review.

def test_a_review_is_saved_into_a_folder_not_made_yet(session, files, tmp_path, journal):
    saved = tmp_path / "new" / "deeper" / "saved.json"
    session.save(saved)
    assert [r.path for r in ReviewSession(Settings(), journal).restore(saved)] == files


def test_a_file_name_that_is_not_utf8_survives_a_saved_review(files, journal, tmp_path):
    odd = tmp_path / os.fsdecode(b"caf\xe9 \xff.flac")
    os.rename(files[0], odd)
    session = ReviewSession(Settings(), journal)
    item = session.add([review_item(odd)])[0]
    session.edit([item], ["Ska"])
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    [back] = again.restore(saved)
    assert back.path == odd and back.proposed == ["Ska"]
    apply(again)
    assert read_tags(odd).genres == ["Ska"]


def test_a_row_saved_while_analysed_again_keeps_its_decision(session, files, tmp_path, journal):
    session.accept([session.item(files[0])])
    session.edit([session.item(files[1])], ["Ska"])
    session.analysis_started(files[:2])
    saved = tmp_path / "saved.json"
    session.save(saved)
    rows = ReviewSession(Settings(), journal).restore(saved)
    assert [(r.state, r.proposed) for r in rows[:2]] == [(ReviewState.ACCEPTED, ["Rock"]),
                                                         (ReviewState.ACCEPTED, ["Ska"])]


def test_a_failed_row_comes_back_with_its_error(session, files, tmp_path, journal):
    session.take_analyses([FileResult(files[2], error="cannot decode")])
    saved = tmp_path / "saved.json"
    session.save(saved)
    back = ReviewSession(Settings(), journal).restore(saved)[2]
    assert (back.state, back.error) == (ReviewState.ERROR, "cannot decode")


def rewrite(saved: Path, change) -> None:
    record = json.loads(saved.read_text(encoding="utf-8"))
    for row in record["items"]:
        change(row)
    saved.write_text(json.dumps(record), encoding="utf-8")


def test_a_review_saved_before_tracks_and_discs_were_kept_restores(session, files, tmp_path, journal):
    saved = tmp_path / "saved.json"
    session.save(saved)
    rewrite(saved, lambda row: (row.pop("track"), row.pop("disc")))
    rows = ReviewSession(Settings(), journal).restore(saved)
    assert [(r.track, r.disc) for r in rows] == [("", "")] * 4


@pytest.mark.parametrize("state, analysed_flag", [("analysing", True), ("analysing", False), ("suggested", False),
                                                  ("unsure", False)])
def test_a_saved_row_whose_suggestion_rests_on_nothing_comes_back_new(session, files, tmp_path, journal, state,
                                                                       analysed_flag):
    saved = tmp_path / "saved.json"
    session.save(saved)
    rewrite(saved, lambda row: row.update(state=state, analysed=analysed_flag))
    again = ReviewSession(Settings(), journal)
    rows = again.restore(saved)
    assert [r.state for r in rows] == [ReviewState.NEW] * 4
    assert again.write_requests() == [] and set(again.to_analyse()) == set(files)


def test_new_thresholds_leave_restored_rows_alone_until_their_analyses_are_back(session, files, analysed, tmp_path,
                                                                                journal):
    saved = tmp_path / "saved.json"
    session.save(saved)
    again = ReviewSession(Settings(), journal)
    rows = again.restore(saved)
    assert [r.state for r in rows] == [ReviewState.SUGGESTED] * 2 + [ReviewState.UNSURE] * 2
    assert again.set_settings(Settings(min_confidence=0.3, max_genres=3)) == []
    again.take_analyses([FileResult(a.path, a) for a in analysed])
    assert again.item(files[2]).proposed == ["Rock"]  # the new threshold, once the analysis is back


def test_a_damaged_saved_review_names_what_is_wrong(tmp_path, journal):
    saved = tmp_path / "saved.json"
    saved.write_bytes(b'{"version": 1}')
    with pytest.raises(SavedSessionError, match=r"damaged \(KeyError: 'items'\)"):
        ReviewSession(Settings(), journal).restore(saved)


def test_restoring_adds_to_this_windows_roots_and_undo_stack(session, files, tmp_path, journal):
    session.accept([session.item(files[0])])
    restored_batch = apply(session)
    session.add_roots([files[0].parent])
    saved = tmp_path / "saved.json"
    session.save(saved)

    window = ReviewSession(Settings(), journal)
    window.add_roots([tmp_path / "elsewhere"])
    window.add_roots([tmp_path / "more", tmp_path / "elsewhere"])
    assert window.roots == [tmp_path / "elsewhere", tmp_path / "more"]
    item = window.add([review_item(files[1])])[0]
    window.edit([item], ["Ska"])
    own_batch = apply(window)
    window.restore(saved)
    assert window.roots == [tmp_path / "elsewhere", tmp_path / "more", files[0].parent]
    assert window.batch_to_undo().id == own_batch  # the newest first
    assert undo(window) == []
    assert window.batch_to_undo().id == restored_batch
    assert undo(window) == [] and read_tags(files[0]).genres == []


# The rest of the store.

def test_clearing_drops_the_rows_and_roots_but_not_the_undo_stack(session, files):
    changes: list[Change] = []
    session.subscribe(changes.append)
    session.accept([session.item(files[0])])
    apply(session)
    session.add_roots([files[0].parent])
    assert session.known_paths() == frozenset(files)
    changes.clear()
    session.clear()
    assert changes == [Change(reset=True)]
    assert (session.items, session.roots, session.known_paths(), session.item(files[0])) == ([], [], frozenset(), None)
    assert session.can_undo
    assert session.add([review_item(files[0])])[0].path == files[0]


def test_review_streams_one_analysed_file_through_its_row(files, analysed, journal):
    session = ReviewSession(Settings(), journal)
    item = session.review(FileResult(files[0], analysed[0]))
    assert session.items == [item] and (item.path, item.state, item.proposed) == (
        files[0], ReviewState.SUGGESTED, ["Rock"])
    assert session.review(FileResult(files[0], analysed[0])) is item and len(session.items) == 1

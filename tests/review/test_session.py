"""The review session's rules, without Qt: what both the app and ``apply`` rely on."""

import json
from dataclasses import replace

import pytest
from support.review import apply

from tagger.analysis.analyzer import FileResult
from tagger.review.items import ReviewItem, ReviewState, review_item
from tagger.review.session import Change, ReviewSession, SavedSessionError
from tagger.settings import Settings
from tagger.tags import read_tags
from tagger.text import plural
from tagger.writing.writer import GenreWriter, WriteRequest, WriteStatus


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
    assert ReviewSession.discard_saved(saved) and not saved.exists()
    assert ReviewSession(Settings(), journal).restore(saved) == []
    assert not ReviewSession.discard_saved(saved)


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

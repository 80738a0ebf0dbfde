"""Group by Album (ui/album_view.py): grouping, the tree, accepting albums, and the votes panel."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt
from support.window import WAIT_MS, analysed, scanned, tagged_audio, written

from tagger.genres.suggestion import GenreSuggestion
from tagger.library.albums import AlbumGrouper
from tagger.review.items import ReviewItem, ReviewState
from tagger.tags import read_tags
from ui.actions import Act
from ui.album_view import album_groups
from ui.library import Column
from ui.roles import ChipsRole

ROCK_AND_JAZZ = [("Rock", 0.9), ("Jazz", 0.6), ("Folk", 0.2)]


def analysis_with(demo_analysis, genres):
    return replace(demo_analysis, genres=[GenreSuggestion(g, g, c) for g, c in genres])


def grouped(qtbot, window) -> None:
    window.show_albums(True)
    qtbot.waitUntil(lambda: window.album_view.ready, timeout=WAIT_MS)


def select(view, index) -> None:
    view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                          | QItemSelectionModel.SelectionFlag.Rows)


def test_files_group_by_album_artist_and_album(tmp_path):
    loose = tmp_path / "loose"
    for name in ("a.flac", "b.flac"):  # a folder of a few audio files, no subfolders: one album
        (loose / name).parent.mkdir(parents=True, exist_ok=True)
        (loose / name).write_bytes(b"")
    snapshot = [
        (Path("/m/1.flac"), "Ann", "Various", "Greatest"),
        (Path("/m/2.flac"), "Bob", "Various", "greatest"),  # another track artist, the same album
        (Path("/m/3.flac"), "Cy", "Cy", "Greatest"),  # the same title by another album artist
        # No album artist: the folder holds the album together, whatever its composers.
        (Path("/ost/4.flac"), "Composer A", "", "Score"),
        (Path("/ost/6.flac"), "Composer B", "", "score"),
        (loose / "a.flac", "", "", ""),
        (loose / "b.flac", "", "", ""),
        (Path("/nowhere/5.flac"), "", "", ""),  # on no album: an album of its own
    ]
    groups = album_groups(snapshot, AlbumGrouper())
    assert [(name, [p.name for p in paths]) for _, name, paths in groups] == [
        ("Various – Greatest", ["1.flac", "2.flac"]),
        ("Cy – Greatest", ["3.flac"]),
        ("Composer A – Score", ["4.flac", "6.flac"]),
        ("loose/", ["a.flac", "b.flac"]),
        ("5.flac", ["5.flac"]),
    ]


def test_the_album_tree_expands_into_tracks_and_accepting_an_album_sets_its_tracks(qtbot, window, demo_analysis):
    from dataclasses import replace as changed

    tracks = [ReviewItem(Path(f"/lib/greatest/{n}.flac"), artist=a, title=f"Song {n}", album="Greatest",
                         album_artist="Various") for n, a in ((1, "Ann"), (2, "Bob"), (3, "Cy"))]
    tracks[2].current_genres = ["Shoegaze"]
    other = ReviewItem(Path("/lib/other/1.flac"), artist="Dee", title="Alone", album="Greatest", album_artist="Dee")
    window.session.add([*tracks, other])
    for item in tracks:
        item.analysed(analysis_with(demo_analysis, ROCK_AND_JAZZ), 0.5, 3)
    other.analysed(analysis_with(demo_analysis, [("Rock", 0.2)]), 0.5, 3)
    window.set_settings(changed(window.settings, min_confidence=0.25, max_genres=3))
    grouped(qtbot, window)
    view = window.album_view
    model = view.albums
    assert window.views.currentWidget() is view and window.actions[Act.GROUP_BY_ALBUM].isChecked()
    assert model.rowCount() == 2
    album = model.index(0, 0)
    assert model.index(0, Column.TITLE).data() == "Greatest (3 tracks)"
    assert model.index(0, Column.ARTIST).data() == "Various"
    assert model.index(1, Column.ARTIST).data() == "Dee"
    assert model.rowCount(album) == 3
    view.setExpanded(album, True)
    assert view.isExpanded(album)
    assert [model.index(r, Column.ARTIST, album).data() for r in range(3)] == ["Ann", "Bob", "Cy"]
    assert model.index(2, Column.TITLE, album).data() == "Song 3"

    # The album weighs three analyses (1 each) and one tagged track (3): Shoegaze 3/6,
    # Rock 2.7/6, Jazz 1.8/6; all three pass 25%, and Shoegaze only the album's tags vouch for.
    chips = model.index(0, Column.SUGGESTED).data(ChipsRole)
    assert [(c.genre, round(c.confidence, 3), c.source) for c in chips] == [
        ("Shoegaze", 0.5, "album"), ("Rock", 0.45, "base"), ("Jazz", 0.3, "base")]
    assert "the tags of this album's other tracks vouch for it most" in model.index(0, Column.SUGGESTED).data(
        Qt.ItemDataRole.ToolTipRole)
    # Undecided albums say how sure the album is, not what their tracks are: Greatest agrees on
    # genres above 25%; Dee's album has only Rock at 20%, which it shows, unchosen, as a track would.
    assert [model.index(r, Column.STATUS).data() for r in range(2)] == ["suggested", "unsure"]
    assert [(c.genre, c.chosen) for c in model.index(1, Column.SUGGESTED).data(ChipsRole)] == [("Rock", False)]

    select(view, album)
    window.actions[Act.ACCEPT].trigger()
    for item in tracks:
        assert item.state is ReviewState.ACCEPTED
        assert item.proposed == ["Shoegaze", "Rock", "Jazz"]
    assert other.state is not ReviewState.ACCEPTED and not other.album_genres  # not selected, not touched
    assert model.index(0, Column.STATUS).data() == "accepted"
    assert model.index(0, Column.STATUS, album).data() == "accepted (album)"
    # A track now shows the album's genres, each with the album's confidence and source.
    track_chips = model.index(0, Column.SUGGESTED, album).data(ChipsRole)
    assert [(c.genre, round(c.confidence, 3), c.source) for c in track_chips] == [
        ("Shoegaze", 0.5, "album"), ("Rock", 0.45, "base"), ("Jazz", 0.3, "base")]

    # An album with no genre above the least confidence is left as it is, and the status bar says so.
    select(view, model.index(1, 0))
    window.actions[Act.ACCEPT].trigger()
    assert other.state is ReviewState.UNSURE and not other.album_genres
    assert window.status.message_label.message().startswith("1 album has no genre that reaches 25%")

    # Back to the table: the same rows, the album's acceptance in them.
    window.show_albums(False)
    assert window.views.currentWidget() is window.table
    assert window.model.index(window.model.row_of(tracks[0].path), Column.STATUS).data() == "accepted (album)"


def test_the_detail_panel_shows_how_each_track_voted(qtbot, window, demo_analysis):
    tracks = [ReviewItem(Path(f"/lib/greatest/{n}.flac"), title=f"Song {n}", album="Greatest", album_artist="Various")
              for n in (1, 2, 3)]
    tracks[2].current_genres = ["Shoegaze"]
    window.session.add(tracks)
    for item in tracks[:2]:
        item.analysed(analysis_with(demo_analysis, ROCK_AND_JAZZ), 0.5, 3)
    grouped(qtbot, window)
    select(window.album_view, window.album_view.albums.index(0, 0))
    detail = window.album_detail
    assert window.details.currentWidget() is detail
    assert "Various – Greatest" in detail.heading.text()
    assert "3 tracks: 2 analysed, 1 tagged" in detail.heading.text()
    def rows(item):
        return [item.text(c) for c in range(3)], [[item.child(i).text(c) for c in range(2)]
                                                  for i in range(item.childCount())]

    tracks_shown = [rows(detail.tracks.topLevelItem(r)) for r in range(detail.tracks.topLevelItemCount())]
    # Two analysed tracks (weight 1 each) and one tagged only (3): each analysed one has
    # 4 of the 5 other units against its own 1, so it moves 4/5 of the way; the tagged
    # one has no analysis to move. Beneath each track, the genres it voted for.
    assert tracks_shown == [
        (["Song 1", "", "80%"], [["Rock", "0.9"], ["Jazz", "0.6"], ["Folk", "0.2"]]),
        (["Song 2", "", "80%"], [["Rock", "0.9"], ["Jazz", "0.6"], ["Folk", "0.2"]]),
        (["Song 3", "", "–"], [["Shoegaze (tag)", "3"]]),
    ]
    assert detail.tracks.topLevelItem(0).isExpanded()
    assert [c.genre for c in detail.chips.chips()] == ["Shoegaze"]  # 3/5 passes 50%; Rock 1.8/5 does not

    # Selecting a track shows the track again.
    window.album_view.setExpanded(window.album_view.albums.index(0, 0), True)
    select(window.album_view, window.album_view.albums.index(0, 0, window.album_view.albums.index(0, 0)))
    assert window.details.currentWidget() is window.detail
    assert "Song 1" in window.detail.heading.text()


def test_accept_an_album_and_apply_writes_its_genres_to_every_track(qtbot, window, tmp_path):
    folder = tmp_path / "Night"
    paths = [tagged_audio(folder / f"{n}.flac", genre, "Night", "The Band", artist="Player", title=f"Track {n}",
                          freq=300.0 + 40 * n)
             for n, genre in enumerate(["Chiptune", "Chiptune", None])]
    scanned(qtbot, window, [folder])
    item = window.session.item(paths[2])
    assert (item.artist, item.album_artist, item.album) == ("Player", "The Band", "Night")
    window.analyse_all()
    analysed(qtbot, window)
    grouped(qtbot, window)
    view = window.album_view
    assert [g.name for g in view.albums.groups] == ["The Band – Night"]
    select(view, view.albums.index(0, 0))
    window.actions[Act.ACCEPT].trigger()
    assert all(window.session.item(p).state is ReviewState.ACCEPTED for p in paths)
    assert window.session.item(paths[2]).proposed == ["Chiptune"]  # 6 of 9 units; no analysis reaches 50%
    window.actions[Act.APPLY].trigger()
    written(qtbot, window)
    assert [read_tags(p).genres for p in paths] == [["Chiptune"]] * 3
    # The provenance says the album chose, with the album's confidence (6 of 9 units), not the track's own.
    written_why = json.loads(read_tags(paths[2]).provenance)
    assert written_why["album"] is True and written_why["confidences"] == {"Chiptune": 0.667}
    assert all(window.session.item(p).state is ReviewState.WRITTEN for p in paths)
    assert view.albums.index(0, Column.STATUS).data() == "written"


def test_the_album_view_follows_the_filter(qtbot, window, demo_analysis):
    items = [ReviewItem(Path(f"/lib/{a}/{n}.flac"), title=f"{a} {n}", album=a, album_artist="X")
             for a in ("One", "Two") for n in (1, 2)]
    window.session.add(items)
    grouped(qtbot, window)
    assert window.album_view.albums.rowCount() == 2
    window.search.setText("Two")
    window.apply_filter()
    qtbot.waitUntil(lambda: window.album_view.ready, timeout=WAIT_MS)
    assert [g.name for g in window.album_view.albums.groups] == ["X – Two"]


def laid_out_apart(layout) -> None:
    """Each shown part of a side panel's ``layout`` has the height it needs, below the one above it."""
    parts = [layout.itemAt(i).widget() for i in range(layout.count())]
    parts = [p for p in parts if p is not None and not p.isHidden()]
    for part in parts:
        needed = part.heightForWidth(part.width()) if part.hasHeightForWidth() else part.minimumSizeHint().height()
        assert part.height() >= needed, part
    for above, below in zip(parts, parts[1:]):
        assert above.geometry().bottom() < below.geometry().top(), (above, below)


def test_the_side_panel_scrolls_in_the_smallest_window_in_the_album_view(qtbot, window, demo_analysis):
    tracks = [ReviewItem(Path(f"/lib/greatest/{n}.flac"), artist=a, title=f"Song {n}", album="Greatest",
                         album_artist="Various") for n, a in ((1, "Ann"), (2, "Bob"), (3, "Cy"))]
    window.session.add(tracks)
    for item in tracks:
        item.analysed(analysis_with(demo_analysis, ROCK_AND_JAZZ), 0.5, 3)
    grouped(qtbot, window)
    view = window.album_view
    album = view.albums.index(0, 0)
    select(view, album)
    assert window.details.currentWidget() is window.album_detail
    window.resize(window.minimumSizeHint())
    qtbot.waitUntil(lambda: window.size() == window.minimumSizeHint())
    qtbot.wait(50)  # wrapped lines settle their heights
    laid_out_apart(window.album_detail.content.layout())
    assert window.album_detail.scroll.verticalScrollBar().maximum() > 0

    select(view, view.albums.index(0, 0, album))  # a track of the album: its own analysis
    assert window.details.currentWidget() is window.detail
    qtbot.wait(50)
    laid_out_apart(window.detail.content.layout())
    laid_out_apart(window.detail.view.layout())
    assert window.detail.scroll.verticalScrollBar().maximum() > 0


def test_an_album_row_counts_its_tracks_states_in_the_status_columns_words():
    from ui.album_view import AlbumGroup, status_text

    states = [ReviewState.ERROR, ReviewState.UNSURE, ReviewState.UNSURE, ReviewState.EDITED]
    group = AlbumGroup("k", "Album", [ReviewItem(Path(f"/m/{n}.flac"), state=s) for n, s in enumerate(states)])
    assert status_text(group) == "1 error, 2 unsure, 1 edited"
    group.items.append(ReviewItem(Path("/m/x.flac"), state=ReviewState.ERROR))
    assert status_text(group).startswith("2 errors, ")

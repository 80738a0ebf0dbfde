"""The library table over a review session: candidates as chips a click chooses, rows
that follow the session, search, placeholders, column widths, and the timeline's colours."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStyleOptionViewItem, QWidget

from tagger.analysis.analyzer import FileResult, Segment
from tagger.genres.suggestion import GenreSuggestion
from tagger.review.items import ReviewItem, ReviewState
from tagger.review.session import Change, ReviewSession
from tagger.settings import Settings
from tagger.writing.journal import Journal
from ui.charts import (
    MIN_SEGMENT_PX,
    OTHER_COLOUR,
    PALETTE,
    ChipStrip,
    Timeline,
    cell_width,
    genre_colours,
    place_chips,
)
from ui.chips import Chip
from ui.library import Column, Filter, LibraryModel
from ui.library_table import (
    EMPTY_TEXT,
    MIN_SUGGESTED_WIDTH,
    MIN_TEXT_WIDTH,
    NO_MATCH_TEXT,
    LibraryTable,
    elide_path,
)
from ui.roles import ChipsRole


@pytest.fixture(scope="module")
def real_analysis(analyzer):
    from tagger.resources import samples_dir

    return analyzer.analyse(next(p for p in samples_dir().iterdir() if p.suffix == ".ogg"))


def ranked(analysis, *genres: tuple[str, float]):
    """A real analysis that ranks ``genres`` (name, confidence), best first."""
    return replace(analysis, genres=[GenreSuggestion(g, g, c) for g, c in genres])


@pytest.fixture
def session(tmp_path) -> ReviewSession:
    return ReviewSession(Settings(min_confidence=0.5, max_genres=3), Journal(tmp_path / "journal.sqlite3"))


def analysed(session: ReviewSession, item: ReviewItem, analysis) -> ReviewItem:
    if session.item(item.path) is None:
        session.add([item])
    session.take_analyses([FileResult(item.path, analysis)])
    return item


def cell(model: LibraryModel, item: ReviewItem, column: Column):
    return model.index(model.row_of(item.path), column)


def shown_table(qtbot, model: LibraryModel, width: int = 1280, height: int = 800) -> tuple[QMainWindow, LibraryTable]:
    """The table as the window holds it: central, beside a 360 px side panel."""
    window = QMainWindow()
    table = LibraryTable(model)
    window.setCentralWidget(table)
    dock = QDockWidget("Why these genres")
    dock.setWidget(QWidget())
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qtbot.addWidget(window)
    window.resize(width, height)
    window.resizeDocks([dock], [360], Qt.Orientation.Horizontal)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(20)  # the chips delegate widens its column after the first paint
    return window, table


# The model: candidates, states, tooltips.

def test_candidates_below_the_threshold_show_as_unchosen_chips(qtbot, session, real_analysis):
    model = LibraryModel(session)
    sure = analysed(session, ReviewItem(Path("/m/sure.flac")), ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3),
                                                                       ("Pop", 0.1), ("Folk", 0.05)))
    unsure = analysed(session, ReviewItem(Path("/m/unsure.flac")), ranked(real_analysis, ("Jazz", 0.4),
                                                                           ("Rock", 0.2)))
    assert cell(model, sure, Column.SUGGESTED).data(ChipsRole) == [
        Chip("Rock", 0.9, "base", True), Chip("Jazz", 0.3, "base", False), Chip("Pop", 0.1, "base", False)]
    assert cell(model, sure, Column.STATUS).data() == "suggested"
    assert unsure.state is ReviewState.UNSURE
    assert cell(model, unsure, Column.STATUS).data() == "unsure"
    assert cell(model, unsure, Column.SUGGESTED).data(ChipsRole) == [
        Chip("Jazz", 0.4, "base", False), Chip("Rock", 0.2, "base", False)]
    # As text (copying, screen readers): what Accept writes, then what it leaves out, in %.
    assert cell(model, sure, Column.SUGGESTED).data() == "Rock (not chosen: Jazz 30%, Pop 10%)"


def test_the_tooltip_lists_every_candidate_and_whether_accept_writes_it(qtbot, session, real_analysis):
    model = LibraryModel(session)
    item = analysed(session, ReviewItem(Path("/m/a.flac")), ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3),
                                                                    ("Pop", 0.1)))
    session.toggle(item, "Dub")  # a person's own genre, which no model suggested
    lines = cell(model, item, Column.SUGGESTED).data(Qt.ItemDataRole.ToolTipRole).splitlines()
    assert lines == [
        "○ Rock 90%: from the bundled genre vocabulary; Accept writes it",
        "✎ Dub: your own choice; Accept writes it",
        "○ Jazz 30%: from the bundled genre vocabulary; not chosen: Accept leaves it out",
        "○ Pop 10%: from the bundled genre vocabulary; not chosen: Accept leaves it out",
        "Click a genre to choose or unchoose it.",
    ]


def test_a_rejected_row_is_struck_out_greyed_and_tinted(qtbot, session, real_analysis):
    model = LibraryModel(session)
    kept, rejected = (analysed(session, ReviewItem(Path(f"/m/{n}.flac"), artist=n),
                               ranked(real_analysis, ("Rock", 0.9))) for n in ("kept", "rejected"))
    session.reject([rejected])
    assert cell(model, rejected, Column.STATUS).data() == "rejected"
    for column in (Column.STATUS, Column.ARTIST, Column.PATH):
        assert cell(model, rejected, column).data(Qt.ItemDataRole.FontRole).strikeOut()
        assert cell(model, kept, column).data(Qt.ItemDataRole.FontRole) is None
    grey = cell(model, rejected, Column.ARTIST).data(Qt.ItemDataRole.ForegroundRole)
    text = model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
    assert grey is not None and text is None
    assert cell(model, rejected, Column.ARTIST).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(model, kept, Column.ARTIST).data(Qt.ItemDataRole.BackgroundRole) is None


def test_the_artist_column_falls_back_to_the_album_artist(qtbot, session):
    model = LibraryModel(session)
    item = ReviewItem(Path("/m/a.flac"), album_artist="Various")
    session.add([item])
    assert cell(model, item, Column.ARTIST).data() == "Various"


# Following the session.

def test_the_model_follows_the_session_without_being_called(qtbot, session, real_analysis):
    first = ReviewItem(Path("/m/1.flac"), title="one")
    session.add([first])
    model = LibraryModel(session)
    assert model.rowCount() == 1
    with qtbot.waitSignal(model.rowsInserted, timeout=1000):
        session.add([ReviewItem(Path(f"/m/{n}.flac"), title=str(n)) for n in range(2, 6)])
    assert [model.item_at(r).title for r in range(model.rowCount())] == ["one", "2", "3", "4", "5"]

    changed = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    analysed(session, first, ranked(real_analysis, ("Rock", 0.9)))
    assert changed == [(0, 0)]
    assert cell(model, first, Column.STATUS).data() == "suggested"
    # Changed rows repaint in one range per run of neighbouring rows.
    changed.clear()
    session.reject([session.item(Path(f"/m/{n}.flac")) for n in (2, 3, 5)])
    assert changed == [(1, 2), (4, 4)]

    # A reset lays the rows out again under the current filter.
    model.set_filter(Filter.ERRORS)
    assert model.rowCount() == 0
    session.item(Path("/m/4.flac")).failed("unreadable")
    with qtbot.waitSignal(model.layoutChanged, timeout=1000):
        session._announce(Change(reset=True))  # what the session sends where every row may have changed
    assert [model.item_at(r).title for r in range(model.rowCount())] == ["4"]


def test_a_detached_or_destroyed_model_no_longer_follows(qtbot, session):
    detached = LibraryModel(session)
    detached.detach()
    detached.detach()  # a second detach is harmless
    owner = QObject()
    owned = LibraryModel(session, owner)
    session.add([ReviewItem(Path("/m/a.flac"))])
    assert (detached.rowCount(), owned.rowCount()) == (0, 1)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owned), timeout=1000)
    session.add([ReviewItem(Path("/m/b.flac"))])  # would reach the deleted model's C++ side and raise


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


# Search.

def test_search_finds_a_row_by_a_current_or_a_suggested_genre(qtbot, session, real_analysis):
    model = LibraryModel(session)
    tagged = ReviewItem(Path("/m/tagged.flac"), current_genres=["Shoegaze"], title="tagged")
    session.add([tagged])
    suggested = analysed(session, ReviewItem(Path("/m/suggested.flac"), title="suggested"),
                         ranked(real_analysis, ("Rock", 0.9), ("Krautrock", 0.2)))
    other = ReviewItem(Path("/m/other.flac"), album_artist="Various Artists", title="other")
    session.add([other])

    def found(search: str) -> list[str]:
        model.set_filter(Filter.ALL, search)
        return [model.item_at(r).title for r in range(model.rowCount())]

    assert found("shoegaze") == ["tagged"]
    assert found("KRAUT") == ["suggested"]  # a suggestion Accept leaves out
    assert found("various") == ["other"]
    assert found("") == ["tagged", "suggested", "other"]
    assert suggested.proposed == ["Rock"]


def test_the_low_confidence_filter_follows_the_sessions_threshold(qtbot, session, real_analysis):
    model = LibraryModel(session)
    item = analysed(session, ReviewItem(Path("/m/a.flac")), ranked(real_analysis, ("Rock", 0.6)))
    model.set_filter(Filter.LOW_CONFIDENCE)
    assert model.rowCount() == 0
    session.set_settings(replace(session.settings, min_confidence=0.7))
    model.set_filter(Filter.LOW_CONFIDENCE)
    assert model.item_at(0) is item


def test_the_confidence_column_shows_what_accept_writes_and_sorts_by_it(qtbot, session, real_analysis):
    model = LibraryModel(session)
    chose = analysed(session, ReviewItem(Path("/m/chose.flac")), ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3)))
    own = analysed(session, ReviewItem(Path("/m/own.flac")), ranked(real_analysis, ("Rock", 0.8)))
    album = analysed(session, ReviewItem(Path("/m/album.flac")), ranked(real_analysis, ("Rock", 0.7)))
    session.edit([chose], ["Jazz"])
    session.edit([own], ["Post-Punk"])
    album.accept_album([GenreSuggestion("Folk", "Folk", 0.55)])
    session.changed([album])
    assert [cell(model, i, Column.CONFIDENCE).data() for i in (chose, own, album)] == ["30%", "yours", "55%"]
    model.sort(Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    assert [model.item_at(r) for r in range(3)] == [own, album, chose]
    model.set_filter(Filter.LOW_CONFIDENCE)  # what the column shows, below the least confidence to propose
    assert [model.item_at(r) for r in range(model.rowCount())] == [chose]


def test_a_failed_row_says_in_a_few_words_what_failed_and_the_tooltip_says_the_rest(qtbot, session, real_analysis):
    model = LibraryModel(session)
    message = "not a decodable audio file (libsndfile: no audio stream found; FFmpeg: Invalid data found)"
    failed = ReviewItem(Path("/m/fake.mp3"))
    session.add([failed])
    session.take_analyses([FileResult(failed.path, error=message)])
    assert cell(model, failed, Column.STATUS).data() == "error: not an MP3 file"
    assert message in cell(model, failed, Column.STATUS).data(Qt.ItemDataRole.ToolTipRole)
    marked = cell(model, failed, Column.STATUS).data(Qt.ItemDataRole.BackgroundRole)
    session.edit([failed], ["Rock"])
    assert cell(model, failed, Column.STATUS).data() == "error: not an MP3 file (edited)"
    assert "Apply leaves this file alone" in cell(model, failed, Column.TITLE).data(Qt.ItemDataRole.ToolTipRole)
    assert cell(model, failed, Column.STATUS).data(Qt.ItemDataRole.BackgroundRole) == marked  # the error's colour


@pytest.mark.parametrize("selected", [2, 12])  # a few rows are found by a scan, more through the map of every row
def test_a_sort_or_filter_keeps_the_selection_on_the_same_files(qtbot, session, selected):
    from PySide6.QtCore import QItemSelectionModel

    from ui.library import FEW_LOOKUPS

    assert (selected > FEW_LOOKUPS) == (selected == 12)
    model = LibraryModel(session)
    session.add(ReviewItem(Path(f"/m/{n:02d}.flac"), title=f"Song {n:02d}",
                           artist="Jazz band" if n % 2 else "Rock band") for n in range(30))
    _, table = shown_table(qtbot, model)
    chosen = [session.items[n] for n in range(0, 2 * selected, 2)] + [session.items[1]]  # one Jazz band row
    for item in chosen:
        table.selectionModel().select(model.index(model.row_of(item.path), 0),
                                      QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    table.selectionModel().setCurrentIndex(model.index(model.row_of(chosen[-1].path), 0),
                                           QItemSelectionModel.SelectionFlag.NoUpdate)

    def selected_items() -> set[Path]:
        return {model.item_at(i.row()).path for i in table.selectionModel().selectedRows()}

    model.sort(Column.TITLE, Qt.SortOrder.DescendingOrder)
    assert selected_items() == {i.path for i in chosen}
    assert model.item_at(table.selectionModel().currentIndex().row()) is chosen[-1]
    model.set_filter(Filter.ALL, "rock band")  # the Jazz band row is hidden: its selection goes
    assert selected_items() == {i.path for i in chosen[:-1]}
    assert not table.selectionModel().currentIndex().isValid()


# The table.

def test_a_click_on_a_chip_of_a_selected_row_chooses_it_through_the_session(qtbot, session, real_analysis):
    model = LibraryModel(session)
    items = [analysed(session, ReviewItem(Path(f"/m/{n}.flac"), title=n),
                      ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3), ("Pop", 0.1))) for n in ("a", "b")]
    _, table = shown_table(qtbot, model)
    table.chip_toggled.connect(lambda path, genre: session.toggle(session.item(path), genre))
    item = items[1]

    def click(genre: str) -> None:
        index = cell(model, item, Column.SUGGESTED)
        rect = QRectF(table.visualRect(index).adjusted(2, 3, -2, -3))
        boxes = {p.chip.genre: p.box for p in place_chips(rect, index.data(ChipsRole), QFontMetrics(table.font()))
                 if p.chip is not None}
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=boxes[genre].center().toPoint())

    click("Jazz")  # the row was not selected: the first click selects it and changes nothing
    assert table.selectionModel().isRowSelected(model.row_of(item.path))
    assert item.proposed == ["Rock"] and item.state is ReviewState.SUGGESTED
    with qtbot.waitSignal(model.dataChanged, timeout=1000) as repainted:
        click("Jazz")
    assert repainted.args[0].row() == model.row_of(item.path)
    assert item.proposed == ["Rock", "Jazz"] and item.state is ReviewState.ACCEPTED
    assert cell(model, item, Column.SUGGESTED).data(ChipsRole)[:2] == [Chip("Rock", 0.9, "base", True),
                                                                      Chip("Jazz", 0.3, "base", True)]
    click("Rock")
    assert item.proposed == ["Jazz"]
    assert items[0].proposed == ["Rock"]  # the other row is untouched
    assert table.selectionModel().isRowSelected(model.row_of(item.path))
    click_other = cell(model, items[0], Column.SUGGESTED)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(click_other).topLeft()
                     + QPoint(12, table.visualRect(click_other).height() // 2))  # on its chosen chip, Rock
    assert table.selectionModel().isRowSelected(model.row_of(items[0].path))
    assert items[0].proposed == ["Rock"]  # a chosen chip of a row not selected is not unchosen either


def test_a_screen_reader_reads_the_genre_cells_painted_chips(qtbot, session, real_analysis):
    from PySide6.QtGui import QAccessible

    model = LibraryModel(session)
    item = analysed(session, ReviewItem(Path("/m/a.flac")), ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3)))
    _, table = shown_table(qtbot, model)
    centre = table.viewport().mapToGlobal(table.visualRect(cell(model, item, Column.SUGGESTED)).center())
    genres = QAccessible.queryAccessibleInterface(table).childAt(centre.x(), centre.y())
    assert genres.role() == QAccessible.Role.Cell
    assert genres.text(QAccessible.Text.Name) == "Rock (not chosen: Jazz 30%)"
    assert genres.text(QAccessible.Text.Description) == ("Rock, 90%, from bundled vocabulary, chosen; "
                                                         "Jazz, 30%, from bundled vocabulary, not chosen")


def test_the_suggested_column_is_wide_enough_for_every_chosen_chip(qtbot, session, real_analysis):
    session.settings = replace(session.settings, min_confidence=0.1)
    model = LibraryModel(session)
    wide = analysed(session, ReviewItem(Path("/m/wide.flac")), ranked(
        real_analysis, ("Progressive Electronic", 0.9), ("Contemporary Classical", 0.8), ("Experimental Rock", 0.7),
        ("Jazz", 0.05)))
    _, table = shown_table(qtbot, model)
    chips = cell(model, wide, Column.SUGGESTED).data(ChipsRole)
    needed = cell_width(QFontMetrics(table.font()), chips) + 4
    assert needed > 300  # wider than the column's own share would be
    header = table.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(Column.SUGGESTED) >= needed, timeout=1000)
    header.resizeSection(Column.SUGGESTED, 80)  # as a drag would
    assert header.sectionSize(Column.SUGGESTED) >= needed


def test_chosen_chips_are_placed_even_where_they_do_not_fit_and_unchosen_ones_fold(qtbot):
    metrics = QFontMetrics(QWidget().font())
    chips = [Chip("Rock", 0.9, "base"), Chip("Jazz", 0.8, "base"), Chip("Folk", 0.3, "base", False),
             Chip("Pop", 0.2, "base", False), Chip("Soul", 0.1, "base", False)]
    narrow = place_chips(QRectF(0, 0, 60, 20), chips, metrics)
    assert [p.chip.genre for p in narrow if p.chip is not None] == ["Rock", "Jazz"]
    assert narrow[-1].chip is None and narrow[-1].hidden == 3
    room = cell_width(metrics, [*chips[:2], chips[2]._replace(chosen=True), *chips[3:]])  # Folk and a "+2"
    roomy = place_chips(QRectF(0, 0, room, 20), chips, metrics)
    assert [p.chip.genre for p in roomy if p.chip is not None] == ["Rock", "Jazz", "Folk"]
    assert roomy[-1].hidden == 2
    every = place_chips(QRectF(0, 0, 2000, 20), chips, metrics)
    assert all(p.chip is not None for p in every) and len(every) == 5


def test_the_table_fits_1280_pixels_beside_the_side_panel(qtbot, session, real_analysis):
    model = LibraryModel(session)
    for n in range(3):
        analysed(session, ReviewItem(Path(f"/music/Some Artist/Some Album/{n:02d} A Long Track Title.flac"),
                                     artist="Some Artist", title="A Long Track Title", album="Some Album"),
                 ranked(real_analysis, ("Rock", 0.9), ("Electronic", 0.7), ("Jazz", 0.2)))
    _, table = shown_table(qtbot, model)
    header, viewport = table.horizontalHeader(), table.viewport().width()
    for column in (Column.ALBUM, Column.PATH):
        assert header.sectionViewportPosition(column) + MIN_TEXT_WIDTH <= viewport, column
        assert header.sectionSize(column) >= MIN_TEXT_WIDTH
    assert header.sectionViewportPosition(Column.ALBUM) + header.sectionSize(Column.ALBUM) <= viewport
    assert table.horizontalScrollBar().maximum() == 0
    # Once a person sets a width, it stays.
    header.resizeSection(Column.TITLE, 300)
    table.resize(table.width() - 50, table.height())
    qtbot.wait(10)
    assert header.sectionSize(Column.TITLE) == 300


def painted_path(table: LibraryTable, row: int) -> str:
    """What PathDelegate paints in the File column of ``row``."""
    index = table.model().index(row, Column.PATH)
    option = QStyleOptionViewItem()
    option.initFrom(table.viewport())
    option.font = table.font()
    option.fontMetrics = table.fontMetrics()
    option.rect = table.visualRect(index)
    table.itemDelegateForColumn(Column.PATH).initStyleOption(option, index)
    return option.text


def test_the_file_column_shows_the_file_name_and_gives_way_before_the_genres(qtbot, session, real_analysis):
    name = "01 A Longer Track Title.flac"
    for n in range(3):
        analysed(session, ReviewItem(Path(f"/music/Some Artist/Some Album {n}/{name}"), artist="Some Artist",
                                     title="A Longer Track Title", album="Some Album"),
                 ranked(real_analysis, ("Rock", 0.9), ("Electronic", 0.7), ("Jazz", 0.2)))
    _, table = shown_table(qtbot, LibraryModel(session))  # the default window, beside the side panel
    header = table.horizontalHeader()
    genres_least = max(MIN_SUGGESTED_WIDTH, table.chips.minimum_width(Column.SUGGESTED))
    assert painted_path(table, 0).endswith("/" + name)
    assert header.sectionSize(Column.SUGGESTED) >= genres_least
    assert table.horizontalScrollBar().maximum() == 0
    # Narrower, the file name is cut while the genres keep their room.
    table.window().resize(1000, 800)
    qtbot.waitUntil(lambda: not painted_path(table, 0).endswith("/" + name))
    assert header.sectionSize(Column.SUGGESTED) >= genres_least


def test_the_file_name_gets_its_room_when_the_rows_arrive(qtbot, session, real_analysis):
    _, table = shown_table(qtbot, LibraryModel(session))
    name = "01 A Longer Track Title.flac"
    analysed(session, ReviewItem(Path(f"/music/Some Artist/Some Album/{name}")), ranked(real_analysis, ("Rock", 0.9)))
    qtbot.waitUntil(lambda: table.library_model.rowCount() == 1)
    assert painted_path(table, 0).endswith("/" + name)


def test_the_file_column_cuts_folders_and_keeps_the_file_name(qtbot, session):
    fits = lambda width: (lambda text: len(text) <= width)  # noqa: E731
    path = "/music/artist/album/track.flac"
    assert elide_path(path, fits(40)) == path
    assert elide_path(path, fits(26)) == "/music/artist/…/track.flac"
    assert elide_path(path, fits(20)) == "/music/…/track.flac"
    assert elide_path(path, fits(12)) == "…/track.flac"
    assert elide_path(path, fits(6)) == "….flac"

    model = LibraryModel(session)
    session.add([ReviewItem(Path("/music/a long artist name/an even longer album name/01 track.flac"))])
    table = LibraryTable(model)
    qtbot.addWidget(table)
    table.horizontalHeader().resizeSection(Column.PATH, 160)
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    option.rect = table.visualRect(model.index(0, Column.PATH))
    option.rect.setWidth(160)
    table.itemDelegateForColumn(Column.PATH).initStyleOption(option, model.index(0, Column.PATH))
    assert option.text.endswith("/01 track.flac") and "…" in option.text


def ink(image: QImage, rect: QRectF | None = None) -> int:
    """How many pixels differ from the image's top-left (background) colour."""
    data = np.asarray(image.convertToFormat(QImage.Format.Format_RGB32).constBits()).reshape(
        image.height(), image.width(), 4)[..., :3].astype(int)
    if rect is not None:
        data = data[int(rect.top()):int(rect.bottom()), int(rect.left()):int(rect.right())]
    return int((np.abs(data - data[0, 0]).sum(axis=-1) > 30).sum())


def test_placeholders_for_an_empty_library_and_a_search_that_matches_nothing(qtbot, session):
    model = LibraryModel(session)
    _, table = shown_table(qtbot, model)
    assert table.placeholder_text() == EMPTY_TEXT
    assert ink(table.viewport().grab().toImage()) > 50  # the text is painted
    model.set_filter(Filter.ALL, "nothing like this")
    session.add([ReviewItem(Path("/m/a.flac"), title="a")])
    assert model.rowCount() == 0 and table.placeholder_text() == NO_MATCH_TEXT
    model.set_filter(Filter.ALL, "")
    assert model.rowCount() == 1 and table.placeholder_text() == ""


# The chip strip of the side panel and the check card.

def test_the_chip_strip_shows_unchosen_chips_weaker_and_toggles_when_asked(qtbot):
    strip = ChipStrip()
    qtbot.addWidget(strip)
    strip.resize(400, 40)
    strip.set_chips([Chip("Electronic", 0.8, "base", True), Chip("Electronic", 0.8, "base", False)])
    strip.show()
    qtbot.waitExposed(strip)
    image = strip.grab().toImage()
    chosen, unchosen = (p.box for p in strip.placed())
    assert ink(image, unchosen) < 0.7 * ink(image, chosen)
    assert strip.toolTip().splitlines() == [
        "○ Electronic 80%: from the bundled genre vocabulary; Accept writes it",
        "○ Electronic 80%: from the bundled genre vocabulary; not chosen: Accept leaves it out"]

    toggled = []
    strip.toggled.connect(toggled.append)
    strip.set_chips([Chip("Rock", 0.9, "base"), Chip("Jazz", 0.3, "base", False)])
    jazz = strip.placed()[1].box.center().toPoint()
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=jazz)
    assert toggled == []  # not toggleable by default
    strip.setToggleable(True)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=jazz)
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(strip.width() - 2, 2))  # beside every chip
    assert toggled == ["Jazz"]
    assert strip.toolTip().endswith("Click a genre to choose or unchoose it.")


def test_tab_leaves_the_table_for_the_chips_whose_keys_choose_them(qtbot, session, real_analysis):
    """The arrow keys move within the table; Tab goes on to the panel's chips, where the
    arrows move from chip to chip and Space chooses or unchooses one."""
    model = LibraryModel(session)
    analysed(session, ReviewItem(Path("/m/a.flac")), ranked(real_analysis, ("Rock", 0.9), ("Jazz", 0.3)))
    analysed(session, ReviewItem(Path("/m/b.flac")), ranked(real_analysis, ("Pop", 0.9)))
    window, table = shown_table(qtbot, model)
    strip = ChipStrip()
    strip.set_chips([Chip("Rock", 0.9, "base"), Chip("Jazz", 0.3, "base", False)])
    strip.setToggleable(True)
    window.findChild(QDockWidget).setWidget(strip)
    with qtbot.waitActive(window):
        window.activateWindow()
    table.setFocus()
    table.setCurrentIndex(model.index(0, Column.STATUS))
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 1 and table.hasFocus()
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert strip.hasFocus()
    toggled = []
    strip.toggled.connect(toggled.append)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    assert strip.current_chip() == Chip("Jazz", 0.3, "base", False)
    qtbot.keyClick(strip, Qt.Key.Key_Space)
    assert toggled == ["Jazz"]
    strip.set_chips([Chip("Rock", 0.9, "base"), Chip("Jazz", 0.3, "base")])  # the session chose it
    assert strip.current_chip() == Chip("Jazz", 0.3, "base")  # the keys stay on it
    strip.setToggleable(False)
    assert strip.focusPolicy() == Qt.FocusPolicy.NoFocus  # nothing to do there, so Tab passes it by


def test_the_chip_strip_wraps_instead_of_hiding_chips(qtbot):
    strip = ChipStrip()
    qtbot.addWidget(strip)
    strip.set_chips([Chip(f"Genre number {n}", 0.9 - n / 10, "base", n < 3) for n in range(5)])
    strip.resize(200, strip.heightForWidth(200))
    placed = strip.placed()
    assert len(placed) == 5 and all(p.chip is not None for p in placed)
    assert all(p.box.right() <= 200 and p.box.bottom() <= strip.height() for p in placed)
    assert len({p.box.top() for p in placed}) > 1


# The timeline.

# Colour-vision deficiency simulation (Machado, Oliveira and Fernandes, "A Physiologically-based
# Model for Simulation of Color Vision Deficiency", IEEE TVCG 15(6), 2009), severity 1, in linear RGB.
DEFICIENCIES = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
# CIE76 ΔE: about 2.3 is just noticeable; genres told apart by colour alone need far more.
MIN_DELTA_E = 12


def lab(colour: QColor, deficiency: np.ndarray) -> np.ndarray:
    srgb = np.array([colour.redF(), colour.greenF(), colour.blueF()])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(deficiency @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_palette_stays_distinguishable_in_colour_blind_vision():
    colours = PALETTE + [OTHER_COLOUR]
    assert len({c.name() for c in colours}) == len(colours)
    for name, deficiency in DEFICIENCIES.items():
        for a, b in itertools.combinations(colours, 2):
            distance = float(np.linalg.norm(lab(a, deficiency) - lab(b, deficiency)))
            assert distance >= MIN_DELTA_E, (name, a.name(), b.name(), round(distance, 1))


def many_leaders(real_analysis, genres: list[str], seconds: float = 420.0):
    """A 7-minute track whose 3 s segments, spread over it, are led by ``genres`` in turn."""
    step = seconds / len(genres)
    segments = [Segment(k * step + 10, k * step + 13, [GenreSuggestion(g, g, 0.8)]) for k, g in enumerate(genres)]
    return replace(real_analysis, duration_s=seconds, segments=segments,
                   genres=[GenreSuggestion(g, g, 0.9 - k / 50) for k, g in enumerate(genres)])


@pytest.mark.parametrize("count", [4, 12])
def test_the_timeline_legend_names_every_colour_it_draws(qtbot, real_analysis, count):
    genres = ["Rock", "Pop", "Electronic", "Jazz", "Folk", "Soul", "Metal", "Blues", "Reggae", "Funk", "Punk",
              "Ambient"][-count:]
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.set_analysis(many_leaders(real_analysis, genres))
    timeline.resize(360, timeline.heightForWidth(360))
    image = timeline.grab().toImage()
    rects = [rect for _, rect in timeline.segment_rects()]
    drawn = {image.pixelColor(rect.center().toPoint()).name() for rect in rects}
    assert len(drawn) == min(count, len(PALETTE) + 1)
    # Below the bar, each colour drawn in it has its swatch in the legend.
    pixels = np.asarray(image.convertToFormat(QImage.Format.Format_RGB32).constBits()).reshape(
        image.height(), image.width(), 4)[int(rects[0].bottom()) + 1:, :, 2::-1]
    for colour in drawn:
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        assert (pixels == rgb).all(axis=-1).sum() >= 16, colour
    entries = timeline.legend_entries()
    assert {e.colour.name() for e in entries if e.colour is not None} == drawn
    assert "Ambient" in " ".join(e.label for e in entries)


def test_the_bars_and_the_timeline_agree_on_colours(real_analysis):
    analysis = many_leaders(real_analysis, ["Rock", "Jazz"])
    colours = genre_colours(analysis)
    assert colours["Rock"] != colours["Jazz"]
    assert set(colours) >= {"Rock", "Jazz"}


def test_every_segment_of_a_long_track_can_be_hovered(qtbot, real_analysis):
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.set_analysis(many_leaders(real_analysis, ["Rock", "Jazz", "Folk", "Pop", "Soul", "Punk"]))
    timeline.resize(360, timeline.heightForWidth(360))
    timeline.show()
    qtbot.waitExposed(timeline)
    rects = timeline.segment_rects()
    assert len(rects) == 6
    assert MIN_SEGMENT_PX >= 6
    for segment, rect in rects:
        assert rect.width() >= 6
        for dx in (-2, 2):  # 3 s of 7 minutes is under 3 px: each side of a segment's centre
            qtbot.mouseMove(timeline, QPoint(round(rect.center().x() + dx), int(rect.center().y())))
            qtbot.waitUntil(lambda s=segment: timeline.toolTip().startswith(f"{s.start_s:.0f}–"), timeout=1000)

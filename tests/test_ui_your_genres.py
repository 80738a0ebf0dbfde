"""The "Your genres" dialog (ui/your_genres.py) shows the LearnReport's figures."""

from __future__ import annotations

import math
from types import SimpleNamespace

from tagger.learning import GenreFigures, LearnReport, ReliabilityBin
from ui.your_genres import YourGenresDialog


def report(**changes) -> LearnReport:
    figures = dict(
        files=57,
        genres=[GenreFigures("Soundtrack A", 20, 0.9, 0.85), GenreFigures("Soundtrack B", 15, 0.625, None),
                GenreFigures("Chiptune", 12, None, 0.5)],
        thin={"Polka": 2, "Dub": 1}, junk={"Unknown": 5, "": 1},
        top1=0.8235, top3=0.9706, expected_calibration_error=0.0312,
        reliability=[ReliabilityBin(0.4, 0.5, 6, 0.46, 0.5), ReliabilityBin(0.9, 1.0, 30, 0.95, 0.9333)],
        confusions=[("Soundtrack B", "Soundtrack A", 3), ("Chiptune", "Soundtrack B", 1)],
        temperature=1.42, folds=5, seconds=2.5,
    )
    figures.update(changes)
    return LearnReport(**figures)


def dialog_for(qtbot, learned: LearnReport) -> YourGenresDialog:
    model = SimpleNamespace(genres=[g.genre for g in learned.genres], report=learned, trained_at=0.0)
    dialog = YourGenresDialog(model)
    qtbot.addWidget(dialog)
    return dialog


def cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_the_dialog_shows_every_figure_of_the_report(qtbot):
    dialog = dialog_for(qtbot, report())
    summary = dialog.summary.text()
    assert "Learned 3 genres from 57 tagged files" in summary
    assert "(5 folds)" in summary
    assert "for <b>82%</b> of files (top-1 agreement)" in summary
    assert "for <b>97%</b> (top-3)" in summary
    assert "That is low" not in summary
    assert cells(dialog.genres) == [["Soundtrack A", "20", "90%", "85%"], ["Soundtrack B", "15", "62%", "–"],
                                    ["Chiptune", "12", "–", "50%"]]
    assert [dialog.genres.horizontalHeaderItem(c).text() for c in range(4)] == ["Genre", "Files", "Precision",
                                                                                 "Recall"]
    assert cells(dialog.calibration) == [["40%–50%", "6", "46%", "50%"], ["90%–100%", "30", "95%", "93%"]]
    assert "Expected calibration error: <b>3.1%</b>" in dialog.ece.text()
    assert dialog.ece.text().endswith("how often it was right.")
    assert dialog.chart.bins == report().reliability
    assert dialog.confusions.text() == "Soundtrack B → Soundtrack A (3 files); Chiptune → Soundtrack B (1 file)"
    assert dialog.thin.text() == "Polka (2), Dub (1)"
    assert dialog.junk.text() == "Unknown (5), (empty) (1)"


def test_nothing_held_out_gives_no_agreement_figures_and_says_so(qtbot):
    dialog = dialog_for(qtbot, report(top1=math.nan, top3=math.nan, expected_calibration_error=math.nan,
                                      reliability=[], confusions=[], folds=0, thin={}, junk={}))
    assert "No tagged file could be held out and tested" in dialog.summary.text()
    assert "%" not in dialog.summary.text()
    assert dialog.calibration.rowCount() == 0
    assert dialog.ece.text() == "No calibration figures: no file could be held out and tested."
    assert dialog.confusions.text() == "– (no files were held out)"
    assert (dialog.thin.text(), dialog.junk.text()) == ("none", "none")


def test_figures_from_single_files_and_untested_files_are_explained(qtbot):
    dialog = dialog_for(qtbot, report(grouping="file", untested=3))
    text = dialog.summary.text()
    assert "leaving each file out of training" in text and "promise less for new albums" in text
    assert "3 files could not be tested" in text
    by_album = dialog_for(qtbot, report()).summary.text()
    assert "leaving each album out of training" in by_album
    assert "promise less" not in by_album and "could not be tested" not in by_album


def test_forget_asks_first(qtbot):
    dialog = dialog_for(qtbot, report())
    asked, forgotten = [], []
    dialog.forget_requested.connect(lambda: forgotten.append(True))
    dialog.confirm = lambda question: asked.append(question) or False
    dialog.forget_button.click()
    assert asked and not forgotten
    dialog.confirm = lambda question: asked.append(question) or True
    dialog.forget_button.click()
    assert forgotten == [True]
    assert asked[0] == ("Forget the genres learned from 57 tagged files? Suggestions then come from the bundled "
                        "vocabulary; your files are not touched.")


def test_low_agreement_says_what_would_help(qtbot):
    summary = dialog_for(qtbot, report(top1=0.2)).summary.text()
    assert "for <b>20%</b> of files (top-1 agreement)" in summary
    assert "That is low" in summary and "tag tracks on more albums of each genre and learn again" in summary
